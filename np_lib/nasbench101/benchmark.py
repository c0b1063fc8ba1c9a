"""NAS-Bench-101 as the Neural Predictor experiments use it: a table of cells and their training runs.

:func:`load` reads either

* an official NAS-Bench-101 file (``nasbench_only108.tfrecord`` or
  ``nasbench_full.tfrecord``; 423,624 cells, 3 training runs per cell and
  epoch budget, with test accuracy), or
* a sample in the published ``data-20k.json`` format (parallel lists of module
  hashes and metrics, one run per cell, no test accuracy, no graphs: each
  cell's graph is recovered from :func:`~np_lib.nasbench101.space.enumerate_cells`
  by its hash), or the CSV made from it (``nasbench101_sample20k.csv``, with
  graphs),

and returns a :class:`NASBench101`. Every file is converted once into a
Parquet cache sealed with its own checksum and the content fingerprint of its
source (:func:`np_lib.storage.cache_problem`), and its values are checked on
the way (:func:`check_table`): a bad value is an error naming the file, the
row or hash and the value, never a silently wrong table. Its
:meth:`NASBench101.simulate` is the paper's simulated training (section 4.1):
"we use the validation accuracy from a single run" of the three, "sampled once
and fixed" for an experiment.
"""
from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..protocol import Outcomes
from ..storage import (CacheRebuiltWarning, cache_dir, cache_problem, data_dir, fingerprint, remove_cache,
                       sealed_cache)
from ..validation import check_seed
from . import official
from .cell import HASH_LABEL, OPS, Cell, CellArray, module_hash
from .space import NUM_CELLS  # what a complete official file holds

ONLY108_FILE = "nasbench_only108.tfrecord"
FULL_FILE = "nasbench_full.tfrecord"
JSON_FILE = "data-20k.json"
SAMPLE_FILE = "nasbench101_sample20k.csv"
#: Search order of :func:`find_data`. only108 comes first although full holds
#: more: the paper searches on 108-epoch results only, only108 is the file
#: ``python -m np_lib fetch nasbench101-official`` gets, and it converts 4x faster.
#: The published sample (JSON) comes before the CSV made from it.
PREFERENCE = (ONLY108_FILE, FULL_FILE, JSON_FILE, SAMPLE_FILE)
#: Dataset (in :mod:`np_lib.datasets`) of each file, for the fetch command a missing file names.
DATASET = {ONLY108_FILE: "nasbench101-official", FULL_FILE: "nasbench101-official",
           JSON_FILE: "nasbench101-sample", SAMPLE_FILE: "nasbench101-sample"}
#: Bumped whenever the sample's conversion (JSON/CSV to the cached table) changes.
SAMPLE_FORMAT_VERSION = 1
# The data-20k.json lists: name in the table -> name in the file.
# In the CSV's column order, so that both give the same table.
_JSON_COLUMNS = {"trainable_parameters": "trainable_parameters",
                 **{official.column_name("validation_accuracy", e, 0): f"{e}_final_validation_accuracy"
                    for e in official.EPOCH_BUDGETS},
                 official.column_name("training_time", 108, 0): "final_training_time"}


class DataError(ValueError):
    """A NAS-Bench-101 data file holds a value that cannot be right; the message names file, row and value."""


def candidate_paths() -> list[Path]:
    """Where :func:`load` looks, in order: each file in ``data_dir()/nasbench101/`` (where
    ``python -m np_lib fetch`` puts the registry's files), then ``data_dir()/``."""
    base = data_dir()
    return [folder / name for name in PREFERENCE for folder in (base / "nasbench101", base)]


def find_data() -> Path:
    """The preferred NAS-Bench-101 data file present; ``FileNotFoundError`` listing where it looked.

    The registry's files are found with :func:`np_lib.datasets.locate` (the
    official file, then the published sample), then the other candidates of
    :func:`candidate_paths`. Something at a candidate path that is not a file
    (a folder named like the official file) is an error, not a reason to fall
    back to the sample.
    """
    from .. import datasets

    candidates = candidate_paths()
    registered = {}
    for name in (ONLY108_FILE, JSON_FILE):
        try:
            registered[name] = datasets.locate(DATASET[name], name)
        except datasets.DatasetMissing:
            pass
    for path in candidates:
        if path.name in registered and registered[path.name].parent == path.parent:
            return registered[path.name]
        if path.is_file():
            return path
        if path.exists():
            raise IsADirectoryError(f"{path} is not a file (a folder?); NAS-Bench-101 data is read from "
                                    f"the file of that name. Remove or rename it, or pass load() a path")
    looked = "\n  ".join(str(p) for p in candidates)
    raise FileNotFoundError(
        f"no NAS-Bench-101 data found. Looked for:\n  {looked}\n"
        f"Get the 20,001-cell sample with `{datasets.fetch_command(DATASET[JSON_FILE])}` (3 MB) or the "
        f"official file with `{datasets.fetch_command(DATASET[ONLY108_FILE])}` (about 499 MB), "
        f"or set NP_LIB_DATA_DIR to the folder that holds them."
    )


def cells_from_strings(adjacency, operations, hashes, path=None) -> CellArray:
    """``CellArray.from_strings``, parsing each distinct string only once.

    The 423,624 cells have about 2,500 distinct adjacency strings and 364 op
    strings. ``from_strings`` on every row is slow (most of it ``np.unique``
    sorting long strings; benchmarks/README.md, "NAS-Bench-101 loading"); on
    the distinct ones it is instant. A bad string is a
    :class:`DataError` naming ``path`` and the first row that holds it.
    """
    adj_codes, adj_distinct = pd.factorize(np.asarray(adjacency, dtype=object))
    op_codes, op_distinct = pd.factorize(np.asarray(operations, dtype=object))
    where = f"{path}: " if path is not None else ""
    for codes, distinct, what in ((adj_codes, adj_distinct, "module_adjacency"),
                                  (op_codes, op_distinct, "module_operations")):
        for j, text in enumerate(distinct):
            problem = _adjacency_problem(text) if what == "module_adjacency" else _operations_problem(text)
            if problem:
                i = int(np.argmax(codes == j))
                raise DataError(f"{where}row {i}: {what} = {text!r} {problem}")
    # from_strings parses adjacency and ops in pairs of one size: pair each distinct
    # string with a placeholder of its size and keep only the half that was wanted.
    adj_sizes = [int(round(len(a) ** 0.5)) for a in adj_distinct]
    op_sizes = [o.count(",") + 1 for o in op_distinct]
    from_adjacency = CellArray.from_strings(
        adj_distinct, [",".join(["input"] + ["conv3x3-bn-relu"] * (k - 2) + ["output"]) for k in adj_sizes],
        np.zeros(len(adj_distinct), "<U32"))
    from_ops = CellArray.from_strings(["0" * k * k for k in op_sizes], op_distinct,
                                      np.zeros(len(op_distinct), "<U32"))
    mismatch = np.flatnonzero(from_adjacency.num_vertices[adj_codes] != from_ops.num_vertices[op_codes])
    if len(mismatch):
        i = int(mismatch[0])
        raise DataError(f"{where}row {i}: {from_ops.num_vertices[op_codes[i]]} ops for a "
                        f"{from_adjacency.num_vertices[adj_codes[i]]}-vertex matrix")
    return CellArray(from_adjacency.matrices[adj_codes], from_ops.ops[op_codes],
                     np.asarray(hashes, dtype=object))


def _adjacency_problem(text) -> str | None:
    if not isinstance(text, str) or not text:
        return "is empty"
    k = int(round(len(text) ** 0.5))
    if k * k != len(text) or not 2 <= k <= 7:
        return f"is not a row-major n x n matrix with 2 <= n <= 7 ({len(text)} characters)"
    if set(text) - {"0", "1"}:
        return "may hold only '0' and '1'"
    return None


def _operations_problem(text) -> str | None:
    if not isinstance(text, str) or not text:
        return "is empty"
    ops = text.split(",")
    unknown = [o for o in ops if o not in OPS]
    if unknown:
        return f"holds unknown ops {unknown}; allowed: {', '.join(OPS)}"
    if len(ops) > 7:
        return f"holds {len(ops)} ops; at most 7"
    return None


#: One simulated training of every cell in the pool (arrays aligned with ``NASBench101.cells``):
#: the one outcome type of every benchmark, :class:`np_lib.protocol.Outcomes`. Here
#: ``validation_accuracy`` and ``training_time`` come from the one run ``run[i]`` drawn for
#: cell ``i``; ``test_accuracy`` is the mean over all runs (all NaN when the data has none).
TrainingOutcomes = Outcomes


class NASBench101:
    """A NAS-Bench-101 table: one row per cell, its runs' final metrics as columns.

    Attributes
    ----------
    source : ``'official'`` or ``'sample'`` (a JSON or CSV sample)
    path : the file it was loaded from (the .tfrecord, .json or .csv, not the cache)
    cells : :class:`~np_lib.nasbench101.cell.CellArray`, row ``i`` of ``table`` is ``cells[i]``
    table : DataFrame with ``module_hash``, ``module_adjacency``, ``module_operations``,
        ``trainable_parameters`` and ``{metric}_{epochs}_r{run}`` columns
        (see :func:`~np_lib.nasbench101.official.convert`; the sample has only
        ``validation_accuracy_{e}_r0`` and ``training_time_108_r0``)
    epochs : epoch budgets present, ascending
    num_runs : runs per cell and budget (3 official, 1 sample)
    has_test_accuracy : whether test (and train) accuracy are present
    """

    def __init__(self, table: pd.DataFrame, source: str, path: Path):
        self.table = table.reset_index(drop=True)
        self.source = source
        self.path = Path(path)
        self.cells = cells_from_strings(self.table["module_adjacency"], self.table["module_operations"],
                                        self.table["module_hash"])
        self.epochs = tuple(sorted(int(c.split("_")[2]) for c in self.table.columns
                                   if c.startswith("validation_accuracy_") and c.endswith("_r0")))
        self.num_runs = sum(c.startswith(f"validation_accuracy_{self.epochs[-1]}_r") for c in self.table.columns)
        self.has_test_accuracy = official.column_name("test_accuracy", self.epochs[-1], 0) in self.table.columns

    def __len__(self) -> int:
        return len(self.cells)

    def __repr__(self):
        return (f"NASBench101({len(self)} cells, source={self.source!r}, epochs={self.epochs}, "
                f"runs={self.num_runs}, file='{Path(self.path).name}')")  # .path has the full path

    def cell(self, i: int) -> Cell:
        return self.cells[i]

    def index(self, hashes):
        """Row positions of module hashes (one str gives an int); ``KeyError`` names a missing one."""
        return self.cells.index(hashes)

    def runs(self, metric: str, epochs: int = 108) -> np.ndarray:
        """``(cells, num_runs)`` array of one final metric at a budget; NaN where the data lacks it."""
        self._check_epochs(epochs)
        columns = [official.column_name(metric, epochs, r) for r in range(self.num_runs)]
        if not all(c in self.table.columns for c in columns):
            return np.full((len(self), self.num_runs), np.nan)
        return self.table[columns].to_numpy(dtype=np.float64)

    def _check_epochs(self, epochs: int):
        if epochs not in self.epochs:
            raise ValueError(f"no {epochs}-epoch results in {self.path.name}; it has budgets {self.epochs}")

    def simulate(self, seed: int, epochs: int = 108) -> TrainingOutcomes:
        """Train every cell once, as the paper's simulation does (section 4.1).

        For each cell one of its runs is drawn uniformly with
        ``numpy.random.default_rng(seed)``, and that run's validation accuracy
        (and training time) is the outcome of "training" the cell: fixed for a
        seed, so an experiment sees one consistent noisy value per cell, as if
        it had trained the cell itself. Test accuracy is the mean over all runs
        (the paper reports it as the less noisy "true" quality).

        On the 20k sample each cell has one run, so the draw always gives run 0
        and the outcomes do not depend on the seed; test accuracy is all NaN
        (``has_test_accuracy`` False).
        """
        self._check_epochs(epochs)
        seed = check_seed(seed)
        rows = np.arange(len(self))
        run = np.random.default_rng(seed).integers(self.num_runs, size=len(self))
        outcomes = dict(
            run=run,
            validation_accuracy=self.runs("validation_accuracy", epochs)[rows, run],
            test_accuracy=self.runs("test_accuracy", epochs).mean(axis=1),
            training_time=self.runs("training_time", epochs)[rows, run],
        )
        for array in outcomes.values():
            array.setflags(write=False)
        return TrainingOutcomes(seed=seed, epochs=epochs, has_test_accuracy=self.has_test_accuracy, **outcomes)

    def summary(self) -> dict:
        """Headline numbers for checking the data against the papers.

        Per cell, times and accuracies are averaged over its runs first. The
        Neural Predictor paper quotes 32 minutes mean and 26 minutes median
        training time at 108 epochs.
        """
        time = self.runs("training_time", 108).mean(axis=1) / 60
        validation = self.runs("validation_accuracy", 108).mean(axis=1)
        return {
            "num_cells": len(self),
            "source": self.source,
            "path": str(self.path),
            "epochs": list(self.epochs),
            "num_runs": self.num_runs,
            "has_test_accuracy": self.has_test_accuracy,
            "mean_training_time_minutes_108": float(np.mean(time)),
            "median_training_time_minutes_108": float(np.median(time)),
            "share_validation_accuracy_below_0.91": float(np.mean(validation < 0.91)),
        }


def load(path: str | os.PathLike | None = None, *, progress: bool = True, partial: bool = False) -> NASBench101:
    """Load NAS-Bench-101 from ``path``, or from the first file :func:`find_data` finds.

    ``path`` may be an official ``.tfrecord``, a ``.json`` file of the
    ``data-20k.json`` format (whatever its name), a sample ``.csv``, or a
    ``.parquet`` cache made by this function. The first load of a file converts
    it into a sealed Parquet cache in ``storage.cache_dir()``; later loads
    verify the seal (the cache's checksum and the source's content
    fingerprint, a CRC32C of the whole file: cheap, see benchmarks/README.md, "Checksums") and read the cache. A
    cache that does not match is rebuilt with a :class:`CacheRebuiltWarning`.

    An official file must hold all 423,624 cells (with 3 runs each per epoch
    budget): one cut short at a record boundary is a :class:`DataError` saying
    how many cells and runs it holds, unless ``partial=True``.
    """
    path = find_data() if path is None else Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder, not a NAS-Bench-101 data file: give the file in it "
                                f"(one of {', '.join(PREFERENCE)})")
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist" + (
            f"; get it with `python -m np_lib fetch {DATASET[path.name]}`" if path.name in DATASET else ""))
    suffix = path.suffix.lower()
    if suffix == ".tfrecord":
        table = _cached_table(path, "official", progress)
        _check_counts(table, path, partial)
        return NASBench101(table, "official", path)
    if suffix == ".parquet":
        return NASBench101(_read_parquet(path), "official", path)
    if suffix in (".json", ".csv"):
        return NASBench101(_cached_table(path, suffix[1:], progress), "sample", path)
    raise ValueError(f"{path}: expected an official NAS-Bench-101 .tfrecord, its .parquet cache, a sample "
                     f".json (the data-20k.json format) or the sample .csv")


def _cache_path(source: Path, checksum: str) -> Path:
    return cache_dir(writable=False) / f"nasbench101_{source.stem}_{checksum.split(':')[-1]}.parquet"


def _cached_table(source: Path, kind: str, progress: bool) -> pd.DataFrame:
    """The table of ``source`` from its sealed Parquet cache, converting (and checking) it first if needed."""
    import pyarrow as pa

    seal = {"kind": kind, "source": fingerprint(source),
            "version": official.FORMAT_VERSION if kind == "official" else SAMPLE_FORMAT_VERSION}
    cache = _cache_path(source, seal["source"]["checksum"])
    problem = cache_problem(cache, seal)
    if problem is None:
        try:
            return _read_parquet(cache)
        except (ValueError, OSError, pa.ArrowException) as e:  # sealed, yet unreadable: rebuild it
            problem = f"it cannot be read ({e})"
    if problem != "there is none":
        warnings.warn(f"the cache {cache} of {source} is not usable ({problem}); converting {source.name} "
                      "again", CacheRebuiltWarning, stacklevel=3)
    if kind == "official":
        cache_dir()  # a clear PermissionError if the cache cannot be written
        with sealed_cache(cache, seal) as tmp:
            official.convert(source, tmp, progress=progress)
            table = _read_parquet(tmp, named=source)  # a bad value is not cached
    else:
        table = _read_json(source, progress) if kind == "json" else _read_csv(source)
        check_table(table, source, check_graphs=kind == "csv", kind="row" if kind == "csv" else "entry",
                    names=_CSV_NAMES if kind == "csv" else _JSON_COLUMNS)
        try:
            cache_dir()
            with sealed_cache(cache, seal) as tmp:
                _write_parquet(table, tmp, {"kind": kind, "source_name": source.name})
        except PermissionError as e:  # the table is in memory already: use it, uncached
            warnings.warn(f"{source.name} is not cached: {e}", CacheRebuiltWarning, stacklevel=3)
            return table
    # Caches of earlier versions of the same file are dead weight (tens of MB each).
    earlier = re.compile(rf"nasbench101_{re.escape(source.stem)}_[0-9a-f_]+\.parquet")
    for old in cache.parent.iterdir():
        if old != cache and earlier.fullmatch(old.name):
            remove_cache(old)
    return table


def _write_parquet(table: pd.DataFrame, path, meta: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = {**meta, "format_version": official.FORMAT_VERSION}
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), official.METADATA_KEY: json.dumps(meta)})
    pq.write_table(arrow, path, compression="lz4")


def _read_parquet(path: Path, named=None) -> pd.DataFrame:
    """A table made by :func:`official.convert` or by this module, with its values checked
    (ranges and uniqueness; the graphs were checked against their hashes when it was made).
    Errors name ``named`` (the source file) if given, else ``path``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = official.read_metadata(path)
        if meta is None or meta.get("format_version") != official.FORMAT_VERSION:
            raise DataError(f"{path} is not a NAS-Bench-101 table of format version {official.FORMAT_VERSION} "
                            "made by np_lib.nasbench101; load the .tfrecord (or sample) again")
        table = pq.ParquetFile(path).read().to_pandas()  # not read_table: it sets up pyarrow.dataset first
    except (pa.ArrowException, OSError) as e:
        raise DataError(f"{path} is not a readable Parquet table (truncated or corrupt?): {e}") from None
    check_table(table, named or path, check_graphs=False)
    return table


def _check_counts(table: pd.DataFrame, path: Path, partial: bool) -> None:
    n_cells = len(table)
    epochs = sorted({int(c.split("_")[2]) for c in table.columns if c.startswith("validation_accuracy_")})
    n_runs = n_cells * len(epochs) * official.NUM_RUNS
    if n_cells < NUM_CELLS and not partial:
        raise DataError(
            f"{path} holds {n_cells:,} cells and {n_runs:,} training runs; the published NAS-Bench-101 "
            f"file holds {NUM_CELLS:,} cells and {NUM_CELLS * len(epochs) * official.NUM_RUNS:,} runs at "
            f"{'/'.join(map(str, epochs))} epochs. It is cut short (an interrupted copy?): fetch it again "
            f"(`python -m np_lib fetch nasbench101-official`), or pass partial=True to use it as it is")


def _bad_value(path, kind: str, row: int, module_hash_, column: str, value, why: str) -> DataError:
    where = f"{kind} {row}" + (f" (hash {module_hash_})" if module_hash_ is not None else "")
    return DataError(f"{path}: {where}: {column} = {value!r} {why}")


def check_table(table: pd.DataFrame, path, *, check_graphs: bool = True, kind: str = "row",
                names: dict | None = None) -> None:
    """Check a NAS-Bench-101 table's values; the first problem is a :class:`DataError` naming it.

    Module hashes are 32 lowercase hex digits and unique (two rows with one
    hash are reported as a duplicate if their graphs agree and as two cells
    under one hash otherwise); accuracies are finite fractions in [0, 1] (a
    value in (1, 100] is reported as a likely percentage); training times are
    finite and >= 0; parameter counts positive integers. With
    ``check_graphs`` each row's graph must have its module hash (the
    official ``hash_module``, too slow for every load, so it runs once, when a
    file is converted; benchmarks/README.md, "NAS-Bench-101 loading"). Rows are numbered from 0; ``names`` maps table columns to the
    file's own names for the messages.
    """
    hashes = table["module_hash"]
    good = hashes.astype(str).str.fullmatch(r"[0-9a-f]{32}") & hashes.map(type).eq(str)
    if not good.all():
        i = int(np.flatnonzero(~good.to_numpy())[0])
        raise _bad_value(path, kind, i, None, "module_hash", hashes.iloc[i], "is not a module hash "
                         "(32 lowercase hex digits)")
    duplicated = hashes.duplicated(keep=False).to_numpy()
    if duplicated.any():
        i = int(np.flatnonzero(duplicated)[0])
        rows = np.flatnonzero((hashes == hashes.iloc[i]).to_numpy()).tolist()
        graphs = {(table["module_adjacency"].iloc[r], table["module_operations"].iloc[r]) for r in rows}
        what = ("two different cells under one hash" if len(graphs) > 1 else "the same cell twice")
        raise DataError(f"{path}: hash {hashes.iloc[i]} is in {kind}s {rows}: {what}; a module hash "
                        "identifies one cell")
    for column in table.columns:
        if column in ("module_hash", "module_adjacency", "module_operations"):
            continue
        values = table[column].to_numpy()
        if values.dtype.kind not in "iuf":
            raise DataError(f"{path}: column {column} holds non-numbers (dtype {values.dtype})")
        if column == "trainable_parameters":
            bad = ~np.isfinite(values) | (values <= 0) | (values != np.round(values))
            why = "is not a positive integer parameter count"
        elif "accuracy" in column:
            bad = ~np.isfinite(values) | (values < 0) | (values > 1)
            why = "is not an accuracy in [0, 1]"
        elif column.startswith("training_time"):
            bad = ~np.isfinite(values) | (values < 0)
            why = "is not a training time in seconds (finite, >= 0)"
        else:
            continue
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            value = values[i].item()
            if "accuracy" in column and 1 < value <= 100:
                why += " (a percentage? NAS-Bench-101 stores fractions)"
            raise _bad_value(path, kind, i, hashes.iloc[i], (names or {}).get(column, column), value, why)
    if check_graphs:
        cells = cells_from_strings(table["module_adjacency"], table["module_operations"], hashes, path)
        for i in range(len(cells)):
            k = int(cells.num_vertices[i])
            actual = module_hash(cells.matrices[i, :k, :k], [HASH_LABEL[o] for o in cells.ops[i, :k].tolist()])
            if actual != cells.hashes[i]:
                raise DataError(f"{path}: {kind} {i}: the graph {table['module_adjacency'].iloc[i]} with ops "
                                f"{table['module_operations'].iloc[i]} has module hash {actual}, not its "
                                f"key {cells.hashes[i]}")


_SAMPLE_TEXT = ("module_hash", "module_adjacency", "module_operations")
# The CSV's columns: name in the table -> name in the file.
_CSV_NAMES = {**{official.column_name("validation_accuracy", e, 0): f"validation_accuracy_{e}"
                 for e in official.EPOCH_BUDGETS},
              official.column_name("training_time", 108, 0): "training_time_108"}


def _read_csv(path: Path) -> pd.DataFrame:
    """The sample CSV as the benchmark table; every cell text is parsed here so that a bad one
    (empty, ``n/a``, a word) is named with its row and column instead of becoming NaN."""
    required = [*_SAMPLE_TEXT, "trainable_parameters", *(f"validation_accuracy_{e}" for e in official.EPOCH_BUDGETS),
                "training_time_108"]
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty; expected the NAS-Bench-101 sample CSV with columns "
                        f"{required}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as e:
        raise DataError(f"{path} is not a readable CSV: {e}") from None
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise DataError(f"{path}: missing columns {missing}; expected the NAS-Bench-101 sample's {required}")
    if raw.empty:
        raise DataError(f"{path} has a header but no rows")
    table = pd.DataFrame({c: raw[c] for c in _SAMPLE_TEXT})
    for column in required[len(_SAMPLE_TEXT):]:
        values = pd.to_numeric(raw[column], errors="coerce")
        bad = values.isna().to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise _bad_value(path, "row", i, raw["module_hash"].iloc[i], column, raw[column].iloc[i],
                             "is not a number")
        table[column] = values.astype(np.int64) if column == "trainable_parameters" and             (values == values.round()).all() else values
    return table.rename(columns={v: k for k, v in _CSV_NAMES.items()})


def _read_json(path: Path, progress: bool) -> pd.DataFrame:
    """A sample in the ``data-20k.json`` format as the benchmark table, graphs from the enumerated space.

    The file holds parallel lists (``key``: module hashes; metrics per
    epoch budget) and no graphs; each hash is looked up among the 423,624
    enumerated cells (:func:`~np_lib.nasbench101.space.enumerate_cells`, cached
    after its first run of about a minute), so each graph is the enumeration's
    representative of the hash's isomorphism class and hashes to its key by
    construction.
    """
    from .space import enumerate_cells

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DataError(f"{path} is not a JSON file: {e}") from None
    names = ["key", *_JSON_COLUMNS.values()]
    if not isinstance(data, dict) or any(not isinstance(data.get(n), list) for n in names):
        raise DataError(f"{path}: expected a JSON object of parallel lists {names} (the data-20k.json format)")
    lengths = {n: len(data[n]) for n in names}
    if len(set(lengths.values())) != 1:
        raise DataError(f"{path}: the lists have different lengths {lengths}")
    if lengths["key"] == 0:
        raise DataError(f"{path} holds no cells")
    hashes = data["key"]
    table = pd.DataFrame({"module_hash": pd.Series(hashes, dtype=object)})
    for column, name in _JSON_COLUMNS.items():
        raw = pd.Series(data[name], dtype=object)
        numeric = raw.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
        values = pd.to_numeric(raw.where(numeric), errors="coerce")
        bad = values.isna().to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise _bad_value(path, "entry", i, hashes[i], name, raw.iloc[i], "is not a number")
        table[column] = values.astype(np.int64) if column == "trainable_parameters" and             (values == values.round()).all() else values.astype(np.float64)
    check_table(table.assign(module_adjacency="", module_operations=""), path, check_graphs=False, kind="entry",
                names=_JSON_COLUMNS)
    if progress and not _space_cached():
        print(f"recovering the graphs of {path.name} from the enumerated NAS-Bench-101 space "
              "(enumerated once, about a minute, then cached)")
    space = enumerate_cells(progress=progress)
    try:
        rows = space.index(table["module_hash"].tolist())
    except KeyError as e:
        i = hashes.index(str(e.args[0]).split()[2])
        raise DataError(f"{path}: entry {i}: hash {hashes[i]} is not the module hash of any NAS-Bench-101 "
                        "cell") from None
    adjacency, operations = _strings(space[rows])
    table.insert(1, "module_adjacency", adjacency)
    table.insert(2, "module_operations", operations)
    return table


def _space_cached() -> bool:
    from . import space

    return cache_problem(cache_dir(writable=False) / space._CACHE_NAME, space._CACHE_SOURCE) is None


def _strings(cells: CellArray) -> tuple[list[str], list[str]]:
    """The official text forms (row-major '0'/'1' adjacency, comma-separated op names) of cells."""
    adjacency, operations = [], []
    for matrix, ops, k in zip(cells.matrices, cells.ops, cells.num_vertices.tolist()):
        adjacency.append((matrix[:k, :k] + ord("0")).tobytes().decode("ascii"))
        operations.append(",".join(OPS[o] for o in ops[:k].tolist()))
    return adjacency, operations
