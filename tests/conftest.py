"""Shared pytest set-up for np_lib's unit tests.

Fixtures:
  repo_root      the clone's root folder
  data_dir       np_lib.storage.data_dir() (NP_LIB_DATA_DIR, else the clone's data/)
  sample_csv     the 20,001-cell NAS-Bench-101 sample; the test is skipped without it
  sample_table   the sample as a DataFrame
  tmp_cache_dir  a fresh NP_LIB_CACHE_DIR for one test
  nasbench201    NAS-Bench-201 loaded (np_lib.nasbench201.load); skipped without its files
"""
from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def data_dir() -> Path:
    from np_lib.storage import data_dir as resolve

    return resolve()


@pytest.fixture(scope="session")
def sample_csv(data_dir: Path) -> Path:
    path = data_dir / "nasbench101" / "nasbench101_sample20k.csv"
    if not path.is_file():
        pytest.skip(f"NAS-Bench-101 sample not found at {path}; set NP_LIB_DATA_DIR (data/README.md)")
    return path


@pytest.fixture
def tmp_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "cache"
    monkeypatch.setenv("NP_LIB_CACHE_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def sample_table(sample_csv: Path):
    """The sample as a DataFrame (adjacency read as text: it starts with a 0)."""
    import pandas as pd

    return pd.read_csv(sample_csv, dtype={"module_adjacency": str})


@pytest.fixture(scope="session")
def nasbench201():
    """NAS-Bench-201 loaded from the data directory; the test is skipped without its files."""
    import np_lib.nasbench201 as nb
    from np_lib.datasets import DatasetMissing

    try:
        return nb.load()
    except DatasetMissing as e:
        pytest.skip(f"NAS-Bench-201 data not found ({e}); set NP_LIB_DATA_DIR")
