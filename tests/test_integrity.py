"""Nothing silent (issue 14, items 2 and 3; issue 11, section 2): verified caches, checked values,
the published JSON sample read directly, and clear errors on bad input."""
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from np_lib import storage
from np_lib.nasbench101 import benchmark, official, space
from np_lib.nasbench101.benchmark import DataError
from np_lib.nasbench101.cell import Cell, CellArray, InvalidCellError
from np_lib.nasbench101.space import mutate, random_cell, sample_cells
from np_lib.storage import CacheRebuiltWarning, CorruptFileError


def real_cells(n: int, start: int = 0) -> CellArray:
    cells = {}
    for k in range(start, start + 50 * n):
        cell = random_cell(k)
        cells.setdefault(cell.hash, cell)
        if len(cells) == n:
            return CellArray.from_cells(cells.values())
    raise AssertionError("too few distinct cells")


@pytest.fixture
def cache(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    monkeypatch.setenv("NP_LIB_CACHE_DIR", str(path))
    return path


def sealed(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.glob("*.parquet"))


def official_file(path: Path, n: int = 6, seed: int = 0) -> official.RunMetrics:
    metrics = official.synthetic_metrics(n, seed=seed)
    official.write_official_file(path, real_cells(n, start=100 * seed), metrics)
    return metrics


def flip(path: Path, position: int) -> None:
    data = bytearray(path.read_bytes())
    data[position] ^= 0x10
    path.write_bytes(bytes(data))


def as_read_only(monkeypatch):
    """Make os.access answer from the mode bits, as for an ordinary user (the tests may run as root)."""
    if os.geteuid() == 0:
        monkeypatch.setattr(os, "access", lambda path, mode: (os.stat(path).st_mode >> 6) & mode == mode)


# --- item 2: the Parquet cache of an official file ------------------------------------------------

def test_flipped_bytes_in_the_parquet_cache_are_caught_and_rebuilt(tmp_path, cache):
    source = tmp_path / "nasbench_only108.tfrecord"
    official_file(source)
    good = benchmark.load(source, progress=False, partial=True).table
    [parquet] = sealed(cache)
    size = parquet.stat().st_size
    for position in np.random.default_rng(0).choice(size, 12, replace=False).tolist():
        flip(parquet, position)
        with pytest.warns(CacheRebuiltWarning, match=f"{parquet.name}.*does not match its checksum"):
            again = benchmark.load(source, progress=False, partial=True).table
        pd.testing.assert_frame_equal(again, good)  # rebuilt: the table of the source, never another


def test_truncated_cache_is_named_and_rebuilt(tmp_path, cache):
    source = tmp_path / "nasbench_only108.tfrecord"
    official_file(source)
    good = benchmark.load(source, progress=False, partial=True).table
    [parquet] = sealed(cache)
    parquet.write_bytes(parquet.read_bytes()[:200])
    with pytest.warns(CacheRebuiltWarning, match=parquet.name):
        pd.testing.assert_frame_equal(benchmark.load(source, progress=False, partial=True).table, good)
    # A truncated table given directly (no source to rebuild from) is an error that names it.
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(parquet.read_bytes()[:300])
    with pytest.raises(DataError, match=f"{cut}.*truncated or corrupt"):
        benchmark.load(cut)


def test_a_rewritten_source_of_the_same_size_and_mtime_is_not_served_a_stale_cache(tmp_path, cache):
    source = tmp_path / "nasbench_only108.tfrecord"
    first = official_file(source, seed=0)
    before = source.stat()
    benchmark.load(source, progress=False, partial=True)
    # Other metrics, same cells and byte layout: the same size; then the old mtime put back.
    second = official.synthetic_metrics(6, seed=7)
    official.write_official_file(source, real_cells(6), second)
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (source.stat().st_size, source.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    bench = benchmark.load(source, progress=False, partial=True)
    np.testing.assert_array_equal(bench.runs("validation_accuracy"), second.validation_accuracy[:, 0, :, 2])
    assert not np.array_equal(second.validation_accuracy, first.validation_accuracy)
    assert len(sealed(cache)) == 1  # the stale cache is removed


def test_a_read_only_cache_dir_with_a_valid_cache_is_used(tmp_path, cache, monkeypatch):
    source = tmp_path / "nasbench_only108.tfrecord"
    official_file(source)
    good = benchmark.load(source, progress=False, partial=True).table
    cache.chmod(0o500)
    as_read_only(monkeypatch)
    try:
        calls = []
        monkeypatch.setattr(official, "convert", lambda *a, **k: calls.append(a))
        pd.testing.assert_frame_equal(benchmark.load(source, progress=False, partial=True).table, good)
        assert calls == []
    finally:
        cache.chmod(0o700)


# --- item 2: the enumerated-space cache ----------------------------------------------------------

def test_enumerated_space_cache_is_verified(tmp_path, cache, monkeypatch):
    # Small stand-in content: what is tested is the seal, not the enumeration (a minute of CPU).
    cells = real_cells(30)
    rebuilt = []
    monkeypatch.setattr(space, "NUM_CELLS", len(cells))
    monkeypatch.setattr(space, "_enumerate", lambda progress, workers: rebuilt.append(1) or cells)
    first = space.enumerate_cells(progress=False)
    path = cache / space._CACHE_NAME
    assert storage.cache_problem(path, space._CACHE_SOURCE) is None and rebuilt == [1]
    np.testing.assert_array_equal(space.enumerate_cells(progress=False).hashes, first.hashes)
    assert rebuilt == [1]  # served from the cache
    flip(path, path.stat().st_size // 2)
    with pytest.warns(CacheRebuiltWarning, match="enumerated-space cache.*does not match its checksum"):
        space.enumerate_cells(progress=False)
    assert rebuilt == [1, 1]
    path.write_bytes(path.read_bytes()[:100])
    with pytest.warns(CacheRebuiltWarning, match="truncated or corrupt"):
        space.enumerate_cells(progress=False)
    assert rebuilt == [1, 1, 1]
    cache.chmod(0o500)  # read-only, with a valid cache: used
    as_read_only(monkeypatch)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            np.testing.assert_array_equal(space.enumerate_cells(progress=False).hashes, first.hashes)
        assert rebuilt == [1, 1, 1]
    finally:
        cache.chmod(0o700)


# --- item 2: saved estimators ------------------------------------------------------------------

@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    from np_lib import NeuralPredictor

    cells = real_cells(20)
    y = np.linspace(0.85, 0.95, len(cells))
    model = NeuralPredictor(epochs=2, seed=0).fit(cells, y)
    path = model.save(tmp_path_factory.mktemp("model") / "model.np")
    return NeuralPredictor, cells, model.predict(cells), path


def test_every_flipped_byte_of_a_save_file_is_an_error_naming_it(saved_model, tmp_path):
    cls, cells, predictions, path = saved_model
    np.testing.assert_array_equal(cls.load(path).predict(cells), predictions)
    data = path.read_bytes()
    for position in sorted({0, 30, len(data) - 1, *np.random.default_rng(1).choice(len(data), 40).tolist()}):
        bad = tmp_path / f"flipped_{position}.np"
        copy = bytearray(data)
        copy[position] ^= 0x01
        bad.write_bytes(bytes(copy))
        with pytest.raises(CorruptFileError, match=str(bad)):
            cls.load(bad)


@pytest.mark.parametrize("keep", [0, 10, 100, -1])
def test_empty_or_truncated_save_file_names_the_file(saved_model, tmp_path, keep):
    cls, _, _, path = saved_model
    bad = tmp_path / "cut.np"
    bad.write_bytes(path.read_bytes()[:keep])
    with pytest.raises(CorruptFileError, match=str(bad)):
        cls.load(bad)


# --- item 3: values checked (sample CSV) -------------------------------------------------------

@pytest.fixture(scope="module")
def sample_rows(sample_csv):
    """The first 40 rows of the real sample, as text (a small file with real hashes and graphs)."""
    return pd.read_csv(sample_csv, dtype=str, keep_default_na=False, nrows=40)


def write_csv(rows: pd.DataFrame, path: Path) -> Path:
    rows.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("column, value, match", [
    ("validation_accuracy_108", "", r"row 3 \(hash \w{32}\): validation_accuracy_108 = '' is not a number"),
    ("validation_accuracy_108", "n/a", "row 3 .* = 'n/a' is not a number"),
    ("validation_accuracy_108", "NaN", "row 3 .*: validation_accuracy_108 = 'NaN' is not a number"),
    ("validation_accuracy_36", "93.5", r"row 3 .*: validation_accuracy_36 = 93.5 is not an accuracy in \[0, 1\] "
                                       r"\(a percentage\?"),
    ("validation_accuracy_4", "1.2", r"row 3 .*: validation_accuracy_4 = 1.2 is not an accuracy"),
    ("validation_accuracy_12", "-0.1", r"row 3 .*: validation_accuracy_12 = -0.1 is not an accuracy"),
    ("training_time_108", "-5", r"row 3 .*: training_time_108 = -5.0 is not a training time"),
    ("trainable_parameters", "12.5", r"row 3 .*: trainable_parameters = 12.5 is not a positive integer"),
    ("module_hash", "zz", "row 3: module_hash = 'zz' is not a module hash"),
])
def test_bad_sample_values_name_file_row_and_value(sample_rows, tmp_path, cache, column, value, match):
    rows = sample_rows.copy()
    rows.loc[3, column] = value
    path = write_csv(rows, tmp_path / "bad.csv")
    with pytest.raises(DataError, match=f"{path}: {match}"):
        benchmark.load(path)
    assert sealed(cache) == []  # nothing bad is cached


def test_duplicated_hashes_and_two_cells_under_one_hash(sample_rows, tmp_path, cache):
    twice = write_csv(pd.concat([sample_rows, sample_rows.iloc[[5]]]), tmp_path / "twice.csv")
    with pytest.raises(DataError, match=rf"hash {sample_rows.module_hash[5]} is in rows \[5, 40\]: the same cell"):
        benchmark.load(twice)
    other = sample_rows.copy()
    other.loc[7, "module_hash"] = other.loc[2, "module_hash"]
    with pytest.raises(DataError, match=r"rows \[2, 7\]: two different cells under one hash"):
        benchmark.load(write_csv(other, tmp_path / "two.csv"))


def test_a_graph_that_does_not_hash_to_its_key(sample_rows, tmp_path, cache):
    rows = sample_rows.copy()
    rows.loc[4, "module_operations"] = rows.loc[4, "module_operations"].replace("conv3x3", "conv1x1", 1)
    with pytest.raises(DataError, match=rf"bad.csv: row 4: the graph .* has module hash \w{{32}}, not its key "
                                        rf"{rows.module_hash[4]}"):
        benchmark.load(write_csv(rows, tmp_path / "bad.csv"))


def test_empty_csv_and_bad_graph_strings(tmp_path, cache, sample_rows):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DataError, match=f"{empty} is empty"):
        benchmark.load(empty)
    header_only = write_csv(sample_rows.iloc[:0], tmp_path / "header.csv")
    with pytest.raises(DataError, match="has a header but no rows"):
        benchmark.load(header_only)
    rows = sample_rows.copy()
    rows.loc[6, "module_adjacency"] = "0120"
    with pytest.raises(DataError, match="row 6: module_adjacency = '0120' may hold only '0' and '1'"):
        benchmark.load(write_csv(rows, tmp_path / "adj.csv"))


# --- item 3: official files ----------------------------------------------------------------------

def test_official_file_cut_at_a_record_boundary_needs_partial(tmp_path, cache):
    source = tmp_path / "nasbench_only108.tfrecord"
    cells = real_cells(6)
    metrics = official.synthetic_metrics(6)
    official.write_official_file(source, cells, metrics)
    # The first 5 cells' 15 records: a file cut cleanly between two cells.
    offsets = [offset for offset, _ in __import__("np_lib.nasbench101.tfrecord", fromlist=["x"]).iter_records(source)]
    cut = tmp_path / "cut" / "nasbench_only108.tfrecord"
    cut.parent.mkdir()
    cut.write_bytes(source.read_bytes()[:offsets[15]])
    with pytest.raises(DataError, match=rf"{cut} holds 5 cells and 15 training runs; the published .* "
                                        rf"423,624 cells and 1,270,872 runs .* partial=True"):
        benchmark.load(cut, progress=False)
    assert len(benchmark.load(cut, progress=False, partial=True)) == 5


def test_official_records_with_bad_values(tmp_path, cache):
    cells = real_cells(4)
    for field, value, match in [("validation_accuracy", np.nan, r"validation_accuracy_108_r\d = nan"),
                                ("test_accuracy", 93.2, r"test_accuracy_108_r1 = 93.2 is not an accuracy .*percentage"),
                                ("training_time", -1.0, r"training_time_108_r1 = -1.0 is not a training time")]:
        metrics = official.synthetic_metrics(4)
        getattr(metrics, field)[2, 0, 1, 2] = value
        source = tmp_path / field / "nasbench_only108.tfrecord"
        source.parent.mkdir()
        official.write_official_file(source, cells, metrics)
        with pytest.raises(DataError, match=rf"{source}: row 2 \(hash {cells.hashes[2]}\): {match}"):
            benchmark.load(source, progress=False, partial=True)
        assert sealed(cache) == []


def test_official_record_whose_graph_is_not_its_hash(tmp_path, cache):
    cells = real_cells(3)
    wrong = CellArray(cells.matrices, cells.ops, [cells.hashes[0], cells.hashes[1], "f" * 32])
    source = tmp_path / "nasbench_only108.tfrecord"
    official.write_official_file(source, wrong, official.synthetic_metrics(3))
    with pytest.raises(official.RecordFormatError, match=rf"record at byte offset \d+: its graph has module hash "
                                                         rf"{cells.hashes[2]}, not its key f{{32}}"):
        benchmark.load(source, progress=False, partial=True)


# --- issue 11, section 2: the published JSON ------------------------------------------------------

@pytest.fixture(scope="module")
def sample_json(data_dir):
    path = data_dir / "nasbench101" / "data-20k.json"
    if not path.is_file():
        pytest.skip(f"{path} not found; python -m np_lib fetch nasbench101-sample")
    return path


def test_json_and_csv_samples_agree(sample_json, sample_csv):
    """The published JSON and the CSV made from it: the same 20,001 hashes, metrics to the last bit,
    graphs of the same module hash. (Uses the default cache: the enumerated space takes a minute once.)"""
    from_json, from_csv = benchmark.load(sample_json), benchmark.load(sample_csv)
    assert len(from_json) == len(from_csv) == 20_001
    assert from_json.table["module_hash"].tolist() == from_csv.table["module_hash"].tolist()
    metrics = [c for c in from_csv.table.columns if c not in ("module_hash", "module_adjacency", "module_operations")]
    assert from_json.table.columns.tolist() == from_csv.table.columns.tolist()
    for column in metrics:
        np.testing.assert_array_equal(from_json.table[column].to_numpy(), from_csv.table[column].to_numpy())
    for i in range(0, 20_001, 997):  # the recovered graphs hash to the key (all 20,001 are checked at conversion
        assert Cell(from_json.cell(i).matrix, from_json.cell(i).ops).hash == from_csv.cell(i).hash  # of the CSV)
    same = (from_json.cells.matrices == from_csv.cells.matrices).all(axis=(1, 2)) & \
        (from_json.cells.ops == from_csv.cells.ops).all(axis=1)
    print(f"{same.sum()} of 20,001 graphs are the same matrices in the JSON and the CSV")


@pytest.fixture(scope="module")
def json_sample_cells(sample_json):
    """The sample's cells, loaded before a test points the cache elsewhere (the default cache holds the space)."""
    return benchmark.load(sample_json).cells


def test_json_values_are_checked(sample_json, json_sample_cells, tmp_path, cache, monkeypatch):
    data = json.loads(sample_json.read_text())
    small = {k: v[:30] for k, v in data.items()}
    # The sample's cells stand in for the enumerated space, so that this test does not enumerate it.
    monkeypatch.setattr(space, "enumerate_cells", lambda **kwargs: json_sample_cells)
    good = tmp_path / "other-sample.json"
    good.write_text(json.dumps(small))
    bench = benchmark.load(good, progress=False)
    assert (bench.source, len(bench)) == ("sample", 30)
    for name, value, match in [("108_final_validation_accuracy", None, "= None is not a number"),
                               ("108_final_validation_accuracy", "n/a", "= 'n/a' is not a number"),
                               ("36_final_validation_accuracy", 91.0, r"is not an accuracy .*percentage"),
                               ("key", data["key"][3], r"hash \w{32} is in entrys \[3, 9\]"),
                               ("key", "0" * 32, "entry 9: hash 0{32} is not the module hash of any")]:
        bad = {k: list(v) for k, v in small.items()}
        bad[name][9] = value
        path = tmp_path / "bad.json"
        path.write_text(json.dumps(bad))
        with pytest.raises(DataError, match=match):
            benchmark.load(path, progress=False)


def test_auto_detect_prefers_the_json_to_the_csv(tmp_path, monkeypatch):
    data = tmp_path / "data"
    (data / "nasbench101").mkdir(parents=True)
    monkeypatch.setenv("NP_LIB_DATA_DIR", str(data))
    (data / "nasbench101" / "nasbench101_sample20k.csv").write_text("x")
    assert benchmark.find_data().name == "nasbench101_sample20k.csv"
    (data / "nasbench101" / "data-20k.json").write_text("{}")
    assert benchmark.find_data().name == "data-20k.json"
    # A folder named like the official file is an error, not a silent fall-back to the sample.
    (data / "nasbench101" / "nasbench_only108.tfrecord").mkdir()
    with pytest.raises(IsADirectoryError, match="nasbench_only108.tfrecord is not a file"):
        benchmark.find_data()
    with pytest.raises(IsADirectoryError, match="is a folder, not a NAS-Bench-101 data file"):
        benchmark.load(data / "nasbench101" / "nasbench_only108.tfrecord")


# --- smaller items -------------------------------------------------------------------------------

def test_cell_rejects_bad_arguments_clearly():
    matrix = np.triu(np.ones((3, 3), int), 1)
    with pytest.raises(InvalidCellError, match="ops must be a sequence of 3 op names"):
        Cell(matrix, None)
    with pytest.raises(InvalidCellError, match="dtype complex"):
        Cell(matrix + 0j, ["input", "conv1x1-bn-relu", "output"])


@pytest.mark.parametrize("seed", [-1, 2 ** 70, 1.5, None])
def test_bad_seeds_are_refused_with_context(seed, tmp_path, cache):
    cells = real_cells(6)
    with pytest.raises(ValueError, match=r"seed must be an integer"):
        random_cell(seed)
    with pytest.raises(ValueError, match=r"seed must be an integer"):
        sample_cells(cells, 2, seed)
    with pytest.raises(ValueError, match=r"seed must be an integer"):
        mutate(cells[0], seed)
    source = tmp_path / "nasbench_only108.tfrecord"
    official_file(source)
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*63\)"):
        benchmark.load(source, progress=False, partial=True).simulate(seed)
