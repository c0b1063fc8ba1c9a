"""Run the notebook series end to end: ``python -m np_lib run-notebooks``.

Every ``notebooks/NN_*.ipynb`` is executed in order with papermill, with the
notebooks folder as working directory. The executed copy goes to
``<results_dir>/NN_*.ipynb``; the notebooks themselves write
``<results_dir>/<stem>.json`` and ``<results_dir>/figures/``.

Each notebook receives the parameters ``results_dir`` (absolute path) and
``data_dir`` (``np_lib.storage.data_dir()``), plus any extra ones given with
``-p key value``. The run stops at the first failing notebook and says which
notebook and which cell failed.

A failing run never destroys good results (issue 14, item 6). A notebook is
executed into a temporary file beside its output and moved into place only
on success; a failed execution is kept as ``<results_dir>/NN_*.failed.ipynb``
(the error names it), and ``<results_dir>/NN_*.ipynb`` stays the last
successful one. The same holds for the results JSON a notebook writes
(``<results_dir>/<stem>.json``): if a failing run changed it, its version
moves to ``<stem>.failed.json`` and the previous file is put back (or none,
if there was none), so ``<stem>.json`` always belongs to ``<stem>.ipynb``.
Figures are not restored. A parameter (``-p``) that no selected notebook
declares in its ``parameters`` cell is an error listing the parameters there
are, as is an empty ``--only`` or a results directory that cannot be written.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
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
    if not wanted:
        raise ValueError("--only needs at least one notebook number or name, e.g. --only 01,02 "
                         "(leave it out to run every notebook)")
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


def notebook_parameters(notebook: Path) -> list[str]:
    """The names assigned in the notebook's ``parameters``-tagged cell (papermill's reading of it)."""
    import papermill as pm

    return list(pm.inspect_notebook(str(notebook)))


def check_parameters(notebooks: list[Path], parameters: Mapping) -> dict[Path, dict]:
    """Per notebook, the extra ``parameters`` it declares; a name no notebook declares is a ValueError.

    papermill would inject any name silently, so a typo (``-p sedd 3``) would
    run the whole series with the default seed. A name that only some of the
    selected notebooks declare goes to those only.
    """
    declared = {nb: notebook_parameters(nb) for nb in notebooks}
    unknown = [name for name in parameters if not any(name in names for names in declared.values())]
    if unknown:
        listing = "\n".join(f"  {nb.name}: {', '.join(names) or '(no parameters cell)'}"
                             for nb, names in declared.items())
        raise ValueError(f"unknown parameter{'s' * (len(unknown) > 1)} {', '.join(map(repr, unknown))}: "
                         f"no selected notebook declares {'them' if len(unknown) > 1 else 'it'} in its "
                         f"parameters cell. Their parameters:\n{listing}")
    return {nb: {k: v for k, v in parameters.items() if k in names} for nb, names in declared.items()}


def failed_copy(output: Path) -> Path:
    """Where the executed copy of a failed run goes: ``NN_name.failed.ipynb`` beside ``output``."""
    return output.with_name(f"{output.stem}.failed{output.suffix}")


def run_notebook(notebook: Path, output: Path, parameters: Mapping, kernel: str = "python3",
                 cwd: Path | None = None, log_output: bool = False) -> None:
    """Execute one notebook with papermill into ``output``; raise NotebookFailed naming the cell on error.

    The execution goes to a temporary file beside ``output``, moved onto it
    only on success: on failure (or Ctrl-C) ``output`` is left as it was and
    the executed copy goes to :func:`failed_copy` ``(output)``.
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    fd, name = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".running.ipynb", dir=output.parent)
    os.close(fd)
    running = Path(name)
    try:
        pm.execute_notebook(
            str(notebook), str(running), parameters=dict(parameters), kernel_name=kernel,
            cwd=str(cwd or notebook.parent), progress_bar=False, log_output=log_output,
        )
    except PapermillExecutionError as e:
        failed = _keep_failed(running, output)
        raise NotebookFailed(
            notebook,
            f"{notebook.name} failed in {_failed_cell(notebook, e)}\n"
            f"  {e.ename}: {e.evalue}\n  executed copy with the traceback: {failed}\n"
            f"  {output.name} is unchanged (the last successful run, if any)",
            failed) from None
    except BaseException:
        _keep_failed(running, output)
        raise
    os.replace(running, output)


def _keep_failed(running: Path, output: Path) -> Path:
    failed = failed_copy(output)
    if running.exists() and running.stat().st_size:
        os.replace(running, failed)
    else:  # papermill failed before writing anything (say, an unknown kernel)
        running.unlink(missing_ok=True)
    return failed


class _ResultsJSON:
    """``results/<stem>.json`` as it was before a notebook ran, to put back if the run fails."""

    def __init__(self, path: Path):
        self.path = path
        self.before = path.read_bytes() if path.is_file() else None

    def restore(self) -> str:
        """Undo a failed run's change to the file; a note saying what happened ('' if it did not change it)."""
        now = self.path.read_bytes() if self.path.is_file() else None
        if now == self.before:
            return ""
        failed = failed_copy(self.path)
        os.replace(self.path, failed)
        if self.before is not None:
            from np_lib.storage import atomic_path

            with atomic_path(self.path) as tmp:
                tmp.write_bytes(self.before)
            return f"\n  its results JSON moved to {failed}; {self.path.name} is the last successful run's again"
        return f"\n  its results JSON moved to {failed}"


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
    extra = check_parameters(notebooks, parameters or {})
    _check_writable(results)
    params = {"results_dir": str(results), "data_dir": str(storage.data_dir())}

    log(f"running {len(notebooks)} notebook(s) from {notebooks_dir} into {results}")
    runs = []
    for i, nb in enumerate(notebooks, 1):
        out = results / nb.name
        log(f"[{i}/{len(notebooks)}] {nb.name} ...")
        start = time.perf_counter()
        skipped = sorted(set(parameters or {}) - set(extra[nb]))
        if skipped:
            log(f"  {nb.name} has no parameter {', '.join(skipped)}: not passed to it")
        results_json = _ResultsJSON(results / f"{nb.stem}.json")
        try:
            run_notebook(nb, out, {**params, **extra[nb]}, kernel=kernel, cwd=notebooks_dir, log_output=log_output)
        except BaseException as e:
            note = results_json.restore()
            log(f"[{i}/{len(notebooks)}] {nb.name} FAILED after {_fmt(time.perf_counter() - start)}")
            if isinstance(e, NotebookFailed):
                raise NotebookFailed(e.notebook, str(e) + note, e.output) from None
            raise
        seconds = time.perf_counter() - start
        log(f"[{i}/{len(notebooks)}] {nb.name} ok in {_fmt(seconds)}")
        runs.append(NotebookRun(nb, out, seconds))
    log(f"all {len(runs)} notebook(s) ran in {_fmt(sum(r.seconds for r in runs))}")
    return runs


def _check_writable(results: Path) -> None:
    try:
        results.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=results):
            pass
    except OSError as e:
        raise PermissionError(f"cannot write to the results directory {results} "
                              f"({e.strerror or type(e).__name__}); pass --results-dir DIR") from None


def _fmt(seconds: float) -> str:
    minutes, s = divmod(seconds, 60)
    return f"{int(minutes)} min {s:04.1f} s" if minutes else f"{s:.1f} s"


def main(args) -> int:
    """Entry point for the parsed ``run-notebooks`` arguments; returns the exit code."""
    extra = {key: parse_value(value) for key, value in (args.parameters or [])}
    only = args.only.split(",") if args.only is not None else None  # --only "" is an error, not "all"
    try:
        run_notebooks(args.notebooks_dir, args.results_dir, only, extra, kernel=args.kernel,
                      log_output=args.log_output)
    except NotebookFailed as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as e:  # nothing (selected) to run, bad parameters, unwritable results
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0
