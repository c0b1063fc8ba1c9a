"""NAS-Bench-Macro: a small MBConv chain space whose every model was really trained.

6,561 = 3^8 CIFAR-10 networks (Su et al., CVPR 2021; data/nas_bench_macro/README.md):
8 searchable layers, each ``identity``, ``MB3 3x3`` or ``MB6 5x5``, every network
trained from scratch with 3 seeds. Here it is the real-accuracy counterpart of
section 4.2's protocol:

* validation signal (what a search sees after "training" a model): the test
  accuracy of ONE of its seeds, drawn per model with ``numpy.random.default_rng(seed)``
  over the whole table (so a model's draw does not depend on which others are
  evaluated), as NAS-Bench-101's simulation draws one of three runs (section 4.1).
  The benchmark has no separate validation split;
* final measure: the mean over the three seeds;
* latency: a per-layer table that np_lib measures on your machine
  (:mod:`np_lib.latency`), :func:`np_lib.latency.reference_table` by default.

Architectures are ``(n, 8)`` int8 arrays of op codes 0, 1, 2; a model's row in
the table is its base-3 number (the JSON keys in sorted order).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..datasets import locate
from ..latency import MACRO_OPS, LatencyTable, reference_table
from .base import Evaluation, as_rng, check_band, check_count, in_band
from .chain import ChainSpace

NUM_LAYERS = 8
NUM_MODELS = 3 ** NUM_LAYERS
FILE = Path("nas_bench_macro") / "nas-bench-macro_cifar10.json"


class NASBenchMacro(ChainSpace):
    """The whole benchmark as a chain space (module docstring).

    Attributes (rows in base-3 order): ``runs`` ``(6561, 3)`` accuracy fractions
    per seed, ``mean_accuracy``, ``params``, ``flops``; ``latency_table`` the
    :class:`~np_lib.latency.LatencyTable` pricing the layers.
    """

    name = "nas_bench_macro"

    def __init__(self, path: str | Path | None = None, latency_table: LatencyTable | None = None):
        path = Path(path) if path is not None else locate("nas-bench-macro")
        if not path.is_file():
            raise FileNotFoundError(f"no NAS-Bench-Macro data at {path}; set NP_LIB_DATA_DIR to the folder "
                                    f"holding {FILE}")
        with open(path) as f:
            data = json.load(f)
        keys = sorted(data)
        if len(keys) != NUM_MODELS or any(len(k) != NUM_LAYERS or set(k) - set("012") for k in keys):
            raise ValueError(f"{path}: expected {NUM_MODELS} entries keyed by {NUM_LAYERS} digits 0-2")
        self.runs = np.array([data[k]["test_acc"] for k in keys], float) / 100
        self.mean_accuracy = np.array([data[k]["mean_acc"] for k in keys], float) / 100
        self.params = np.array([data[k]["params"] for k in keys], np.int64)
        self.flops = np.array([data[k]["flops"] for k in keys], np.int64)
        self.latency_table = latency_table if latency_table is not None else reference_table()
        if self.latency_table.layers.shape != (NUM_LAYERS, len(MACRO_OPS)):
            raise ValueError(f"latency table of shape {self.latency_table.layers.shape} does not price "
                             f"{NUM_LAYERS} layers x {len(MACRO_OPS)} ops")
        allowed = np.ones((NUM_LAYERS, len(MACRO_OPS)), bool)
        super().__init__(MACRO_OPS, allowed, self.latency_table.layers, self.latency_table.fixed_cost)

    def all(self) -> np.ndarray:
        """Every architecture, in row order."""
        digits = np.arange(NUM_MODELS)[:, None] // 3 ** np.arange(NUM_LAYERS - 1, -1, -1) % 3
        return digits.astype(np.int8)

    def rows(self, archs) -> np.ndarray:
        """Row of each architecture in the table (its base-3 number)."""
        return self.check(archs).astype(np.int64) @ 3 ** np.arange(NUM_LAYERS - 1, -1, -1)

    def sample(self, n: int, seed) -> np.ndarray:
        """``n`` distinct architectures, uniform without replacement (a finite, fully trained space)."""
        n = check_count(n)
        if n > NUM_MODELS:
            raise ValueError(f"cannot draw {n} distinct models from {NUM_MODELS}")
        return self.all()[as_rng(seed).choice(NUM_MODELS, n, replace=False)]

    def sample_in_band(self, n: int, band, seed, *, progress: bool = True) -> np.ndarray:
        """``n`` distinct models, uniform among those whose latency is in ``band``."""
        n = check_count(n)
        low, high = check_band(band)
        candidates = np.flatnonzero(in_band(self.latency(self.all()), band))
        if n > len(candidates):
            raise ValueError(f"only {len(candidates)} of {NUM_MODELS} models lie in the band [{low:g}, {high:g}] "
                             f"ms; cannot draw {n}")
        return self.all()[as_rng(seed).choice(candidates, n, replace=False)]

    def macs(self, archs) -> np.ndarray:
        """Multiply-accumulates from the table's per-layer counts (equal to the benchmark's ``flops``)."""
        return self.latency_table.total_macs(self.check(archs))

    def evaluate(self, archs, seed) -> Evaluation:
        """Validation: one seed's accuracy per model (drawn over the whole table); test: the seeds' mean."""
        rows = self.rows(archs)
        run = np.random.default_rng(int(seed)).integers(self.runs.shape[1], size=NUM_MODELS)[rows]
        return Evaluation(int(seed), self.runs[rows, run], self.mean_accuracy[rows], np.full(len(rows), np.nan))
