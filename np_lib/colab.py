"""Colab support for the notebooks: one setup cell and one badge per notebook, made from here.

On Colab a notebook opened from GitHub runs without the clone, so each notebook
starts with a code cell that, only when ``google.colab`` is loaded, pip-installs
np_lib from :data:`REPOSITORY` and fetches the datasets that notebook needs
(:data:`NOTEBOOK_DATASETS`); anywhere else the cell does nothing and prints
nothing (nbval replays it). The first markdown cell carries an "Open in Colab"
badge. Both are generated: after changing :data:`REPOSITORY` (or a notebook's
datasets) run ``python -m np_lib.colab`` from the clone to rewrite those two
cells in every ``notebooks/NN_*.ipynb`` (nothing else in the notebooks changes).
"""
from __future__ import annotations

import sys
from pathlib import Path

# The public GitHub repository (owner/name) np_lib is published at. The single place it is
# written: the README badges, the notebooks' badges and their Colab setup cells come from it.
REPOSITORY = "OWNER/np_lib"
BRANCH = "main"

# Datasets each notebook reads (names of np_lib.datasets.REGISTRY).
NOTEBOOK_DATASETS = {
    "01_encode_graphs": ("nasbench101-sample",),
    "02_train_gcn_predictor": ("nasbench101-sample",),
    "03_two_stage_filter": ("nasbench101-sample",),
    "04_search_figure4": ("nasbench101-sample",),
    "05_n_vs_k_figure7": ("nasbench101-sample",),
    "06_latency_constrained_search": ("proxylessnas", "ofa-mbv3", "nas-bench-macro"),
    "07_nasbench201_search": ("nasbench201",),
    "08_latency_search_on_devices": ("nasbench201", "nasbench201-latency", "proxylessnas"),
    "09_bring_your_own_space": ("nas-bench-macro",),
    "10_predictor_comparison": ("nasbench101-sample", "nasbench201"),
}

CELL_MARK = "# Colab only:"
BADGE_MARK = "colab-badge.svg"


def colab_url(stem: str) -> str:
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/notebooks/{stem}.ipynb"


def badge(stem: str) -> str:
    """The Markdown "Open in Colab" badge of notebook ``stem``."""
    return f"[![Open in Colab](https://colab.research.google.com/assets/{BADGE_MARK})]({colab_url(stem)})"


def setup_cell(stem: str) -> str:
    """Source of notebook ``stem``'s first code cell (a no-op outside Colab)."""
    names = " ".join(NOTEBOOK_DATASETS[stem])
    return (
        f"{CELL_MARK} install np_lib and fetch this notebook's data. Elsewhere it does nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    NP_LIB_REPOSITORY = "https://github.com/{REPOSITORY}"  # set in np_lib/colab.py\n'
        f"    !pip install -q \"np_lib @ git+$NP_LIB_REPOSITORY@{BRANCH}\"\n"
        f"    !python -m np_lib fetch {names}"
    )


def update(notebooks_dir: str | Path) -> list[Path]:
    """Insert or refresh the setup cell and the badge in every ``NN_*.ipynb`` of ``notebooks_dir``."""
    import nbformat

    changed = []
    for path in sorted(Path(notebooks_dir).glob("[0-9][0-9]_*.ipynb")):
        stem = path.stem
        if stem not in NOTEBOOK_DATASETS:
            raise KeyError(f"{path.name}: add its datasets to NOTEBOOK_DATASETS in {__file__}")
        nb = nbformat.read(path, as_version=4)
        before = nbformat.writes(nb)
        code = [c for c in nb.cells if c.cell_type == "code"]
        if code and code[0].source.startswith(CELL_MARK):
            code[0].source = setup_cell(stem)
        else:
            cell = nbformat.v4.new_code_cell(setup_cell(stem))
            cell.execution_count, cell.outputs = None, []
            first_code = nb.cells.index(code[0]) if code else len(nb.cells)
            # After the title cell, before the parameters: papermill injects after those.
            nb.cells.insert(min(1, first_code), cell)
        title = next(c for c in nb.cells if c.cell_type == "markdown")
        lines = [line for line in title.source.splitlines() if BADGE_MARK not in line]
        rest = "\n".join(lines[1:]).lstrip("\n")
        title.source = f"{lines[0]}\n\n{badge(stem)}" + (f"\n\n{rest}" if rest else "")
        nbformat.validator.normalize(nb)
        if nbformat.writes(nb) != before:
            nbformat.write(nb, path)
            changed.append(path)
    return changed


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "notebooks"
    for p in update(folder):
        print(f"updated {p}")
