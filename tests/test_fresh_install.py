"""A new user's first run: install np_lib from git (not editable), fetch, run a notebook.

Issue 11 section 3: a fresh virtual environment gets np_lib from a
``git+file://`` URL of this clone, so what is tested is the committed HEAD
(uncommitted work in the tree is not in it). Notebook 01 is copied to a folder
outside the repository; the data files are served from 127.0.0.1 laid out as
``HOST/PATH`` and reached through ``NP_LIB_MIRROR``; the data directory starts
empty. The notebook's own Colab set-up line (``python -m np_lib fetch ...``)
fetches what it needs, then papermill runs it to the end.

Slow (a venv, two pip installs, one notebook), so it runs only with
``NP_LIB_FRESH_INSTALL=1``, which ``.ci/run`` sets. pip reuses its cache and the
machine's local wheels (torch==2.13.0 is installed first, from a local file).
The enumerated-space cache is ``NP_LIB_CACHE_DIR`` when set (CI's), so the test
times the install, fetch and run rather than a one-minute enumeration.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from np_lib import colab, datasets

from test_datasets import MirrorServer  # tests/ is on sys.path (pytest rootdir-relative imports)

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = "01_encode_graphs"

pytestmark = pytest.mark.skipif(os.environ.get("NP_LIB_FRESH_INSTALL") != "1",
                                reason="slow: set NP_LIB_FRESH_INSTALL=1 (.ci/run does)")


def _run(args, **kwargs):
    done = subprocess.run(args, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{args[:4]} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_install_from_git_fetch_through_a_mirror_and_run_a_notebook(tmp_path):
    source = Path(os.environ.get("NP_LIB_DATA_DIR", REPO / "data"))
    needed = colab.NOTEBOOK_DATASETS[NOTEBOOK]
    if any(s.state != "verified" for s in datasets.status(source, needed)):
        pytest.skip(f"the files of {needed} are not all in {source}")
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("needs git and a clone")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], timeout=300)
    python = str(venv / "bin" / "python")
    # --no-compile: byte-compiling torch's ~10,000 modules at install is a minute of CPU the
    # test does not need (they compile on import, only those imported).
    pip = [python, "-m", "pip", "install", "-q", "--no-compile"]
    _run(pip + ["torch==2.13.0"], timeout=600)  # first, as README says: pip then keeps this build
    _run(pip + [f"git+{REPO.as_uri()}"], timeout=900)
    # Not editable: the package is in the venv's site-packages, not this clone.
    where = _run([python, "-c", "import np_lib; print(np_lib.__file__)"], cwd=tmp_path).stdout.strip()
    assert where.startswith(str(venv)), where

    work = tmp_path / "outside"
    work.mkdir()
    shutil.copy(REPO / "notebooks" / f"{NOTEBOOK}.ipynb", work)
    data = tmp_path / "empty-data"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NP_LIB_DATA_DIR", "VIRTUAL_ENV"))}
    env.update(NP_LIB_DATA_DIR=str(data), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")

    server = MirrorServer(tmp_path / "mirror")
    try:
        datasets.build_mirror(source, tmp_path / "mirror", needed)
        env["NP_LIB_MIRROR"] = server.url
        # The notebook's own set-up line, as Colab runs it.
        cell = nbformat.read(work / f"{NOTEBOOK}.ipynb", as_version=4).cells[1].source
        fetch = re.search(r"!python (-m np_lib fetch .+)", cell).group(1).split()
        done = _run([python, *fetch], cwd=work, env=env, timeout=300)
        assert f"{sum(len(datasets.REGISTRY[n].files) for n in needed)} files" in done.stdout
        assert len(server.requests) == sum(len(datasets.REGISTRY[n].files) for n in needed)
    finally:
        server.close()
    for name in needed:
        for f in datasets.REGISTRY[name].files:
            assert (data / f.path).read_bytes() == (source / f.path).read_bytes()

    out = tmp_path / "results"
    out.mkdir()
    _run([python, "-m", "papermill", f"{NOTEBOOK}.ipynb", str(out / f"{NOTEBOOK}.ipynb"), "-k", "python3",
          "-p", "results_dir", str(out), "-p", "data_dir", str(data)], cwd=work, env=env, timeout=900)
    assert (out / f"{NOTEBOOK}.json").is_file()
