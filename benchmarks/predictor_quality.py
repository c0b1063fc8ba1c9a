"""The predictor where search needs it: the top of its ranking, on unseen NAS-Bench-101 cells.

A search trains the predictor's top-K (section 3.1), so besides Kendall tau this
prints what the cells ranked first are really worth, and where the degenerate
2- and 3-vertex cells land. Each draw trains on N random cells of the 20,001-cell
sample and scores ``--held-out`` other random cells; the 2- and 3-vertex cells are
always held out (the sample has exactly one of each; their accuracy is ~84 %).

    NP_LIB_DATA_DIR=../shared/data PYTHONPATH=. python benchmarks/predictor_quality.py --draws 5

Columns: tau (mean ± std over draws, and the worst draw), MSE in percent² on
held-out cells truly above 91 %, mean true accuracy of the top-10 / top-100,
the rank (1 = first) of the 2- and 3-vertex cells (worst over draws), the share
of draws with a failed-run label (< 20 %) in the training set, and fit seconds.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

import np_lib.nasbench101 as nb
from np_lib import NeuralPredictor, TwoStagePredictor
from np_lib.metrics import kendall_tau, mse_percent

FAILED_RUN = 0.20  # a label below this is a run that failed to train, not the cell's quality


def variants(epochs: int) -> dict:
    """name -> (estimator factory(seed), ranking function(model, cells))."""
    def rank(model, cells):
        return model.rank_score(cells)

    def product(model, cells):
        # Two-stage ranking by regressor x classifier probability (issue 15 item 3).
        return model.regressor_.predict(cells) * model.predict_proba(cells)

    return {
        "NeuralPredictor (defaults)": (lambda s: NeuralPredictor(epochs=epochs, seed=s), rank),
        "NeuralPredictor lr 1e-3": (lambda s: NeuralPredictor(epochs=epochs, lr=1e-3, seed=s), rank),
        "TwoStagePredictor (defaults)": (lambda s: TwoStagePredictor(epochs=epochs, seed=s), rank),
        "TwoStagePredictor, rank reg x prob": (lambda s: TwoStagePredictor(epochs=epochs, seed=s), product),
        "TwoStagePredictor lr 1e-3": (lambda s: TwoStagePredictor(epochs=epochs, lr=1e-3, seed=s), rank),
        "TwoStagePredictor lr 1e-3, rank reg x prob":
            (lambda s: TwoStagePredictor(epochs=epochs, lr=1e-3, seed=s), product),
    }


def draws(num_cells: int, tiny: np.ndarray, N: int, held_out: int, count: int, seed: int):
    """``count`` (train, test) index pairs; the tiny cells are always in test."""
    rng = np.random.default_rng(seed)
    others = np.setdiff1d(np.arange(num_cells), tiny)
    for _ in range(count):
        order = rng.permutation(others)
        yield order[:N], np.concatenate([tiny, order[N:N + held_out - len(tiny)]])


def score(y_true: np.ndarray, score: np.ndarray, predicted: np.ndarray, tiny_positions) -> dict:
    order = np.argsort(-score, kind="stable")
    ranks = np.empty(len(order), dtype=int)
    ranks[order] = np.arange(1, len(order) + 1)
    good = y_true > 0.91
    return {
        "tau": kendall_tau(y_true, score),
        "mse_good": mse_percent(y_true[good], predicted[good]),
        "top10": 100 * y_true[order[:10]].mean(),
        "top100": 100 * y_true[order[:100]].mean(),
        "tiny_ranks": [int(ranks[p]) for p in tiny_positions],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=172)
    parser.add_argument("--held-out", type=int, default=10_000)
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", help="variant names (substrings) to run")
    args = parser.parse_args()

    bench = nb.load(progress=False)
    y = bench.simulate(0).validation_accuracy
    vertices = np.asarray(bench.cells.num_vertices, dtype=int)
    tiny = np.flatnonzero(vertices <= 3)
    tiny = tiny[np.argsort(vertices[tiny], kind="stable")]
    splits = list(draws(len(bench), tiny, args.N, args.held_out, args.draws, args.seed))
    best = np.sort(y[splits[0][1]])[::-1]
    print(f"{bench!r}\nN = {args.N}, {args.held_out} held-out cells, {args.draws} draws, {args.epochs} epochs; "
          f"tiny cells (vertices {vertices[tiny].tolist()}) true {np.round(100 * y[tiny], 2).tolist()} %; "
          f"best possible top-10 / top-100 (draw 0): {100 * best[:10].mean():.2f} / {100 * best[:100].mean():.2f}")
    failed = [bool((y[train] < FAILED_RUN).any()) for train, _ in splits]
    print(f"draws with a failed-run label (< {FAILED_RUN:.0%}) in training: {sum(failed)} of {len(failed)}")

    header = f"| variant | tau | worst tau | MSE > 91 % | top-10 | top-100 | rank of 2-/3-vertex (worst) | fit s |"
    print("\n" + header + "\n|" + "---|" * (header.count("|") - 1))
    for name, (make, ranking) in variants(args.epochs).items():
        if args.only and not any(o in name for o in args.only):
            continue
        rows, seconds = [], []
        for d, (train, test) in enumerate(splits):
            start = time.perf_counter()
            model = make(d).fit(bench.cells[train], y[train])
            seconds.append(time.perf_counter() - start)
            cells = bench.cells[test]
            rows.append(score(y[test], ranking(model, cells), model.predict(cells), range(len(tiny))))
        tau = np.array([r["tau"] for r in rows])
        mean = {k: np.mean([r[k] for r in rows]) for k in ("mse_good", "top10", "top100")}
        worst_tiny = np.min([r["tiny_ranks"] for r in rows], axis=0).tolist()
        print(f"| {name} | {tau.mean():.3f} ± {tau.std():.3f} | {tau.min():.3f} | {mean['mse_good']:.2f} "
              f"| {mean['top10']:.2f} | {mean['top100']:.2f} | {worst_tiny} | {np.median(seconds):.1f} |", flush=True)


if __name__ == "__main__":
    main()
