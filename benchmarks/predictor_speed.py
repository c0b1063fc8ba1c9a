"""How fast the Neural Predictor trains and predicts on this machine; prints one JSON object.

Figures (medians over ``--repeats`` runs, seconds unless named ``_us``):

* ``fit_n172``: a default :class:`~np_lib.NeuralPredictor` (section 4.1 / reference
  reimplementation defaults: 300 epochs x 18 steps of 10) on N = 172 sample cells.
  ``wall``, process ``cpu`` and ``step_us`` (wall per optimiser step), one thread
  (training always runs on one: np_lib.predictor). ``first_fit_overhead``: the
  one-time cost of the first fit in a process.
* ``predict_pool``: all 20,001 cells of the NAS-Bench-101 sample, from a CellArray
  (encoding included), with 1 (the default) and 2 torch threads.
* ``predict_space``: the same for 423,624 cells, the size of NAS-Bench-101, made by
  tiling the sample (the cost does not depend on which cells they are).
* ``layer_us``: one bidirectional layer (D = 144) as implemented in np_lib.gcn against
  the same layer built from two torch-geometric DenseGCNConv, one thread; forward +
  backward on a training batch of 10 graphs, forward on a prediction chunk of 1,024.
* ``load_average``: the machine's 1-minute load before and after; other processes
  on a 2-core machine change every figure here, so read them together.

Targets for a 2-core CPU: fit under 5 s, pool under 0.5 s, space under 15 s (the
paper: 25 s per fit). Usage::

    PYTHONPATH=. python benchmarks/predictor_speed.py [--repeats 3] [--data CSV] [--no-readme]

The figures also replace this script's section of benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from np_lib import NeuralPredictor
from np_lib.gcn import BiGraphConv, GraphInputs
from np_lib.nasbench101.cell import CellArray
from np_lib.nasbench101.encoding import encode
from np_lib.storage import DATA_DIR_ENV, data_dir
from readme import write_section  # benchmarks/readme.py, beside this script

N = 172
SPACE_SIZE = 423_624
SAMPLE = Path("nasbench101") / "nasbench101_sample20k.csv"


def sample_path() -> Path:
    """NP_LIB_DATA_DIR or the repository's data/, else the shared folder beside the clone."""
    for base in (data_dir(), Path(__file__).resolve().parents[2] / "shared" / "data"):
        if (base / SAMPLE).is_file():
            return base / SAMPLE
    raise SystemExit(f"{SAMPLE} not found; set {DATA_DIR_ENV} to the data folder or pass --data")


def timed(fn, repeats: int) -> tuple[float, float]:
    """Median wall and process-CPU seconds of ``fn()``."""
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return statistics.median(walls), statistics.median(cpus)


class DenseGCNPair(nn.Module):
    """The section 3.2 layer from torch-geometric's DenseGCNConv, for comparison only."""

    def __init__(self, in_features: int, out_features: int):
        from torch_geometric.nn import DenseGCNConv

        super().__init__()
        self.forward_conv = DenseGCNConv(in_features, out_features, bias=False)
        self.backward_conv = DenseGCNConv(in_features, out_features, bias=False)

    def forward(self, v, adjacency, mask):
        return 0.5 * (torch.relu(self.forward_conv(v, adjacency, mask))
                      + torch.relu(self.backward_conv(v, adjacency.transpose(1, 2), mask)))


def layer_timings(cells: CellArray, repeats: int) -> dict:
    D = 144
    ours, theirs = BiGraphConv(D, D), DenseGCNPair(D, D)
    out = {}
    for name, size, train in (("train_batch10_fwd_bwd", 10, True), ("predict_chunk1024_fwd", 1024, False)):
        graphs = encode(cells[:size])
        x = GraphInputs.from_graphs(graphs)
        v = (torch.randn(size, graphs.num_nodes, D) * graphs.mask[..., None]).requires_grad_(train)
        calls = {"np_lib": lambda: ours(v, x.propagation),
                 "DenseGCNConv": lambda: theirs(v, graphs.adjacency, graphs.mask)}
        loops = 200 if train else 5
        for label, call in calls.items():
            def run():
                for _ in range(loops):
                    if train:
                        call().sum().backward()
                    else:
                        with torch.inference_mode():
                            call()
            run()  # warm-up
            out[f"{name}_{label}"] = round(timed(run, repeats)[0] / loops * 1e6, 1)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=Path, default=None, help="the NAS-Bench-101 sample CSV")
    parser.add_argument("--no-readme", action="store_true", help="print only; leave benchmarks/README.md alone")
    args = parser.parse_args()

    load_before = os.getloadavg()[0]
    table = pd.read_csv(args.data or sample_path(), dtype={"module_adjacency": str})
    cells = CellArray.from_strings(table["module_adjacency"], table["module_operations"], table["module_hash"])
    y = table["validation_accuracy_108"].to_numpy()
    train = np.random.default_rng(0).permutation(len(cells))[:N]

    first_fit = timed(lambda: NeuralPredictor(epochs=1).fit(cells[train], y[train]), 1)[0]
    one_epoch = timed(lambda: NeuralPredictor(epochs=1).fit(cells[train], y[train]), 1)[0]
    model = NeuralPredictor()
    steps_per_epoch = -(-N // model.batch_size)  # the last, partial batch counts
    steps = model.epochs * steps_per_epoch
    fit_wall, fit_cpu = timed(lambda: model.fit(cells[train], y[train]), args.repeats)

    space = cells[np.resize(np.arange(len(cells)), SPACE_SIZE)]
    pool, whole = {}, {}
    for threads in (1, 2):
        model.num_threads = threads
        pool[f"threads_{threads}"] = round(timed(lambda: model.predict(cells), args.repeats)[0], 3)
        whole[f"threads_{threads}"] = round(timed(lambda: model.predict(space), args.repeats)[0], 2)

    torch.set_num_threads(1)  # as in training
    layers = layer_timings(cells, args.repeats)

    figures = {
        "torch": torch.__version__, "cpu_count": os.cpu_count(),
        "fit_n172": {"wall": round(fit_wall, 2), "cpu": round(fit_cpu, 2),
                     "step_us": round(fit_wall / steps * 1e6), "steps": steps},
        "first_fit_overhead": round(first_fit - one_epoch, 2),
        "predict_pool": {"cells": len(cells), **pool},
        "predict_space": {"cells": SPACE_SIZE, **whole},
        "layer_us": layers,
        "load_average": {"before": load_before, "after": os.getloadavg()[0]},
        "repeats": args.repeats,
    }
    print(json.dumps(figures, indent=2))
    if not args.no_readme:
        write_section("predictor_speed", "Predictor fit and prediction (NAS-Bench-101, section 4.1)", figures)


if __name__ == "__main__":
    main()
