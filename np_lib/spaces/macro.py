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

It is a :class:`~np_lib.spaces.pool.PoolSpace` read from the JSON like any
user's table (``PoolSpace.from_dataframe``). Architectures are ``(n, 8)`` int8
arrays of op codes 0, 1, 2 (indices into ``MACRO_OPS``); the pool's rows are
in the JSON keys' sorted order, which is each model's base-3 number.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..latency import MACRO_OPS, LatencyTable, reference_table
from ..datasets import locate
from .pool import PoolSpace, dataframe_arguments

NUM_LAYERS = 8
NUM_MODELS = 3 ** NUM_LAYERS
FILE = Path("nas_bench_macro") / "nas-bench-macro_cifar10.json"


class NASBenchMacro(PoolSpace):
    """The whole benchmark as a pool space (module docstring).

    Attributes (rows in base-3 order): ``runs`` ``(6561, 3)`` accuracy fractions
    per seed, ``mean_accuracy``, ``params``, ``flops``; ``latency_table`` the
    :class:`~np_lib.latency.LatencyTable` pricing the layers; ``table`` the
    benchmark as a DataFrame (one row per model, a column per layer).
    """

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
        self.latency_table = latency_table if latency_table is not None else reference_table()
        if self.latency_table.layers.shape != (NUM_LAYERS, len(MACRO_OPS)):
            raise ValueError(f"latency table of shape {self.latency_table.layers.shape} does not price "
                             f"{NUM_LAYERS} layers x {len(MACRO_OPS)} ops")
        layers = [f"layer{i}" for i in range(NUM_LAYERS)]
        runs = [f"seed{r}" for r in range(len(data[keys[0]]["test_acc"]))]
        table = pd.DataFrame({
            **{layer: [MACRO_OPS[int(k[i])] for k in keys] for i, layer in enumerate(layers)},
            **{run: [data[k]["test_acc"][r] for k in keys] for r, run in enumerate(runs)},
            "mean_acc": [data[k]["mean_acc"] for k in keys],
            "params": [data[k]["params"] for k in keys], "flops": [data[k]["flops"] for k in keys]})
        additive = {"fixed": self.latency_table.fixed_cost,
                    **{layer: dict(zip(MACRO_OPS, self.latency_table.layers[i])) for i, layer in enumerate(layers)}}
        super().__init__(**dataframe_arguments(table, layers, runs, unit="percent", test="mean_acc",
                                               latency=additive, labels=MACRO_OPS, name="nas_bench_macro"))
        self.table = table
        self.runs = self.accuracy
        self.mean_accuracy = self.test
        self.params = table["params"].to_numpy(np.int64)
        self.flops = table["flops"].to_numpy(np.int64)

    def macs(self, archs) -> np.ndarray:
        """Multiply-accumulates from the table's per-layer counts (equal to the benchmark's ``flops``)."""
        return self.latency_table.total_macs(self.check(archs))
