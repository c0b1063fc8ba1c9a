"""NAS-Bench-201's published results: every cell's CIFAR-10 accuracy and its latency on 27 devices.

:func:`load` reads the two public files of the data directory's ``nasbench201/``
folder (see its README for sources, licences and checksums):

* ``arch_score_acc.pd``: accuracies of all 15,625 cells (a pickled DataFrame,
  so its sha256 is verified before it is unpickled; a file that does not
  match is refused);
* ``str_arch2idx.pt``: arch string -> official index, read with
  ``torch.load(weights_only=True)``;
* ``latency/<device>.pt``: the latency of every cell on one device, read on
  first use.

Unlike the NAS-Bench-101 sample, the benchmark is COMPLETE: the pool is the
whole space, so Regularized Evolution can mutate freely and every mutant is
looked up by its index; the oracle is the true best.

A loaded :class:`NASBench201` holds the data; ``bench.space(device)``
(:class:`~np_lib.nasbench201.search_space.NASBench201Space`) is the benchmark
of the one search protocol (:class:`np_lib.protocol.Benchmark`) that every
strategy and ``run_experiment`` take, with that device's latency.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..datasets import locate
from ..protocol import Outcomes
from .cell import NUM_CELLS, check_cells, format_many, is_connected, parse_many, to_code

DATASET = "nasbench201"
LATENCY_DATASET = "nasbench201-latency"
ACCURACY_FILE = "nasbench201/arch_score_acc.pd"
INDEX_FILE = "nasbench201/str_arch2idx.pt"
#: Epochs every NAS-Bench-201 cell was trained for (the accuracies are after the last one).
EPOCHS = 200
#: The 27 latency tables (data README): HW-NAS-Bench's pixel3, raspi4 (measured), eyeriss, fpga
#: (simulated); HELP's phones (whole milliseconds), server CPUs and GPUs at batch sizes 1/32/256.
DEVICES = ("pixel3", "raspi4", "eyeriss", "fpga",
           "pixel2", "samsung_a50", "samsung_s7", "essential_ph_1",
           "gold_6226", "gold_6240", "silver_4114", "silver_4210r",
           *(f"{gpu}_{batch}" for gpu in ("1080ti", "2080ti", "titanx", "titanxp", "titan_rtx")
             for batch in (1, 32, 256)))


class NASBench201:
    """All 15,625 NAS-Bench-201 cells in official index order, with their CIFAR-10 results.

    Attributes (arrays aligned with the official index, read-only)
    ----------
    cells : ``(15625, 6)`` int8 op codes (:mod:`np_lib.nasbench201.cell`); row ``i`` is index ``i``
    strings : the arch strings
    validation_accuracy : fraction, the ``cifar10-valid`` split: trained on 25k training
        images and evaluated on the other 25k, 200 epochs, **mean over NAS-Bench-201's seeds**
    test_accuracy : fraction, CIFAR-10 test set after training on all 50k, mean over seeds
    parameters : millions
    connected : whether the cell has an input -> output path (341 do not)
    devices : the 27 device names of :meth:`latency`
    has_test_accuracy : True; has_training_time : False (the files hold no training time)
    """

    has_test_accuracy = True
    has_training_time = False
    devices = DEVICES

    def __init__(self, cells, validation_accuracy, test_accuracy, parameters, *, data_dir=None,
                 path: Path | None = None):
        self.cells = _readonly(check_cells(cells))
        if len(self.cells) != NUM_CELLS:
            raise ValueError(f"NAS-Bench-201 has {NUM_CELLS} cells, got {len(self.cells)}")
        self.strings = _readonly(format_many(self.cells))
        self.validation_accuracy = _readonly(np.asarray(validation_accuracy, np.float64))
        self.test_accuracy = _readonly(np.asarray(test_accuracy, np.float64))
        self.parameters = _readonly(np.asarray(parameters, np.float64))
        self.connected = _readonly(is_connected(self.cells))
        self.path = path
        self._data_dir = data_dir
        self._by_code = np.full(NUM_CELLS, -1, np.int64)
        self._by_code[to_code(self.cells)] = np.arange(NUM_CELLS)
        if (self._by_code < 0).any():
            raise ValueError("the cells are not the 15,625 distinct NAS-Bench-201 cells")
        self._latency: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return NUM_CELLS

    def __repr__(self):
        return (f"NASBench201({NUM_CELLS} cells, {len(self.devices)} latency devices, "
                f"file='{Path(self.path).name}')")  # .path has the full path

    def index(self, cells) -> np.ndarray | int:
        """Official indices of cells: op codes ``(n, 6)`` or arch strings (one string gives an int).

        Vectorised: a lookup table by base-5 code, so mutants of a whole
        population are located at once.
        """
        if isinstance(cells, str):
            return int(self._by_code[to_code(parse_many([cells]))[0]])
        if len(cells) and isinstance(cells[0], str):
            cells = parse_many(cells)
        return self._by_code[to_code(cells)]

    def space(self, device: str | None = None):
        """This benchmark as a search space of the one protocol; ``latency(archs)`` is ``device``'s.

        What every strategy and ``run_experiment`` take (:class:`np_lib.protocol.Benchmark`):
        :class:`~np_lib.nasbench201.search_space.NASBench201Space`. Without a
        device its latency is NaN (a search that needs latency says so).
        """
        from .search_space import NASBench201Space

        return NASBench201Space(self, device)

    def simulate(self, seed: int = 0, epochs: int = EPOCHS) -> Outcomes:
        """"Train" every cell: the outcome the searches of section 4.1 see.

        The data holds only the **mean over NAS-Bench-201's training seeds**, no
        per-seed values, so the Neural Predictor paper's simulation ("the
        validation accuracy from a single run", drawn per experiment) cannot be
        done: every ``seed`` gives the same outcomes, the seed means. That
        signal is less noisy than one run, which makes searches here look a
        little better than they would on single runs. ``training_time`` is NaN:
        the files record no training time (``has_training_time`` is False),
        so searches here have no time axis. ``seed`` is kept in the outcome for
        the record.
        """
        if epochs != EPOCHS:
            raise ValueError(f"NAS-Bench-201's files hold {EPOCHS}-epoch results only, not {epochs}")
        no_time = np.full(NUM_CELLS, np.nan)
        no_time.setflags(write=False)
        run = np.zeros(NUM_CELLS, np.int64)
        run.setflags(write=False)
        return Outcomes(seed=int(seed), epochs=EPOCHS, run=run,
                                validation_accuracy=self.validation_accuracy,
                                test_accuracy=self.test_accuracy, training_time=no_time,
                                has_test_accuracy=True)

    def latency(self, device: str) -> np.ndarray:
        """Latency in ms of every cell (official order) on ``device``, float64, read-only.

        Sources per device in the data README: measured (pixel3, raspi4, the
        phones, CPUs, GPUs) or simulator estimates (eyeriss, fpga). The phones
        of HELP report whole milliseconds. The devices ran the whole cell, ops
        that ``none`` edges cut off from the output included, so latency counts
        them although they cannot change the accuracy (and the GCN's graph drops
        them). Disconnected cells (``~connected``) are at chance accuracy and
        mostly near-zero latency (pixel3: median 0.05 ms, but up to 14.7 ms
        when dangling convolutions remain): leave them out of latency bands.
        """
        if not isinstance(device, str):
            raise TypeError(f"latency(device) takes a device name ({', '.join(DEVICES)}), got "
                            f"{type(device).__name__}; latency per architecture is bench.space(device).latency(archs)")
        if device not in DEVICES:
            raise ValueError(f"unknown device {device!r}; NAS-Bench-201's latency data has: {', '.join(DEVICES)}")
        if device not in self._latency:
            self._latency[device] = _read_latency(device, self._data_dir)
        return self._latency[device]

    def summary(self) -> dict:
        """Headline numbers for checking the data against the NAS-Bench-201 paper (data README)."""
        best = int(np.argmax(self.validation_accuracy))
        return {"num_cells": NUM_CELLS, "num_disconnected": int((~self.connected).sum()),
                "best_validation_index": best, "best_validation": float(self.validation_accuracy[best]),
                "test_of_best_validation": float(self.test_accuracy[best]),
                "best_test": float(self.test_accuracy.max()),
                "median_validation": float(np.median(self.validation_accuracy))}


def _readonly(array: np.ndarray) -> np.ndarray:
    array = np.array(array)  # a copy: the caller's array stays writable and unshared
    array.setflags(write=False)
    return array


def load(data_dir: str | os.PathLike | None = None) -> NASBench201:
    """Load NAS-Bench-201 from ``data_dir`` (default: :func:`np_lib.storage.data_dir`).

    The accuracy pickle's sha256 is checked against the registry before it is
    unpickled (unpickling runs code): a mismatch raises ``DatasetCorrupt`` and
    nothing is read. The index file must agree with the pickle's ``cellstr``
    column row for row, and the values must be in range (no NaN accuracy,
    percentages in [0, 100]); otherwise a ValueError says what is wrong.
    Nothing is cached: reading and checking the files is fast (benchmarks/nasbench201_load.py).
    """
    import pandas as pd
    import torch

    accuracy_path = locate(DATASET, ACCURACY_FILE, data_dir=data_dir, verify=True)
    table = pd.read_pickle(accuracy_path)
    index_path = locate(DATASET, INDEX_FILE, data_dir=data_dir, verify=True)
    str_to_index = torch.load(index_path, weights_only=True)
    _check_table(table, str_to_index, accuracy_path, index_path)
    cells = parse_many(table["cellstr"])
    return NASBench201(cells, table["valid_top1"].to_numpy(np.float64) / 100.0,
                       table["test_top1"].to_numpy(np.float64) / 100.0,
                       table["params"].to_numpy(np.float64), data_dir=data_dir, path=accuracy_path)


def _check_table(table, str_to_index, accuracy_path: Path, index_path: Path) -> None:
    required = ["arch", "cellstr", "params", "valid_top1", "test_top1"]
    missing = [c for c in required if c not in getattr(table, "columns", ())]
    if missing:
        raise ValueError(f"{accuracy_path}: missing columns {missing}; expected NAS-Bench-201's {required}")
    if len(table) != NUM_CELLS:
        raise ValueError(f"{accuracy_path}: {len(table)} rows, NAS-Bench-201 has {NUM_CELLS}")
    if not np.array_equal(table["arch"].to_numpy(), np.arange(NUM_CELLS)):
        raise ValueError(f"{accuracy_path}: rows are not in official index order (column 'arch' != 0..15624)")
    if not isinstance(str_to_index, dict) or len(str_to_index) != NUM_CELLS:
        raise ValueError(f"{index_path}: expected a dict of {NUM_CELLS} arch strings -> index")
    strings = table["cellstr"].tolist()
    wrong = [i for i, s in enumerate(strings) if str_to_index.get(s) != i]
    if wrong:
        i = wrong[0]
        raise ValueError(f"{index_path} and {accuracy_path} disagree on the official order: row {i} is "
                         f"{strings[i]!r}, which the index file maps to {str_to_index.get(strings[i])!r} "
                         f"({len(wrong)} rows disagree)")
    for column in ("valid_top1", "test_top1"):
        values = table[column].to_numpy(np.float64)
        bad = ~np.isfinite(values) | (values < 0) | (values > 100)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{accuracy_path}: {bad.sum()} {column} values are NaN or outside [0, 100] "
                             f"(first at index {i}: {values[i]!r})")


def _read_latency(device: str, data_dir) -> np.ndarray:
    import torch

    path = locate(LATENCY_DATASET, f"nasbench201/latency/{device}.pt", data_dir=data_dir)
    values = torch.load(path, weights_only=True)
    try:
        latency = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{path}: expected a list of {NUM_CELLS} numbers (ms), got {type(values).__name__}") from None
    if latency.shape != (NUM_CELLS,):
        raise ValueError(f"{path}: expected {NUM_CELLS} latencies (one per cell), got shape {latency.shape}")
    bad = ~np.isfinite(latency) | (latency < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{path}: {bad.sum()} latencies are NaN, infinite or negative "
                         f"(first at index {i}: {latency[i]!r})")
    latency.setflags(write=False)
    return latency
