"""The nbval tolerance check (notebooks/nbval_tolerance.py): trained numbers within their stated
tolerances pass on any CPU's kernels, a real regression (notebook 02's tau moved by 0.01) fails,
and everything else stays exact."""
import copy
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
_spec = importlib.util.spec_from_file_location("nbval_tolerance", NOTEBOOKS / "nbval_tolerance.py")
tol = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("nbval_tolerance", tol)  # the name notebooks/conftest.py imports it by
_spec.loader.exec_module(tol)

TAU = tol.Tolerances({"*kendall_tau*": tol.Tolerance(abs=0.002), "*mse*": tol.Tolerance(rel=0.01),
                      "display": tol.Tolerance(abs=0.003)})

TABLE = """    D      lr    mse  kendall_tau
0  144  0.0010  0.928        0.737
1   96  0.0010  1.017        0.722"""


def test_split_numbers_takes_decimals_and_leaves_integers_and_versions_in_the_text():
    text, numbers = tol.split_numbers("N = 172 of 19,829: tau 0.723, 91.26%, 1e-05, torch 2.13.0+cpu, 1.50x")
    assert numbers == [0.723, 91.26, 1e-05]
    assert text == "N = 172 of 19,829: tau <#>, <#>%, <#>, torch 2.13.0+cpu, 1.50x"


def test_table_numbers_within_tolerance_pass_even_when_padding_changes():
    moved = TABLE.replace("0.928", "0.930").replace("1.017", "1.0150").replace("0.722", "0.724")
    assert tol.compare_texts(TABLE, moved, TAU, "t") == []


@pytest.mark.parametrize("change", [("0.737", "0.747"),      # tau moved by 0.01
                                    ("  96", " 128"),        # an integer (a chosen setting)
                                    ("kendall_tau", "tau"),  # a column name
                                    ("0.722", "0.722  nan")])  # one number more
def test_table_changes_beyond_tolerance_or_structure_fail(change):
    assert tol.compare_texts(TABLE, TABLE.replace(*change), TAU, "t")


def test_dict_values_are_matched_by_key_path():
    stored = {"N": 172, "source": "sample", "unseen_kendall_tau": 0.7226, "cv_mse": 0.9278,
              "ranking": {"two stage": {"Kendall tau": 0.672}}, "paper": {"mse": 1.95}, "ok": True}
    fresh = copy.deepcopy(stored)
    fresh.update(unseen_kendall_tau=0.7241, cv_mse=0.9350)
    assert tol.compare_dicts(stored, fresh, TAU) == []

    for key, value in [("unseen_kendall_tau", 0.7326), ("cv_mse", 0.95), ("N", 171), ("ok", False),
                       ("source", "official")]:
        bad = {**copy.deepcopy(stored), key: value}
        [problem] = tol.compare_dicts(stored, bad, TAU)
        assert problem.startswith(f"{key}:")
    nested = copy.deepcopy(stored)
    nested["ranking"]["two stage"]["Kendall tau"] = 0.69          # no pattern: exact
    [problem] = tol.compare_dicts(stored, nested, TAU)
    assert problem.startswith("ranking.two stage.Kendall tau: stored 0.672, replay 0.69")
    assert problem.endswith("tolerance exact)")
    assert tol.compare_dicts(stored, {**stored, "new": 1}, TAU) == ["unexpected key 'new' in the replay"]


def test_parse_dict_reads_ipython_reprs_with_numpy_scalars_nan_and_paths():
    text = "{'a': np.float64(0.5),\n 'b': [1, -2.5, nan],\n 'p': PosixPath('x'), 'c': {'d': None}}"
    assert tol.parse_dict(text) == {"a": 0.5, "b": [1, -2.5, pytest.approx(float("nan"), nan_ok=True)],
                                    "p": "x", "c": {"d": None}}
    assert tol.parse_dict("PosixPath('../results/04.json')") is None
    assert tol.parse_dict("{'a': __import__('os').getcwd()}") is None


def test_tolerance_file_errors_name_the_entry(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[nb]\nx = "loose"\n')
    with pytest.raises(ValueError, match=r"\[nb\] 'x'"):
        tol.Tolerances.for_notebook("nb", path)
    path.write_text('[nb]\nx = {abs = -1}\n')
    with pytest.raises(ValueError, match=">= 0"):
        tol.Tolerances.for_notebook("nb", path)


def _results_cell(stem):
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    [cell] = [c for c in nb.cells if c.cell_type == "code" and "save_results(" in c.source]
    return cell


def test_committed_notebook_02_catches_a_tau_moved_by_0_01_and_accepts_its_own_output():
    cell = _results_cell("02_train_gcn_predictor")
    assert tol.TAG in cell.metadata.get("tags", [])
    tolerances = tol.Tolerances.for_notebook("02_train_gcn_predictor")
    stored = tol.parse_dict(cell.outputs[-1]["data"]["text/plain"])
    assert stored is not None and isinstance(stored["unseen_kendall_tau"], float)
    assert tol.compare_outputs(cell.outputs, cell.outputs, tolerances) == []
    for key in ("unseen_kendall_tau", "looks_linear_unseen_kendall_tau"):
        for delta in (-0.01, 0.01):
            moved = copy.deepcopy(cell.outputs)
            moved[-1]["data"]["text/plain"] = repr({**stored, key: stored[key] + delta})
            [problem] = tol.compare_outputs(cell.outputs, moved, tolerances)
            assert key in problem


def test_every_tolerance_pattern_matches_a_number_of_its_notebook():
    # No stale entries: a renamed key must not leave a tolerance behind that matches nothing.
    # (A float that moves with the CPU's kernels and has no pattern fails the .ci/run matrix.)
    with open(tol.TOLERANCES_FILE, "rb") as f:
        table = tol.tomllib.load(f)
    for stem, patterns in table.items():
        assert (NOTEBOOKS / f"{stem}.ipynb").exists(), stem
        keys = {tol.DISPLAY}
        for c in nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4).cells:
            if c.cell_type == "code" and tol.TAG in c.metadata.get("tags", []):
                for out in c.outputs:
                    parsed = tol.parse_dict(out.get("data", {}).get("text/plain", ""))
                    keys |= {k for k, _ in tol._flatten(parsed)} if parsed else set()
        for pattern in patterns:
            assert any(tol.fnmatch.fnmatchcase(k, pattern) for k in keys), f"{stem}: {pattern!r}"


def _notebook(tau_code, stored_tau, extra_cell=None):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(f"{{'N': 172, 'unseen_kendall_tau': {tau_code}}}")
    cell.metadata["tags"] = [tol.TAG]
    cell.execution_count = 1
    cell.outputs = [nbformat.v4.new_output("execute_result", execution_count=1,
                                           data={"text/plain": repr({"N": 172, "unseen_kendall_tau": stored_tau})})]
    nb.cells.append(cell)
    if extra_cell:
        nb.cells.append(extra_cell)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.fixture
def replay(tmp_path):
    """Replay a notebook with nbval and the repository's conftest, in a folder of its own."""
    for name in ("conftest.py", "nbval_tolerance.py"):
        shutil.copy(NOTEBOOKS / name, tmp_path / name)
    (tmp_path / "nbval_tolerances.toml").write_text('[nb]\n"*kendall_tau" = 0.002\n')
    (tmp_path / "pytest.ini").write_text("[pytest]\n")

    def run(nb):
        nbformat.write(nb, tmp_path / "nb.ipynb")
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval",
                               "--nbval-current-env", "nb.ipynb"], cwd=tmp_path, capture_output=True,
                              text=True, timeout=300)
    return run


def test_nbval_replay_passes_within_tolerance_and_fails_beyond_it_or_on_an_error(replay):
    ok = replay(_notebook("0.7226 + 0.0015", 0.7226))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    moved = replay(_notebook("0.7226 + 0.01", 0.7226))
    assert moved.returncode == 1 and "unseen_kendall_tau: stored 0.7226" in moved.stdout, moved.stdout
    error = nbformat.v4.new_code_cell("raise RuntimeError('boom')")
    error.metadata["tags"] = [tol.TAG]
    raised = replay(_notebook("0.7226", 0.7226, error))
    assert raised.returncode == 1 and "boom" in raised.stdout, raised.stdout
