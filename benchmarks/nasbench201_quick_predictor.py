"""Notebook 07's quick predictor settings on NAS-Bench-201: what they cost and what they rank.

Notebook 07 runs 50 Neural Predictor searches per variant plus a Figure 7 sweep
(N = 43 ... 860) inside a few CPU-minutes, so it cannot afford NAS-Bench-101's
predictor (D = 144, 300 epochs). A search's cost is two matmul-bound parts that
scale with D²: the fit (N cells x epochs) and scoring the other ~15,450 cells
(twice for the two-stage predictor). This prints, for each setting, on the same
``--draws`` random training sets of N cells (seeded 100 + draw; the model seeded
with the draw number): Kendall tau on all held-out cells and among the held-out
cells in the top 10 % of validation accuracy, the true validation accuracy of the
best cell among the predictor's top 10 and top 100 (what a search with K = 10 /
100 would find), and the CPU seconds (one thread) of the fit and of the scoring.

    NP_LIB_DATA_DIR=../shared/data PYTHONPATH=. python benchmarks/nasbench201_quick_predictor.py [--draws 3]

Settings: the paper-scale one (D = 144, 300 epochs at 1e-3: np_lib's defaults),
notebook 04's quick one (D = 144, 50 epochs at 1e-3) and notebook 07's
(D = 64, 25 epochs at 2e-3), with the same D and epochs at 1e-3 to show why the
rate goes up when the epochs go down. Notebook 07's parameters cell quotes the
two-stage results (N = 172, 3 draws).
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import np_lib.nasbench201 as nb
from np_lib.metrics import kendall_tau
from np_lib.predictor import NeuralPredictor, TwoStagePredictor

SETTINGS = {
    "paper scale: D 144, 300 epochs, lr 1e-3": dict(D=144, epochs=300, lr=1e-3),
    "notebook 04 quick: D 144, 50 epochs, lr 1e-3": dict(D=144, epochs=50, lr=1e-3),
    "notebook 07 quick: D 64, 25 epochs, lr 2e-3": dict(D=64, epochs=25, lr=2e-3),
    "D 64, 25 epochs, lr 1e-3": dict(D=64, epochs=25, lr=1e-3),
}
TWO_STAGE_QUANTILE = 0.388  # notebook 07's threshold (its section 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=3)
    parser.add_argument("--N", type=int, default=172)
    parser.add_argument("--single-stage", action="store_true", help="NeuralPredictor instead of the two-stage one")
    args = parser.parse_args()
    torch.set_num_threads(1)
    bench = nb.load()
    val = bench.validation_accuracy
    graphs = nb.encode(bench.cells)
    threshold = float(np.quantile(val, TWO_STAGE_QUANTILE))
    top_decile = val >= np.quantile(val, 0.9)
    print(f"N = {args.N}, {args.draws} draws, {'single' if args.single_stage else 'two'}-stage "
          f"(threshold {100 * threshold:.2f} %); means over draws")
    for label, params in SETTINGS.items():
        rows = []
        for draw in range(args.draws):
            train = nb.sample_indices(args.N, 100 + draw)
            rest = np.setdiff1d(np.arange(len(val)), train)
            model = (NeuralPredictor(seed=draw, **params) if args.single_stage
                     else TwoStagePredictor(threshold=threshold, seed=draw, **params))
            start = time.process_time()
            model.fit(graphs[train], val[train])
            fit = time.process_time() - start
            start = time.process_time()
            score = model.rank_score(graphs[rest])
            scoring = time.process_time() - start
            order = rest[np.argsort(-score, kind="stable")]
            top = top_decile[rest]
            rows.append((kendall_tau(val[rest], score), kendall_tau(val[rest][top], score[top]),
                         100 * val[order[:10]].max(), 100 * val[order[:100]].max(), fit, scoring))
        m = np.mean(rows, axis=0)
        print(f"{label:46s} tau {m[0]:.3f} | tau in top 10 % {m[1]:.3f} | best of top 10 {m[2]:.3f} % | "
              f"best of top 100 {m[3]:.3f} % | fit {m[4]:.2f} s | scoring {m[5]:.2f} s", flush=True)


if __name__ == "__main__":
    main()
