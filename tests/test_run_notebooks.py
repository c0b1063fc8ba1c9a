"""The notebook runner (np_lib.run_notebooks) and the nbval sanitisation rules."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from np_lib import run_notebooks as rn
from np_lib.__main__ import build_parser

REPO_ROOT = Path(__file__).resolve().parents[1]

PARAMS = 'results_dir = None\ndata_dir = None\nextra = "default"'
WRITE_JSON = """\
import json, os, pathlib
pathlib.Path(results_dir, "01_tiny.json").write_text(json.dumps(
    {"results_dir": results_dir, "data_dir": data_dir, "extra": extra, "cwd": os.getcwd()}))
"""


def _notebook(path: Path, *sources: str) -> None:
    cells = [new_code_cell(PARAMS, metadata={"tags": ["parameters"]})]
    cells += [new_code_cell(s) for s in sources]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture
def notebooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A notebooks folder: 01 writes a json, 02 fails in its third cell, scratch is not NN_."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    _notebook(folder / "01_tiny.ipynb", WRITE_JSON)
    _notebook(folder / "02_boom.ipynb", "x = 1", 'raise ValueError("boom")')
    _notebook(folder / "scratch.ipynb", "pass")
    monkeypatch.setenv("NP_LIB_DATA_DIR", str(tmp_path / "data"))
    return folder


def test_discover_orders_and_selects(notebooks: Path):
    assert [p.name for p in rn.discover(notebooks)] == ["01_tiny.ipynb", "02_boom.ipynb"]
    assert [p.name for p in rn.discover(notebooks, ["2"])] == ["02_boom.ipynb"]
    assert [p.name for p in rn.discover(notebooks, ["02", "01_tiny", "1"])] == \
        ["01_tiny.ipynb", "02_boom.ipynb"]
    with pytest.raises(ValueError, match="03"):
        rn.discover(notebooks, ["03"])
    with pytest.raises(FileNotFoundError):
        rn.discover(notebooks / "missing")


def test_parse_value_types_like_papermill():
    assert [rn.parse_value(v) for v in ["3", "0.5", "True", "false", "None", "01_x"]] == \
        [3, 0.5, True, False, None, "01_x"]


def test_run_passes_parameters_and_cwd(notebooks: Path, tmp_path: Path):
    results = tmp_path / "out" / "results"
    lines: list[str] = []
    runs = rn.run_notebooks(notebooks, results, only=["01"], parameters={"extra": 7},
                            log=lines.append)
    assert [r.output for r in runs] == [results / "01_tiny.ipynb"]
    written = json.loads((results / "01_tiny.json").read_text())
    assert written == {"results_dir": str(results.resolve()),
                       "data_dir": str((tmp_path / "data").resolve()),
                       "extra": 7, "cwd": str(notebooks.resolve())}
    executed = nbformat.read(results / "01_tiny.ipynb", as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    assert any(line.startswith("[1/1] 01_tiny.ipynb ok in") for line in lines)


def test_cli_failure_names_notebook_and_cell(notebooks: Path, tmp_path: Path):
    results = tmp_path / "results"
    proc = subprocess.run(
        [sys.executable, "-m", "np_lib", "run-notebooks", "--notebooks-dir", str(notebooks),
         "--results-dir", str(results), "-p", "extra", "hello"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "[1/2] 01_tiny.ipynb ok in" in proc.stdout
    assert "[2/2] 02_boom.ipynb FAILED" in proc.stdout
    assert '02_boom.ipynb failed in cell 3 (In [4]): `raise ValueError("boom")`' in proc.stderr
    assert "ValueError: boom" in proc.stderr
    assert json.loads((results / "01_tiny.json").read_text())["extra"] == "hello"
    assert f"executed copy with the traceback: {results / '02_boom.failed.ipynb'}" in proc.stderr
    assert (results / "02_boom.failed.ipynb").is_file() and not (results / "02_boom.ipynb").exists()
    assert sorted(p.name for p in results.iterdir()) == ["01_tiny.ipynb", "01_tiny.json", "02_boom.failed.ipynb"]


def test_cli_bad_selection_exits_2(notebooks: Path, capsys: pytest.CaptureFixture):
    from np_lib.__main__ import main

    assert main(["run-notebooks", "--notebooks-dir", str(notebooks), "--only", "09"]) == 2
    assert "matches no notebook" in capsys.readouterr().err


def test_parser_defaults():
    args = build_parser().parse_args(["run-notebooks", "-p", "a", "1", "-p", "b", "x"])
    assert args.kernel == "python3" and args.results_dir is None and args.only is None
    assert args.parameters == [["a", "1"], ["b", "x"]]


def test_console_script_declared():
    try:
        scripts = metadata.distribution("np_lib").entry_points
    except metadata.PackageNotFoundError:
        pytest.skip("np_lib is not pip-installed here")
    assert {(e.name, e.value) for e in scripts if e.group == "console_scripts"} >= \
        {("np-lib", "np_lib.__main__:main")}


def test_nbval_sanitize_rules_mask_volatile_output():
    from nbval.plugin import get_sanitize_patterns

    rules = get_sanitize_patterns((REPO_ROOT / "notebooks" / "nbval_sanitize.cfg").read_text())
    assert len(rules) >= 8

    def clean(text: str) -> str:
        for regex, replace in rules:
            text = re.sub(regex, replace, text)
        return text

    assert clean("wrote /work/main/results/01_x.json") == "wrote <PATH>"
    assert clean("see https://arxiv.org/abs/1912.00848 and results/figures/a.png") == \
        "see https://arxiv.org/abs/1912.00848 and results/figures/a.png"
    assert clean("<function f at 0x7f3a2b1c9d30>") == "<function f at 0xADDR>"
    assert clean("Wall time: 1.23 s\nCPU times: user 12 ms, sys: 266 μs, total: 1 µs") == \
        "Wall time: <TIME>\nCPU times: user <TIME>, sys: <TIME>, total: <TIME>"
    assert clean("took 0:01:02 on 2024-05-01 12:00:03.5") == "took <TIME> on <DATETIME>"
    assert clean("train: 100%|██████████| 50/50 [00:03<00:00, 14.2it/s]\nloss 0.31") == \
        "<PROGRESS>\nloss 0.31"
    assert clean("1234it [00:01, 987.6it/s]") == "<PROGRESS>"
    assert clean("peak memory 812.4 MiB") == "peak memory <SIZE>"
    # numbers that are results, not timings, survive
    assert clean("Kendall tau 0.712 on 5 samples, N=172") == "Kendall tau 0.712 on 5 samples, N=172"


# --- a failing run never destroys good results (issue 14, item 6) ---------------------------------------------------

FAIL_AFTER_JSON = WRITE_JSON + """
if extra == "fail":
    raise RuntimeError("failed after writing its JSON")
"""


def test_a_failing_rerun_keeps_the_last_good_notebook_and_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NP_LIB_DATA_DIR", str(tmp_path / "data"))
    folder, results = tmp_path / "notebooks", tmp_path / "results"
    folder.mkdir()
    _notebook(folder / "01_tiny.ipynb", FAIL_AFTER_JSON)
    rn.run_notebooks(folder, results, parameters={"extra": "good"}, log=lambda line: None)
    good_notebook, good_json = (results / "01_tiny.ipynb").read_bytes(), (results / "01_tiny.json").read_bytes()
    with pytest.raises(rn.NotebookFailed) as failure:
        rn.run_notebooks(folder, results, parameters={"extra": "fail"}, log=lambda line: None)
    message = str(failure.value)
    assert f"executed copy with the traceback: {results / '01_tiny.failed.ipynb'}" in message
    assert "01_tiny.ipynb is unchanged" in message
    assert f"its results JSON moved to {results / '01_tiny.failed.json'}" in message
    assert (results / "01_tiny.ipynb").read_bytes() == good_notebook
    assert (results / "01_tiny.json").read_bytes() == good_json
    assert json.loads((results / "01_tiny.failed.json").read_text())["extra"] == "fail"
    failed = nbformat.read(results / "01_tiny.failed.ipynb", as_version=4)
    assert any("failed after writing its JSON" in str(c.get("outputs")) for c in failed.cells)
    assert sorted(p.name for p in results.iterdir()) == ["01_tiny.failed.ipynb", "01_tiny.failed.json",
                                                          "01_tiny.ipynb", "01_tiny.json"]  # no temporary file left


def test_a_first_run_that_fails_leaves_no_results_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NP_LIB_DATA_DIR", str(tmp_path / "data"))
    folder, results = tmp_path / "notebooks", tmp_path / "results"
    folder.mkdir()
    _notebook(folder / "01_tiny.ipynb", FAIL_AFTER_JSON)
    with pytest.raises(rn.NotebookFailed):
        rn.run_notebooks(folder, results, parameters={"extra": "fail"}, log=lambda line: None)
    assert sorted(p.name for p in results.iterdir()) == ["01_tiny.failed.ipynb", "01_tiny.failed.json"]


def test_cli_empty_only_is_an_error(notebooks: Path, capsys: pytest.CaptureFixture):
    from np_lib.__main__ import main

    assert main(["run-notebooks", "--notebooks-dir", str(notebooks), "--only", ""]) == 2
    assert "--only needs at least one notebook" in capsys.readouterr().err
    assert main(["run-notebooks", "--notebooks-dir", str(notebooks), "--only", " , "]) == 2


def test_cli_unknown_parameter_is_an_error_listing_the_parameters(notebooks: Path, tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture):
    from np_lib.__main__ import main

    results = tmp_path / "results"
    assert main(["run-notebooks", "--notebooks-dir", str(notebooks), "--results-dir", str(results),
                 "-p", "sedd", "3"]) == 2
    err = capsys.readouterr().err
    assert "unknown parameter 'sedd': no selected notebook declares it in its parameters cell" in err
    assert "  01_tiny.ipynb: results_dir, data_dir, extra" in err
    assert not results.exists()  # refused before anything ran
    assert rn.check_parameters(rn.discover(notebooks), {"extra": 1}) == \
        {notebooks / "01_tiny.ipynb": {"extra": 1}, notebooks / "02_boom.ipynb": {"extra": 1}}


def test_cli_unwritable_results_directory_is_a_one_line_error(notebooks: Path, tmp_path: Path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    proc = subprocess.run(
        [sys.executable, "-m", "np_lib", "run-notebooks", "--notebooks-dir", str(notebooks),
         "--results-dir", str(blocker / "results"), "--only", "01"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [f"error: cannot write to the results directory {blocker / 'results'} "
                                        "(Not a directory); pass --results-dir DIR"]


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere")
def test_read_only_results_directory_is_refused_before_running(notebooks: Path, tmp_path: Path):
    results = tmp_path / "results"
    results.mkdir()
    results.chmod(0o555)
    try:
        with pytest.raises(PermissionError, match="cannot write to the results directory"):
            rn.run_notebooks(notebooks, results, only=["01"], log=lambda line: None)
    finally:
        results.chmod(0o755)
