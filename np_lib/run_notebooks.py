"""Run the notebook series end to end: ``python -m np_lib run-notebooks``.

Every ``notebooks/NN_*.ipynb`` is executed in order with papermill, with the
notebooks folder as working directory. The executed copy goes to
``<results_dir>/NN_*.ipynb``; the notebooks themselves write
``<results_dir>/<stem>.json`` and ``<results_dir>/figures/``.

Each notebook receives the parameters ``results_dir`` (absolute path) and
``data_dir`` (``np_lib.storage.data_dir()``), plus any extra ones given with
``-p key value``. The run stops at the first failing notebook and says which
notebook and which cell failed.
"""
from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Mapping

NOTEBOOK_PATTERN = re.compile(r"^(\d\d)_.+\.ipynb$")


class NotebookFailed(RuntimeError):
    """A notebook raised an error; the message names the notebook and the cell."""

    def __init__(self, notebook: Path, message: str, output: Path | None = None):
        self.notebook = Path(notebook)
        self.output = output
        super().__init__(message)


@dataclass
class NotebookRun:
    notebook: Path
    output: Path
    seconds: float


def default_notebooks_dir() -> Path:
    """``notebooks/`` of the clone np_lib was installed from, else ``./notebooks``."""
    repo_notebooks = Path(__file__).resolve().parents[1] / "notebooks"
    if repo_notebooks.is_dir():
        return repo_notebooks
    return (Path.cwd() / "notebooks").resolve()


def discover(notebooks_dir: str | Path, only: Iterable[str] | None = None) -> list[Path]:
    """The ``NN_*.ipynb`` notebooks of ``notebooks_dir`` in order.

    ``only`` selects by number (``"01"``, ``"1"``) or by stem
    (``"01_encode_graphs"``); a selector that matches nothing is an error.
    """
    notebooks_dir = Path(notebooks_dir)
    if not notebooks_dir.is_dir():
        raise FileNotFoundError(f"no notebooks folder at {notebooks_dir}")
    found = sorted(p for p in notebooks_dir.iterdir() if NOTEBOOK_PATTERN.match(p.name))
    if only is None:
        return found
    wanted = [s.strip() for s in only if s.strip()]
    chosen = []
    for sel in wanted:
        key = sel.removesuffix(".ipynb")
        matches = [p for p in found
                   if p.stem == key or (key.isdigit() and int(key) == int(p.name[:2]))]
        if not matches:
            names = ", ".join(p.name for p in found) or "none"
            raise ValueError(f"--only {sel!r} matches no notebook in {notebooks_dir} "
                             f"(found: {names})")
        chosen.extend(m for m in matches if m not in chosen)
    return sorted(chosen)


def parse_value(text: str):
    """Type a ``-p key value`` value the way papermill's CLI does: bool, None, int, float, else str."""
    if text in ("True", "true"):
        return True
    if text in ("False", "false"):
        return False
    if text in ("None", "none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _failed_cell(notebook: Path, error) -> str:
    """'cell 5 (In [4]): `first line`' for a papermill execution error."""
    import nbformat

    where = f"cell {error.cell_index + 1}"
    try:  # number the cell as in the source notebook (papermill may have injected one)
        cells = nbformat.read(notebook, as_version=4).cells
        where = f"cell {[c.source for c in cells].index(error.source) + 1}"
    except (ValueError, OSError):
        pass
    if error.exec_count is not None:
        where += f" (In [{error.exec_count}])"
    first = next((line for line in str(error.source).splitlines() if line.strip()), "")
    if first:
        where += f": `{first.strip()[:80]}`"
    return where


def run_notebook(notebook: Path, output: Path, parameters: Mapping, kernel: str = "python3",
                 cwd: Path | None = None, log_output: bool = False) -> None:
    """Execute one notebook with papermill; raise NotebookFailed naming the cell on error."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    try:
        pm.execute_notebook(
            str(notebook), str(output), parameters=dict(parameters), kernel_name=kernel,
            cwd=str(cwd or notebook.parent), progress_bar=False, log_output=log_output,
        )
    except PapermillExecutionError as e:
        raise NotebookFailed(
            notebook,
            f"{notebook.name} failed in {_failed_cell(notebook, e)}\n"
            f"  {e.ename}: {e.evalue}\n  executed copy with the traceback: {output}",
            output) from None


def run_notebooks(notebooks_dir: str | Path | None = None,
                  results_dir: str | Path | None = None,
                  only: Iterable[str] | None = None,
                  parameters: Mapping | None = None,
                  kernel: str = "python3",
                  log: Callable[[str], None] | None = None,
                  log_output: bool = False) -> list[NotebookRun]:
    """Execute the notebook series in order; see the module docstring.

    ``results_dir`` defaults to ``results/`` beside the notebooks folder.
    Raises NotebookFailed at the first failure, FileNotFoundError or
    ValueError when there is nothing (or nothing selected) to run.
    """
    from np_lib import storage

    log = log or (lambda line: print(line, flush=True))
    notebooks_dir = Path(notebooks_dir or default_notebooks_dir()).resolve()
    results = Path(results_dir or notebooks_dir.parent / "results").expanduser().resolve()
    notebooks = discover(notebooks_dir, only)
    if not notebooks:
        raise FileNotFoundError(f"no NN_*.ipynb notebooks in {notebooks_dir}")
    results.mkdir(parents=True, exist_ok=True)
    params = {"results_dir": str(results), "data_dir": str(storage.data_dir())}
    params.update(parameters or {})

    log(f"running {len(notebooks)} notebook(s) from {notebooks_dir} into {results}")
    runs = []
    for i, nb in enumerate(notebooks, 1):
        out = results / nb.name
        log(f"[{i}/{len(notebooks)}] {nb.name} ...")
        start = time.perf_counter()
        try:
            run_notebook(nb, out, params, kernel=kernel, cwd=notebooks_dir, log_output=log_output)
        except NotebookFailed:
            log(f"[{i}/{len(notebooks)}] {nb.name} FAILED after {_fmt(time.perf_counter() - start)}")
            raise
        seconds = time.perf_counter() - start
        log(f"[{i}/{len(notebooks)}] {nb.name} ok in {_fmt(seconds)}")
        runs.append(NotebookRun(nb, out, seconds))
    log(f"all {len(runs)} notebook(s) ran in {_fmt(sum(r.seconds for r in runs))}")
    return runs


def _fmt(seconds: float) -> str:
    minutes, s = divmod(seconds, 60)
    return f"{int(minutes)} min {s:04.1f} s" if minutes else f"{s:.1f} s"


def main(args) -> int:
    """Entry point for the parsed ``run-notebooks`` arguments; returns the exit code."""
    extra = {key: parse_value(value) for key, value in (args.parameters or [])}
    only = args.only.split(",") if args.only else None
    try:
        run_notebooks(args.notebooks_dir, args.results_dir, only, extra, kernel=args.kernel,
                      log_output=args.log_output)
    except NotebookFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
