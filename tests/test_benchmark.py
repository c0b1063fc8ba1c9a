"""Loading NAS-Bench-101 (official files via the Parquet cache, or the 20k sample) and simulated training."""
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from np_lib.nasbench101 import benchmark, official
from np_lib.nasbench101.cell import Cell, CellArray
from np_lib.nasbench101.space import random_cell

FULL = (4, 12, 36, 108)


def real_cells(n: int) -> CellArray:
    cells = {}
    for k in range(1000):
        cell = random_cell(k)
        cells.setdefault(cell.hash, cell)
        if len(cells) == n:
            return CellArray.from_cells(cells.values())
    raise AssertionError("too few distinct cells")


def many_cells(n: int) -> CellArray:
    """``n`` distinct real cells (a loader checks every graph against its hash): a pool for statistics."""
    cells = {}
    for k in range(20 * n):
        cell = random_cell(10_000 + k)
        cells.setdefault(cell.hash, cell)
        if len(cells) == n:
            return CellArray.from_cells(cells.values())
    raise AssertionError("too few distinct cells")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("NP_LIB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("NP_LIB_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="module")
def cells():
    return real_cells(6)


def write(path, cells, epochs, seed=0):
    metrics = official.synthetic_metrics(len(cells), epochs=epochs, seed=seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    official.write_official_file(path, cells, metrics)
    return metrics


def cache_files(tmp_path):
    """The cache files, without their seals."""
    return sorted(p.name for p in (tmp_path / "cache").iterdir() if not p.name.endswith(".seal.json"))


# --- official files -----------------------------------------------------------------

@pytest.mark.parametrize("epochs", [FULL, (108,)])
def test_load_official_round_trip(tmp_path, cells, epochs):
    source = tmp_path / "nasbench_full.tfrecord"
    metrics = write(source, cells, epochs)
    bench = benchmark.load(source, progress=False, partial=True)
    assert (bench.source, bench.path, bench.epochs, bench.num_runs, bench.has_test_accuracy) == \
        ("official", source, epochs, 3, True)
    assert len(bench) == len(cells) == len(bench.table)
    np.testing.assert_array_equal(bench.cells.matrices, cells.matrices)
    np.testing.assert_array_equal(bench.cells.ops, cells.ops)
    assert bench.table["module_hash"].tolist() == cells.hashes.tolist()
    assert bench.cell(2) == cells[2] and bench.index(cells.hashes[3]) == 3
    np.testing.assert_array_equal(bench.index(cells.hashes[[4, 1]]), [4, 1])
    for b, e in enumerate(epochs):
        for metric in official.METRICS:
            np.testing.assert_array_equal(bench.runs(metric, e), getattr(metrics, metric)[:, b, :, 2])

    outcomes = bench.simulate(seed=5, epochs=108)
    rows = np.arange(len(cells))
    final = len(epochs) - 1
    np.testing.assert_array_equal(outcomes.validation_accuracy,
                                  metrics.validation_accuracy[rows, final, outcomes.run, 2])
    np.testing.assert_array_equal(outcomes.training_time, metrics.training_time[rows, final, outcomes.run, 2])
    np.testing.assert_array_equal(outcomes.test_accuracy, metrics.test_accuracy[:, final, :, 2].mean(axis=1))
    assert outcomes.has_test_accuracy and outcomes.seed == 5 and outcomes.epochs == 108
    with pytest.raises(ValueError):
        outcomes.validation_accuracy[0] = 1.0  # frozen


def test_cache_is_reused_and_refreshed(tmp_path, cells, monkeypatch):
    source = tmp_path / "nasbench_only108.tfrecord"
    write(source, cells, (108,))
    first = benchmark.load(source, progress=False, partial=True)
    [cache] = cache_files(tmp_path)
    assert cache.startswith("nasbench101_nasbench_only108_") and cache.endswith(".parquet")
    meta = official.read_metadata(tmp_path / "cache" / cache)
    assert (meta["source_name"], meta["source_size"]) == (source.name, source.stat().st_size)

    calls = []
    with monkeypatch.context() as patched:
        patched.setattr(official, "convert", lambda *a, **k: calls.append(a))
        second = benchmark.load(source, progress=False, partial=True)
    assert calls == []  # read from the cache, no conversion
    pd.testing.assert_frame_equal(first.table, second.table)

    # A new file (different content, size and mtime) is converted again, and the stale cache removed.
    write(source, real_cells(7), (108,), seed=1)
    os.utime(source, ns=(source.stat().st_atime_ns, source.stat().st_mtime_ns + 10**9))
    third = benchmark.load(source, progress=False, partial=True)
    assert len(third) == 7
    [new_cache] = cache_files(tmp_path)
    assert new_cache != cache

    # The .parquet cache can be loaded directly.
    direct = benchmark.load(tmp_path / "cache" / new_cache)
    pd.testing.assert_frame_equal(direct.table, third.table)


def test_stale_format_version_is_reconverted(tmp_path, cells, monkeypatch):
    source = tmp_path / "nasbench_only108.tfrecord"
    write(source, cells, (108,))
    benchmark.load(source, progress=False, partial=True)
    monkeypatch.setattr(official, "FORMAT_VERSION", official.FORMAT_VERSION + 1)
    bench = benchmark.load(source, progress=False, partial=True)
    [cache] = cache_files(tmp_path)
    assert official.read_metadata(tmp_path / "cache" / cache)["format_version"] == official.FORMAT_VERSION
    assert len(bench) == len(cells)


def test_unwritable_cache_dir_is_a_clear_permission_error(tmp_path, cells, monkeypatch):
    source = tmp_path / "nasbench_only108.tfrecord"
    write(source, cells, (108,))
    cache = tmp_path / "cache"
    cache.mkdir()
    cache.chmod(0o500)
    if os.geteuid() == 0:
        # root may write anyway: make os.access answer from the mode bits, as for an ordinary user
        monkeypatch.setattr(os, "access", lambda path, mode: (os.stat(path).st_mode >> 6) & mode == mode)
    try:
        with pytest.raises(PermissionError, match=f"{cache}.*not writable.*NP_LIB_CACHE_DIR"):
            benchmark.load(source, progress=False, partial=True)
        assert list(cache.iterdir()) == []
    finally:
        cache.chmod(0o700)


def test_failed_cache_write_leaves_nothing(tmp_path, cells, monkeypatch):
    import pyarrow.parquet as pq

    source = tmp_path / "nasbench_only108.tfrecord"
    write(source, cells, (108,))

    def disk_full(table, where, **kwargs):
        Path(where).write_bytes(b"PAR1 half a table")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq, "write_table", disk_full)
    with pytest.raises(OSError, match="No space left"):
        benchmark.load(source, progress=False, partial=True)
    assert cache_files(tmp_path) == []


# --- finding the data ---------------------------------------------------------------------

def test_missing_data_lists_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError) as error:
        benchmark.load()
    message = str(error.value)
    data = tmp_path / "data"
    for folder in (data / "nasbench101", data):
        for name in ("nasbench_only108.tfrecord", "nasbench_full.tfrecord", "data-20k.json",
                     "nasbench101_sample20k.csv"):
            assert str(folder / name) in message
    assert "python -m np_lib fetch nasbench101-sample" in message and "NP_LIB_DATA_DIR" in message
    assert "shared" not in message


def test_auto_detect_prefers_only108_then_full_then_sample(tmp_path, cells):
    data = tmp_path / "data"
    sample = data / "nasbench101_sample20k.csv"
    sample.parent.mkdir(parents=True)
    sample.write_text("x")
    assert benchmark.find_data() == sample
    write(data / "nasbench_full.tfrecord", cells, FULL)
    assert benchmark.find_data() == data / "nasbench_full.tfrecord"
    write(data / "nasbench101" / "nasbench_only108.tfrecord", cells, (108,))
    assert benchmark.find_data() == data / "nasbench101" / "nasbench_only108.tfrecord"
    bench = benchmark.load(progress=False, partial=True)
    assert bench.epochs == (108,) and bench.source == "official"


def test_unknown_epoch_budget(tmp_path, cells):
    source = tmp_path / "nasbench_only108.tfrecord"
    write(source, cells, (108,))
    bench = benchmark.load(source, progress=False, partial=True)
    with pytest.raises(ValueError, match=r"no 36-epoch results .* budgets \(108,\)"):
        bench.simulate(0, epochs=36)


# --- simulated training ------------------------------------------------------------

def test_simulate_is_deterministic_and_uniform_over_runs(tmp_path):
    source = tmp_path / "nasbench_only108.tfrecord"
    write(source, many_cells(3000), (108,))
    bench = benchmark.load(source, progress=False, partial=True)
    a, b, c = bench.simulate(1), bench.simulate(1), bench.simulate(2)
    np.testing.assert_array_equal(a.run, b.run)
    np.testing.assert_array_equal(a.validation_accuracy, b.validation_accuracy)
    assert (a.run != c.run).mean() > 0.5  # independent draws differ for 2/3 of the cells
    counts = np.bincount(a.run, minlength=3)
    assert counts.sum() == 3000 and np.all(np.abs(counts - 1000) < 100), counts  # about 5 sd
    np.testing.assert_array_equal(a.run, np.random.default_rng(1).integers(3, size=3000))
    np.testing.assert_array_equal(a.test_accuracy, c.test_accuracy)  # the mean over runs: no draw


def test_summary(tmp_path, cells):
    source = tmp_path / "nasbench_only108.tfrecord"
    metrics = write(source, cells, (108,))
    summary = benchmark.load(source, progress=False, partial=True).summary()
    minutes = metrics.training_time[:, 0, :, 2].mean(axis=1) / 60
    assert summary["num_cells"] == len(cells) and summary["source"] == "official"
    assert summary["has_test_accuracy"] is True
    assert summary["mean_training_time_minutes_108"] == pytest.approx(minutes.mean())
    assert summary["median_training_time_minutes_108"] == pytest.approx(np.median(minutes))
    below = (metrics.validation_accuracy[:, 0, :, 2].mean(axis=1) < 0.91).mean()
    assert summary["share_validation_accuracy_below_0.91"] == pytest.approx(below)


# --- the 20k sample in the shared data folder ------------------------------------------------

def shared_sample() -> Path:
    base = os.environ.get("NP_LIB_DATA_DIR") or Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    return Path(base).resolve() / "nasbench101" / "nasbench101_sample20k.csv"


SAMPLE = shared_sample()  # read before the fixture points NP_LIB_DATA_DIR at a temporary folder
needs_sample = pytest.mark.skipif(not SAMPLE.is_file(),
                                  reason=f"NAS-Bench-101 sample not found at {SAMPLE} (set NP_LIB_DATA_DIR)")


@pytest.fixture(scope="module")
def sample():
    return benchmark.load(SAMPLE)


@needs_sample
def test_sample_loads_with_real_hashes(sample):
    assert (sample.source, len(sample), sample.num_runs, sample.epochs) == ("sample", 20_001, 1, FULL)
    assert sample.table["module_adjacency"].str.startswith("0").all()  # read as text, leading 0 kept
    for i in np.random.default_rng(0).choice(len(sample), 40, replace=False).tolist() + [0]:
        row = sample.table.iloc[i]
        k = int(round(len(row["module_adjacency"]) ** 0.5))
        matrix = np.array(list(row["module_adjacency"]), dtype=int).reshape(k, k)
        assert Cell(matrix, row["module_operations"].split(",")).hash == row["module_hash"]
        assert sample.cell(i).hash == row["module_hash"]
    assert sample.cells.hashes[0] == "00005c142e6f48ac74fdcf73e3439874"


@needs_sample
def test_sample_has_no_test_accuracy_and_one_run(sample):
    assert not sample.has_test_accuracy
    raw = pd.read_csv(SAMPLE)
    outcomes = sample.simulate(seed=3)
    assert not outcomes.has_test_accuracy and np.isnan(outcomes.test_accuracy).all()
    assert (outcomes.run == 0).all()
    np.testing.assert_array_equal(outcomes.validation_accuracy, raw["validation_accuracy_108"])
    np.testing.assert_array_equal(outcomes.training_time, raw["training_time_108"])
    np.testing.assert_array_equal(sample.simulate(seed=4).validation_accuracy, outcomes.validation_accuracy)
    np.testing.assert_array_equal(sample.simulate(0, epochs=12).validation_accuracy, raw["validation_accuracy_12"])
    assert np.isnan(sample.simulate(0, epochs=12).training_time).all()  # only known at 108 epochs


@needs_sample
def test_sample_summary_matches_the_paper(sample):
    summary = sample.summary()
    assert summary["num_cells"] == 20_001 and summary["has_test_accuracy"] is False
    assert summary["mean_training_time_minutes_108"] == pytest.approx(32, abs=1)
    assert summary["median_training_time_minutes_108"] == pytest.approx(26, abs=1)
