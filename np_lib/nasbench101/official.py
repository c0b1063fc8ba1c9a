"""The official NAS-Bench-101 data files: record format, a writer, and a fast converter.

NAS-Bench-101 (Ying et al., 2019) publishes ``nasbench_only108.tfrecord``
(every cell trained 3 times for 108 epochs) and ``nasbench_full.tfrecord``
(3 runs at each of 4, 12, 36 and 108 epochs). Each TFRecord record is ONE
training run: the UTF-8 JSON list ::

    [module_hash, epochs, raw_adjacency, raw_operations, raw_metrics]

with the 32-hex module hash, the epoch budget, the pruned adjacency as a
row-major '0'/'1' string, the comma-separated op names, and ``raw_metrics``:
``base64.encodebytes`` of a serialized ``nasbench.ModelMetrics`` protobuf
(``nasbench/lib/model_metrics.proto``; proto2)::

    ModelMetrics   { repeated EvaluationData evaluation_data = 1;
                     int32 trainable_parameters = 2; double total_time = 3; }
    EvaluationData { double current_epoch = 1; double training_time = 2;
                     double train_accuracy = 3; double validation_accuracy = 4;
                     double test_accuracy = 5; string checkpoint_path = 6; }

``evaluation_data`` holds the evaluations at initialisation, halfway and at
the end; NAS-Bench-101's api reads index 2 for its ``final_*`` metrics (and
index 1 for ``halfway_*``). The Neural Predictor paper (section 4.1) uses the
final validation accuracy of one of the three 108-epoch runs.

:func:`convert` turns such a file (about 1.3 million records for only108)
into a one-row-per-cell Parquet table that loads in well under two seconds;
NAS-Bench-101's own loader takes minutes. :func:`write_official_file` writes
files in exactly the official format, for tests and benchmarks, from metrics
that :func:`synthetic_metrics` can make up.
"""
from __future__ import annotations

import base64
import binascii
import functools
import json
import mmap
import multiprocessing
import os
import warnings
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError
from tqdm.auto import tqdm

from ..storage import atomic_path
from ..workers import spawn_problem, watch_parent
from . import tfrecord
from .cell import HASH_LABEL, OP_INDEX, OPS, Cell, CellArray, module_hash

# pandas and pyarrow are imported in the functions that use them: the spawned worker
# processes of convert() import this module and need neither (seconds each to import).

#: Epoch budgets of ``nasbench_full.tfrecord``; only108 has the last one.
EPOCH_BUDGETS = (4, 12, 36, 108)
#: Training runs per (cell, epoch budget) in the official files.
NUM_RUNS = 3
#: Final-evaluation metrics kept per run, in the column order of the Parquet table.
METRICS = ("validation_accuracy", "test_accuracy", "train_accuracy", "training_time")
#: Bumped whenever the Parquet layout changes, so older caches are rebuilt.
FORMAT_VERSION = 1
METADATA_KEY = b"np_lib.nasbench101"

_EVAL_FIELDS = ("current_epoch", "training_time", "train_accuracy", "validation_accuracy", "test_accuracy")
_FINAL = 2  # index of the final evaluation in evaluation_data (NAS-Bench-101 api)


def column_name(metric: str, epochs: int, run: int) -> str:
    """Parquet/DataFrame column of one run's final ``metric`` at an epoch budget."""
    return f"{metric}_{epochs}_r{run}"


class RecordFormatError(ValueError):
    """A record that frames correctly but is not a NAS-Bench-101 record; ``offset`` locates it."""

    def __init__(self, message: str, path=None, offset: int | None = None):
        super().__init__(message)
        self.path = path
        self.offset = offset

    def __reduce__(self):  # keep path/offset when raised in a convert() worker process
        return type(self), (str(self), self.path, self.offset)


# --- protobuf ---------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def model_metrics_class():
    """The ``nasbench.ModelMetrics`` message class, built from a descriptor made here.

    No ``protoc`` and no generated ``_pb2`` module: the two messages are
    declared with ``descriptor_pb2`` in a private descriptor pool, so importing
    NAS-Bench-101's own generated module elsewhere cannot clash with it.
    """
    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(name="np_lib/nasbench_model_metrics.proto",
                                               package="nasbench", syntax="proto2")
    evaluation = proto.message_type.add(name="EvaluationData")
    for number, name in enumerate(_EVAL_FIELDS, start=1):
        evaluation.field.add(name=name, number=number, type=field.TYPE_DOUBLE, label=field.LABEL_OPTIONAL)
    evaluation.field.add(name="checkpoint_path", number=6, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL)
    metrics = proto.message_type.add(name="ModelMetrics")
    metrics.field.add(name="evaluation_data", number=1, type=field.TYPE_MESSAGE,
                      label=field.LABEL_REPEATED, type_name=".nasbench.EvaluationData")
    metrics.field.add(name="trainable_parameters", number=2, type=field.TYPE_INT32, label=field.LABEL_OPTIONAL)
    metrics.field.add(name="total_time", number=3, type=field.TYPE_DOUBLE, label=field.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("nasbench.ModelMetrics"))


# Byte layout of a ModelMetrics as NAS-Bench-101 serialised it: three
# EvaluationData of five doubles each (tag 0x0a, length 45), then
# trainable_parameters (tag 0x10, a 1..5-byte varint) and total_time (tag 0x19).
_EVAL_SIZE = 2 + 5 * 9
_PARAMS_AT = 3 * _EVAL_SIZE
_CANONICAL_TAGS = np.array([0x0A, 0x2D] + [0x09, 0x11, 0x19, 0x21, 0x29], np.uint8)
_TAG_POSITIONS = np.array([k * _EVAL_SIZE + j for k in range(3) for j in (0, 1, 2, 11, 20, 29, 38)])
# Value offsets of training_time, train, validation and test accuracy in the final evaluation.
_FINAL_VALUES = _FINAL * _EVAL_SIZE + 2 + 9 * np.array([1, 2, 3, 4]) + 1
_AS_METRICS = [METRICS.index(m) for m in ("training_time", "train_accuracy", "validation_accuracy",
                                           "test_accuracy")]


def _decode_metrics(raw: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(trainable_parameters, final (n, 4) in METRICS order, canonical mask)`` of serialized ModelMetrics.

    A vectorised hand decoder for the layout above, with no per-record Python
    work: about 2.5x faster than ``ModelMetrics.FromString`` (upb) plus
    attribute reads (benchmarks/README.md, "NAS-Bench-101 loading"). Records in any
    other layout (a checkpoint_path, a missing field, another field order) are
    flagged ``False`` in the mask and left to the protobuf parser.
    """
    n = len(raw)
    lengths = np.fromiter(map(len, raw), np.int64, n)
    # Zero padding lets the fixed-position gathers below run past a short record safely.
    buf = np.frombuffer(b"".join(raw) + bytes(_PARAMS_AT + 16), np.uint8)
    starts = np.zeros(n, np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    ok = (buf[starts[:, None] + _TAG_POSITIONS] == np.tile(_CANONICAL_TAGS, 3)).all(axis=1)
    ok &= buf[starts + _PARAMS_AT] == 0x10
    varint = buf[starts[:, None] + (_PARAMS_AT + 1 + np.arange(5))].astype(np.int64)
    more = varint >= 0x80
    size = np.argmin(more, axis=1) + 1  # bytes in the varint: up to the first without the continuation bit
    ok &= ~more.all(axis=1)
    params = (((varint & 0x7F) << (7 * np.arange(5))) * (np.arange(5) < size[:, None])).sum(axis=1)
    ok &= params < 2**31  # a negative int32 is a 10-byte varint: leave it to the protobuf parser
    ok &= buf[starts + _PARAMS_AT + 1 + size] == 0x19
    ok &= lengths == _PARAMS_AT + 1 + size + 9
    values = buf[(starts[:, None] + _FINAL_VALUES)[:, :, None] + np.arange(8)].view("<f8")[..., 0]
    final = np.empty((n, len(METRICS)))
    final[:, _AS_METRICS] = values
    return params, final, ok


def _final_from_message(metrics) -> tuple[int, list[float]]:
    if len(metrics.evaluation_data) <= _FINAL:
        raise ValueError(f"{len(metrics.evaluation_data)} evaluations; NAS-Bench-101 records have 3 "
                         "(initial, halfway, final)")
    final = metrics.evaluation_data[_FINAL]
    return metrics.trainable_parameters, [getattr(final, m) for m in METRICS]


class OfficialRecord(NamedTuple):
    """One decoded record: a single training run of one cell at one epoch budget."""
    module_hash: str
    epochs: int
    adjacency: str
    operations: str
    metrics: object  # a ModelMetrics message (see model_metrics_class)


def decode_record(data: bytes) -> OfficialRecord:
    """Decode one record the way NAS-Bench-101's ``api.NASBench`` does; ``ValueError`` if malformed."""
    try:
        row = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"not UTF-8 JSON ({e})") from None
    if not (isinstance(row, list) and len(row) == 5):
        raise ValueError("expected a JSON list [module_hash, epochs, adjacency, operations, metrics]")
    module_hash, epochs, adjacency, operations, raw = row
    if not (isinstance(module_hash, str) and len(module_hash) == 32):
        raise ValueError(f"module hash {module_hash!r} is not a 32-character string")
    if not (type(epochs) is int and epochs > 0):
        raise ValueError(f"epochs {epochs!r} is not a positive integer")
    if not (isinstance(adjacency, str) and isinstance(operations, str) and isinstance(raw, str)):
        raise ValueError("adjacency, operations and metrics must be strings")
    try:
        metrics = model_metrics_class().FromString(base64.b64decode(raw))
    except (binascii.Error, DecodeError) as e:
        raise ValueError(f"metrics are not a base64 ModelMetrics protobuf ({e})") from None
    _final_from_message(metrics)
    return OfficialRecord(module_hash, epochs, adjacency, operations, metrics)


# --- the converter ------------------------------------------------------------

class _Chunk(NamedTuple):
    """What a worker sends back for a slice of records: numbers per record, strings per distinct cell."""
    hashes: list          # distinct module hashes, in order of first appearance in the slice
    codes: np.ndarray     # per record: index into hashes
    adjacency: list       # per distinct hash, from its first record
    operations: list
    epochs: np.ndarray
    params: np.ndarray
    final: np.ndarray     # (records, 4), METRICS order
    nbytes: int


def _parse_chunk(args) -> _Chunk:
    """Check and parse a slice of records in one batch (runs in a worker process).

    Per-record Python work is kept to C-level calls: the records are joined
    into one JSON array (a single ``json.loads`` of a ``str``; of ``bytes`` it
    was 4x slower, as CPython decodes it with the slow ``surrogatepass``
    handler), base64 is decoded with ``map``, the protobufs by
    :func:`_decode_metrics`. Anything unusual falls back to
    :func:`decode_record` per record, which names the bad record's offset.
    """
    path, offsets, lengths = args
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        data = tfrecord.read_records(buf, offsets, lengths, path)
    nbytes = int((lengths + tfrecord.HEADER_SIZE + tfrecord.FOOTER_SIZE).sum())
    try:
        rows = json.loads("[" + b",".join(data).decode("utf-8") + "]")
        if set(map(len, rows)) != {5} or set(map(type, rows)) != {list}:
            raise ValueError
        hashes, epochs, adjacency, operations, raw = zip(*rows)
        if (set(map(type, hashes)) | set(map(type, adjacency)) | set(map(type, operations))
                | set(map(type, raw))) != {str} or set(map(len, hashes)) != {32}:
            raise ValueError
        epochs = np.array(epochs)
        if epochs.dtype.kind != "i" or (epochs <= 0).any():
            raise ValueError
        metrics = list(map(binascii.a2b_base64, raw))
    except (ValueError, TypeError, binascii.Error):
        _raise_first_bad(data, path, offsets)
        raise
    params, final, ok = _decode_metrics(metrics)
    message = model_metrics_class()
    for i in np.flatnonzero(~ok).tolist():
        try:
            params[i], final[i] = _final_from_message(message.FromString(metrics[i]))
        except (ValueError, DecodeError) as e:
            raise RecordFormatError(f"{path}: record at byte offset {offsets[i]}: {e}", path,
                                    int(offsets[i])) from None
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(h, len(index)) for h in hashes), np.int64, len(hashes))
    first = np.unique(codes, return_index=True)[1]
    for i in first.tolist():
        problem = _graph_problem(hashes[i], adjacency[i], operations[i])
        if problem:
            raise RecordFormatError(f"{path}: record at byte offset {offsets[i]}: {problem}", path,
                                    int(offsets[i]))
    return _Chunk(list(index), codes, [adjacency[i] for i in first], [operations[i] for i in first],
                  epochs.astype(np.int64), params.astype(np.int64), final, nbytes)


def _graph_problem(module_hash_: str, adjacency: str, operations: str) -> str | None:
    """Why a record's graph is not the cell its module hash names (None if it is).

    Every distinct cell is hashed once at conversion, in the worker processes
    (cost: benchmarks/README.md, "NAS-Bench-101 loading"), so a table whose
    graphs and hashes disagree is never cached.
    """
    k = int(round(len(adjacency) ** 0.5))
    if k * k != len(adjacency) or not 2 <= k <= 7 or set(adjacency) - {"0", "1"}:
        return f"adjacency {adjacency!r} is not a row-major 0/1 matrix of 2..7 vertices"
    ops = operations.split(",")
    if len(ops) != k or any(o not in OP_INDEX for o in ops):
        return f"operations {operations!r} are not {k} NAS-Bench-101 op names"
    matrix = (np.frombuffer(adjacency.encode("ascii"), np.uint8) - ord("0")).reshape(k, k)
    actual = module_hash(matrix, [HASH_LABEL[OP_INDEX[o]] for o in ops])
    if actual != module_hash_:
        return f"its graph has module hash {actual}, not its key {module_hash_}"
    return None


def _raise_first_bad(data, path, offsets):
    for i, record in enumerate(data):
        try:
            decode_record(record)
        except ValueError as e:
            raise RecordFormatError(f"{path}: record at byte offset {offsets[i]} is not a NAS-Bench-101 "
                                    f"record: {e}", path, int(offsets[i])) from None


def convert(tfrecord_path: str | os.PathLike, parquet_path: str | os.PathLike, *, progress: bool = True,
            workers: int | None = None, chunk_bytes: int = 16 << 20) -> dict:
    """Convert an official NAS-Bench-101 TFRecord file into a one-row-per-cell Parquet table.

    Columns: ``module_hash``, ``module_adjacency``, ``module_operations`` (the
    file's text forms; ``benchmark.cells_from_strings`` parses them in well under a second),
    ``trainable_parameters`` (int64) and, for each epoch budget ``e`` in the
    file and run ``r`` in 0..2, ``{metric}_{e}_r{r}`` for each of
    :data:`METRICS` (float64: the official values are float32 stored as
    doubles, so nothing is lost). Runs are numbered in file order; cells are in
    the order they first appear. Each cell's graph must hash to its module hash
    (:func:`_graph_problem`).

    Every CRC is checked, and every cell must have exactly 3 runs at every
    budget the file has. The source's name, size and mtime and
    :data:`FORMAT_VERSION` go into the Parquet metadata (see
    :func:`read_metadata`) so that a stale cache can be told apart. The table
    appears at ``parquet_path`` only when complete. ``workers`` processes
    (default: all cores) parse slices of ``chunk_bytes``; a file of one slice
    is parsed in this process. Returns the metadata written.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    src = Path(tfrecord_path)
    stat = src.stat()
    if stat.st_size == 0:
        raise RecordFormatError(f"{src} is empty; it is not a NAS-Bench-101 file", src, 0)
    chunks = []
    with open(src, "rb") as f, tqdm(total=stat.st_size, unit="B", unit_scale=True, disable=not progress,
                                    desc=f"converting {src.name}") as bar:
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            slices = ((src, o, n) for o, n in tfrecord.index_chunks(buf, chunk_bytes, src))
            for chunk in _parse_in_order(slices, workers or os.cpu_count() or 1, stat.st_size > chunk_bytes):
                chunks.append(chunk)
                bar.update(chunk.nbytes)
    table, meta = _assemble(chunks, src)
    meta["num_cells"] = len(table["module_hash"])
    meta.update(format_version=FORMAT_VERSION, source_name=src.name, source_size=stat.st_size,
                source_mtime_ns=stat.st_mtime_ns)
    table = pa.table(table).replace_schema_metadata({METADATA_KEY: json.dumps(meta)})
    with atomic_path(parquet_path) as tmp:
        pq.write_table(table, tmp, compression="lz4")  # of snappy, zstd, lz4, none: about the fastest to read
    return meta


def _parse_in_order(slices, workers: int, parallel: bool):
    """Yield :func:`_parse_chunk` of each slice, in file order, on ``workers`` processes if ``parallel``."""
    problem = spawn_problem() if workers > 1 and parallel else None
    if problem is not None:
        warnings.warn(f"converting NAS-Bench-101: {problem}; parsing in this one process instead",
                      RuntimeWarning, stacklevel=3)
    if workers == 1 or not parallel or problem is not None:
        yield from map(_parse_chunk, slices)
        return
    # spawn, not fork: the caller may hold threads (pyarrow, torch) that a fork would copy mid-state.
    # An executor, not multiprocessing.Pool: a worker that dies raises BrokenProcessPool instead of hanging.
    # watch_parent: the workers exit when this process is killed (np_lib.workers).
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=watch_parent, initargs=(os.getpid(),)) as pool:
        pending: deque = deque()
        try:
            for args in slices:  # the framing walk runs here, overlapping the workers' parsing
                pending.append(pool.submit(_parse_chunk, args))
                if len(pending) > 2 * workers:
                    yield pending.popleft().result()
        except tfrecord.CorruptRecordError:
            for future in pending:  # a bad record earlier in the file is the one to report
                future.result()
            raise
        for future in pending:
            yield future.result()


def _assemble(chunks: Sequence[_Chunk], src: Path) -> tuple[dict, dict]:
    """Join the workers' slices into per-cell columns, checking 3 runs per (cell, budget)."""
    import pandas as pd

    # Map each slice's distinct hashes to one global numbering (first appearance in the file).
    local = np.concatenate([np.asarray(c.hashes, dtype=object) for c in chunks])
    global_code, hashes = pd.factorize(local)
    bases = np.cumsum([0] + [len(c.hashes) for c in chunks[:-1]])
    cell = np.concatenate([global_code[base + c.codes] for base, c in zip(bases, chunks)])
    first = np.unique(global_code, return_index=True)[1]
    adjacency = [a for c in chunks for a in c.adjacency]
    operations = [o for c in chunks for o in c.operations]
    epochs = np.concatenate([c.epochs for c in chunks])
    params = np.concatenate([c.params for c in chunks])
    final = np.concatenate([c.final for c in chunks])

    budgets, budget = np.unique(epochs, return_inverse=True)
    n_cells, n_budgets = len(hashes), len(budgets)
    key = cell * n_budgets + budget
    counts = np.bincount(key, minlength=n_cells * n_budgets)
    bad = np.flatnonzero(counts != NUM_RUNS)
    if len(bad):
        c, b = divmod(int(bad[0]), n_budgets)
        raise RecordFormatError(
            f"{src}: cell {hashes[c]} has {counts[bad[0]]} runs at {budgets[b]} epochs; an official "
            f"NAS-Bench-101 file has exactly {NUM_RUNS} per cell and epoch budget ({len(bad)} of "
            f"{len(counts)} (cell, budget) pairs are off; is the file complete?)", src)
    order = np.argsort(key, kind="stable")  # stable: runs are numbered in file order
    run = np.empty_like(order)
    run[order] = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
    grid = np.full((n_cells, n_budgets, NUM_RUNS, len(METRICS)), np.nan)
    grid[cell, budget, run] = final
    first_record = np.unique(cell, return_index=True)[1]

    columns = {"module_hash": list(hashes),
               "module_adjacency": [adjacency[i] for i in first],
               "module_operations": [operations[i] for i in first],
               "trainable_parameters": params[first_record]}  # NAS-Bench-101's api also keeps the first
    for b, e in enumerate(budgets.tolist()):
        for m, metric in enumerate(METRICS):
            for r in range(NUM_RUNS):
                columns[column_name(metric, e, r)] = grid[:, b, r, m]
    return columns, {"epochs": budgets.tolist(), "num_runs": NUM_RUNS, "num_records": len(cell)}


def read_metadata(parquet_path: str | os.PathLike) -> dict | None:
    """The conversion metadata of a Parquet table (None if it has none: not made by :func:`convert`)."""
    import pyarrow.parquet as pq

    raw = (pq.read_schema(parquet_path).metadata or {}).get(METADATA_KEY)
    return json.loads(raw) if raw is not None else None


# --- the writer ---------------------------------------------------------------

@dataclass(frozen=True)
class RunMetrics:
    """What the official records say about each (cell, epoch budget, run).

    Evaluation arrays are ``(cells, budgets, runs, 3)``: the evaluations at
    initialisation, halfway and at the end of training, as in
    ``ModelMetrics.evaluation_data``; ``total_time`` is ``(cells, budgets, runs)``.
    """
    epochs: tuple[int, ...]
    trainable_parameters: np.ndarray
    training_time: np.ndarray
    train_accuracy: np.ndarray
    validation_accuracy: np.ndarray
    test_accuracy: np.ndarray
    total_time: np.ndarray


def synthetic_metrics(num_cells: int, epochs: Sequence[int] = (108,), seed: int = 0,
                      num_runs: int = NUM_RUNS) -> RunMetrics:
    """Plausible made-up metrics, the same for the same arguments (for tests and benchmarks).

    Loosely shaped like NAS-Bench-101: 108-epoch validation accuracy mostly
    0.85-0.95 with a few failed cells near 0.1, test a little below validation,
    lower accuracy at small budgets, training time log-normal with a median of
    about 26 minutes at 108 epochs and proportional to the budget. Accuracies
    and times are rounded to float32 as in the official files.
    """
    rng = np.random.default_rng(seed)
    epochs = tuple(int(e) for e in epochs)
    shape = (num_cells, len(epochs), num_runs)
    quality = 0.95 - rng.exponential(0.03, num_cells)
    quality[rng.random(num_cells) < 0.01] = 0.1
    shortfall = np.array([0.5 * np.exp(-e / 12) for e in epochs])  # small budgets train less far
    val = np.clip(quality[:, None, None] - shortfall[None, :, None] + rng.normal(0, 0.004, shape), 0.05, 0.99)
    test = np.clip(val - 0.006 + rng.normal(0, 0.003, shape), 0.05, 0.99)
    train = np.clip(val + 0.08 + rng.normal(0, 0.01, shape), 0.05, 1.0)
    minutes_108 = rng.lognormal(np.log(26), 0.5, num_cells)
    budget_share = np.array(epochs) / 108
    time = 60 * minutes_108[:, None, None] * budget_share[None, :, None] * rng.normal(1, 0.01, shape)
    chance = np.full(shape, 0.1)

    def evaluations(initial, final, halfway_share):
        halfway = initial + (final - initial) * halfway_share
        return np.stack([initial, halfway, final], axis=-1).astype(np.float32).astype(np.float64)

    return RunMetrics(
        epochs=epochs,
        trainable_parameters=np.exp(rng.uniform(np.log(227_274), np.log(49_979_274), num_cells)).astype(np.int64),
        training_time=evaluations(np.zeros(shape), time, 0.5),
        train_accuracy=evaluations(chance, train, 0.9),
        validation_accuracy=evaluations(chance, val, 0.9),
        test_accuracy=evaluations(chance, test, 0.9),
        total_time=time * 1.1 + rng.uniform(20, 40, shape),
    )


def cell_strings(cells: CellArray | Sequence[Cell]) -> tuple[list[str], list[str], list[str]]:
    """Hashes, adjacency strings and op strings of pruned cells, in the official text forms."""
    if not isinstance(cells, CellArray):
        cells = CellArray.from_cells(cells)
    adjacency, operations = [], []
    for matrix, ops, k in zip(cells.matrices, cells.ops, cells.num_vertices.tolist()):
        adjacency.append((matrix[:k, :k] + ord("0")).tobytes().decode("ascii"))
        operations.append(",".join(OPS[o] for o in ops[:k].tolist()))
    return cells.hashes.tolist(), adjacency, operations


def encode_record(module_hash: str, epochs: int, adjacency: str, operations: str, metrics) -> bytes:
    """One record's bytes, as NAS-Bench-101 wrote them (``json.dumps`` defaults, ``base64.encodebytes``)."""
    raw = base64.encodebytes(metrics.SerializeToString()).decode("ascii")
    return json.dumps([module_hash, int(epochs), adjacency, operations, raw]).encode("utf-8")


def write_official_file(path: str | os.PathLike, cells: CellArray | Sequence[Cell], metrics: RunMetrics, *,
                        shuffle_seed: int | None = None, progress: bool = False) -> int:
    """Write cells and their per-run metrics as an official NAS-Bench-101 TFRecord file.

    One record per (cell, budget, run), in exactly the official layout (real
    protobuf serialisation; see the module docstring). Records go cell by
    cell, budget by budget, run by run, unless ``shuffle_seed`` permutes them
    (the converter must not depend on the order). Each cell's ``hash`` is
    written as its module hash. Atomic; returns the number of records.
    """
    hashes, adjacency, operations = cell_strings(cells)
    n_cells, n_budgets, n_runs, _ = metrics.validation_accuracy.shape
    if n_cells != len(hashes) or n_budgets != len(metrics.epochs):
        raise ValueError(f"metrics for {n_cells} cells x {n_budgets} budgets, but {len(hashes)} cells and "
                         f"budgets {metrics.epochs}")
    order = np.arange(n_cells * n_budgets * n_runs)
    if shuffle_seed is not None:
        order = np.random.default_rng(shuffle_seed).permutation(order)
    message = model_metrics_class()
    evaluations = np.stack([np.broadcast_to(np.array([0.0, 0.5, 1.0]), metrics.training_time.shape)
                            * np.array(metrics.epochs)[None, :, None, None],
                            metrics.training_time, metrics.train_accuracy,
                            metrics.validation_accuracy, metrics.test_accuracy], axis=-1)

    def records():
        for k in tqdm(order.tolist(), desc=f"writing {Path(path).name}", unit="record", disable=not progress):
            c, rest = divmod(k, n_budgets * n_runs)
            b, r = divmod(rest, n_runs)
            m = message(trainable_parameters=int(metrics.trainable_parameters[c]),
                        total_time=float(metrics.total_time[c, b, r]))
            for values in evaluations[c, b, r].tolist():
                m.evaluation_data.add(**dict(zip(_EVAL_FIELDS, values)))
            yield encode_record(hashes[c], metrics.epochs[b], adjacency[c], operations[c], m)

    return tfrecord.write_records(path, records())
