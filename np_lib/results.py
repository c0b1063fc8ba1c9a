"""The notebooks' output convention: key numbers as JSON, figures as files.

Every notebook ends by calling :func:`save_results`, which writes
``results_dir/<notebook stem>.json``; figures go to ``results_dir/figures/``
through :func:`save_figure`. The JSON holds the same numbers nbval checks in the
committed notebook, so a batch run (papermill) and the notebook agree.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .storage import atomic_path


def _plain(value):
    # numpy scalars/arrays and NaN are not JSON: convert, and write NaN as null.
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def save_results(results: dict, results_dir: str | Path, name: str) -> Path:
    """Write ``results`` to ``results_dir/name.json`` atomically and return the path."""
    path = Path(results_dir) / f"{name}.json"
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_plain(results), indent=2, sort_keys=True) + "\n")
    return path


def save_figure(fig, results_dir: str | Path, name: str) -> Path:
    """Save a matplotlib figure as ``results_dir/figures/name.png`` (150 dpi)."""
    path = Path(results_dir) / "figures" / f"{name}.png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=150, bbox_inches="tight", format="png")
    return path
