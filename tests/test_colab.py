"""The notebooks' Colab setup cell and badge: generated from np_lib.colab, inert outside Colab."""
import contextlib
import io
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from np_lib import colab
from np_lib.datasets import REGISTRY

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
STEMS = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def test_every_notebook_is_listed_and_up_to_date(tmp_path):
    assert STEMS and set(STEMS) <= set(colab.NOTEBOOK_DATASETS)  # a new notebook must be listed
    assert all(n in REGISTRY for names in colab.NOTEBOOK_DATASETS.values() for n in names)
    for stem in STEMS:
        shutil.copy(NOTEBOOKS / f"{stem}.ipynb", tmp_path)
    assert colab.update(tmp_path) == []  # regenerating changes nothing: run `python -m np_lib.colab`


@pytest.mark.parametrize("stem", STEMS)
def test_first_code_cell_and_badge(stem):
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[0].source == colab.setup_cell(stem) and code[0].outputs == []
    assert "parameters" not in code[0].metadata.get("tags", [])
    title = next(c for c in nb.cells if c.cell_type == "markdown")
    assert colab.badge(stem) in title.source and colab.colab_url(stem).endswith(f"/notebooks/{stem}.ipynb")


class FakeShell:
    def __init__(self):
        self.commands = []

    def system(self, command):
        self.commands.append(command)

    def var_expand(self, command, depth=0):
        return command


def _run(source, shell):
    python = TransformerManager().transform_cell(source)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        exec(python, {"get_ipython": lambda: shell})
    return out.getvalue()


@pytest.mark.parametrize("stem", ["01_encode_graphs", "06_latency_constrained_search"])
def test_outside_colab_the_cell_does_nothing_and_prints_nothing(stem):
    assert "google.colab" not in sys.modules
    shell = FakeShell()
    assert _run(colab.setup_cell(stem), shell) == "" and shell.commands == []


def test_on_colab_it_installs_and_fetches_the_notebooks_datasets(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))
    shell = FakeShell()
    _run(colab.setup_cell("06_latency_constrained_search"), shell)
    assert shell.commands == [
        'pip install -q "np_lib @ git+$NP_LIB_REPOSITORY@main"',
        "python -m np_lib fetch proxylessnas ofa-mbv3 nas-bench-macro"]


def test_readme_badges_name_the_same_repository():
    readme = (NOTEBOOKS.parent / "README.md").read_text()
    assert all(colab.badge(stem) in readme for stem in STEMS), "a notebook row in README lacks its badge"
    assert f"https://mybinder.org/v2/gh/{colab.REPOSITORY}/{colab.BRANCH}" in readme


def test_registry_names_the_notebooks_that_use_each_dataset():
    # The registry's used_by (shown by `python -m np_lib datasets` and README) must agree with
    # what each notebook's Colab cell fetches; it had drifted (Macro listed as notebook 08's).
    from np_lib.colab import NOTEBOOK_DATASETS
    from np_lib.datasets import REGISTRY

    for notebook, names in NOTEBOOK_DATASETS.items():
        for name in names:
            used = " ".join(REGISTRY[name].used_by)
            assert notebook[:2] in used, f"{name}: used_by {REGISTRY[name].used_by} omits notebook {notebook}"
