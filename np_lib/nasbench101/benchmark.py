"""NAS-Bench-101 as the Neural Predictor experiments use it: a table of cells and their training runs.

:func:`load` reads either

* an official NAS-Bench-101 file (``nasbench_only108.tfrecord`` or
  ``nasbench_full.tfrecord``; 423,624 cells, 3 training runs per cell and
  epoch budget, with test accuracy), converted once into a Parquet cache, or
* the 20,001-cell sample shipped with the project's data
  (``nasbench101_sample20k.csv``: one run per cell, no test accuracy; see its
  README),

and returns a :class:`NASBench101`. Its :meth:`NASBench101.simulate` is the
paper's simulated training (section 4.1): "we use the validation accuracy from
a single run" of the three, "sampled once and fixed" for an experiment.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..protocol import Outcomes
from ..storage import DATA_DIR_ENV, cache_dir, data_dir
from . import official
from .cell import Cell, CellArray

ONLY108_FILE = "nasbench_only108.tfrecord"
FULL_FILE = "nasbench_full.tfrecord"
SAMPLE_FILE = "nasbench101_sample20k.csv"
#: Search order of :func:`find_data`. only108 comes first although full holds
#: more: the paper searches on 108-epoch results only, only108 is the file
#: :func:`np_lib.nasbench101.download` fetches, and it converts 4x faster.
#: The full file is used when it is the only official one present.
PREFERENCE = (ONLY108_FILE, FULL_FILE, SAMPLE_FILE)


def candidate_paths() -> list[Path]:
    """Where :func:`load` looks, in order: each file in ``data_dir()/nasbench101/``, then ``data_dir()/``."""
    base = data_dir()
    return [folder / name for name in PREFERENCE for folder in (base / "nasbench101", base)]


def find_data() -> Path:
    """The preferred NAS-Bench-101 data file present; ``FileNotFoundError`` listing where it looked."""
    candidates = candidate_paths()
    for path in candidates:
        if path.is_file():
            return path
    looked = "\n  ".join(str(p) for p in candidates)
    raise FileNotFoundError(
        f"no NAS-Bench-101 data found. Looked for:\n  {looked}\n"
        f"Get the official file with `np_lib.nasbench101.download()` (about 499 MB, into "
        f"{data_dir() / 'nasbench101'}), or set {DATA_DIR_ENV} to a folder that has one of these files "
        f"(the project's shared data folder has {SAMPLE_FILE})."
    )


def cells_from_strings(adjacency, operations, hashes) -> CellArray:
    """``CellArray.from_strings``, parsing each distinct string only once.

    The 423,624 cells have about 2,500 distinct adjacency strings and 364 op
    strings. ``from_strings`` on every row took 7 s on a 2-core machine (most
    of it ``np.unique`` sorting long strings); on the distinct ones it is
    instant, and the load from the cache stays under 2 s.
    """
    adj_codes, adj_distinct = pd.factorize(np.asarray(adjacency, dtype=object))
    op_codes, op_distinct = pd.factorize(np.asarray(operations, dtype=object))
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
        raise ValueError(f"row {i}: {from_ops.num_vertices[op_codes[i]]} ops for a "
                         f"{from_adjacency.num_vertices[adj_codes[i]]}-vertex matrix")
    return CellArray(from_adjacency.matrices[adj_codes], from_ops.ops[op_codes],
                     np.asarray(hashes, dtype=object))


#: One simulated training of every cell in the pool (arrays aligned with ``NASBench101.cells``):
#: the one outcome type of every benchmark, :class:`np_lib.protocol.Outcomes`. Here
#: ``validation_accuracy`` and ``training_time`` come from the one run ``run[i]`` drawn for
#: cell ``i``; ``test_accuracy`` is the mean over all runs (all NaN when the data has none).
TrainingOutcomes = Outcomes


class NASBench101:
    """A NAS-Bench-101 table: one row per cell, its runs' final metrics as columns.

    Attributes
    ----------
    source : ``'official'`` or ``'sample'``
    path : the file it was loaded from (for an official file, the .tfrecord, not the cache)
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
                f"runs={self.num_runs}, path='{self.path}')")

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


def load(path: str | os.PathLike | None = None, *, progress: bool = True) -> NASBench101:
    """Load NAS-Bench-101 from ``path``, or from the first file :func:`find_data` finds.

    ``path`` may be an official ``.tfrecord`` (converted once into a Parquet
    cache in ``storage.cache_dir()``, keyed by the file's name, size and
    modification time, then read from the cache), such a ``.parquet`` cache,
    or the sample ``.csv``.
    """
    path = find_data() if path is None else Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    suffix = path.suffix.lower()
    if suffix == ".tfrecord":
        return NASBench101(_read_parquet(_cached_conversion(path, progress)), "official", path)
    if suffix == ".parquet":
        return NASBench101(_read_parquet(path), "official", path)
    if suffix == ".csv":
        return NASBench101(_read_sample(path), "sample", path)
    raise ValueError(f"{path}: expected an official NAS-Bench-101 .tfrecord, its .parquet cache or the "
                     f"sample .csv")


def _cache_path(source: Path, size: int, mtime_ns: int) -> Path:
    return cache_dir() / f"nasbench101_{source.stem}_{size}_{mtime_ns}.parquet"


def _cached_conversion(source: Path, progress: bool) -> Path:
    """The Parquet cache of an official file, converting it first if missing or stale."""
    stat = source.stat()
    cache = _cache_path(source, stat.st_size, stat.st_mtime_ns)
    if cache.is_file():
        meta = official.read_metadata(cache) or {}
        if (meta.get("format_version"), meta.get("source_name"), meta.get("source_size"),
                meta.get("source_mtime_ns")) == (official.FORMAT_VERSION, source.name, stat.st_size,
                                                 stat.st_mtime_ns):
            return cache
    official.convert(source, cache, progress=progress)
    # Caches of earlier versions of the same file are dead weight (tens of MB each).
    earlier = re.compile(rf"nasbench101_{re.escape(source.stem)}_\d+_\d+\.parquet")
    for old in cache.parent.iterdir():
        if old != cache and earlier.fullmatch(old.name):
            old.unlink(missing_ok=True)
    return cache


def _read_parquet(path: Path) -> pd.DataFrame:
    import pyarrow.parquet as pq

    meta = official.read_metadata(path)
    if meta is None or meta.get("format_version") != official.FORMAT_VERSION:
        raise ValueError(f"{path} is not a NAS-Bench-101 table of format version {official.FORMAT_VERSION} "
                         "made by np_lib.nasbench101.official.convert; convert the .tfrecord again")
    return pq.ParquetFile(path).read().to_pandas()  # not read_table: it sets up pyarrow.dataset first


def _read_sample(path: Path) -> pd.DataFrame:
    text = {"module_hash": str, "module_adjacency": str, "module_operations": str}
    table = pd.read_csv(path, dtype=text)  # adjacency as text: it starts with '0', a number would lose it
    required = ["module_hash", "module_adjacency", "module_operations", "trainable_parameters",
                "training_time_108"] + [f"validation_accuracy_{e}" for e in official.EPOCH_BUDGETS]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing columns {missing}; expected the NAS-Bench-101 sample's {required}")
    return table.rename(columns={f"validation_accuracy_{e}": official.column_name("validation_accuracy", e, 0)
                                 for e in official.EPOCH_BUDGETS}
                        | {"training_time_108": official.column_name("training_time", 108, 0)})
