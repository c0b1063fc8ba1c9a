"""The predictor where search needs it: the top of its ranking, on unseen NAS-Bench-101 cells.

A search trains the predictor's top-K (section 3.1), so besides Kendall tau this
prints what the cells ranked first are really worth, and where the degenerate
2- and 3-vertex cells land. Each draw trains on N random cells of the 20,001-cell
sample and scores ``--held-out`` other random cells; the 2- and 3-vertex cells are
always held out (the sample has exactly one of each; their accuracy is ~84 %).
Every variant sees the same draws, trained with seed = draw number.

``--space nasbench201`` runs the same on NAS-Bench-201 (all 15,625 cells, CIFAR-10
validation accuracy, seed means), where the 341 disconnected cells are truly at
chance (~10 %): there the "degenerate" column is the best rank any held-out
disconnected cell reaches (worst draw), which a predictor that learnt them as
bad keeps near the bottom; a label policy for NAS-Bench-101's failed runs must
not spoil this.

    NP_LIB_DATA_DIR=../shared/data PYTHONPATH=. python benchmarks/predictor_quality.py --draws 5

Columns: tau (mean ± std over draws, and the worst draw), MSE in percent² on
held-out cells truly above 91 %, mean true accuracy of the top-10 / top-100,
the rank (1 = first) of the 2- and 3-vertex cells (worst over draws), and the
median fit seconds (one thread). A two-stage variant is fitted once per draw and
scored under every ranking rule (``TwoStagePredictor(ranking=...)``), whose fit
is the same. ``--paired`` adds paired differences (95 % t intervals over draws)
of tau and top-10 against the first variant run.

``--fit-time`` prints only the fit cost instead: CPU seconds (``time.process_time``,
torch on one thread) of fitting the default NeuralPredictor and TwoStagePredictor and
the same before issue 15 (``BEFORE``, ``BEFORE_TWO_STAGE``), and the default
TwoStagePredictor against itself without the accuracy head, one fit each per draw on that draw's N
training cells, the two settings interleaved (their order alternating by draw) so
that a change in the machine's load falls on both; median, range and the paired
difference now minus before (95 % t interval over the draws):

    NP_LIB_DATA_DIR=../shared/data PYTHONPATH=. python benchmarks/predictor_quality.py --fit-time --draws 5
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

import np_lib.nasbench101 as nb
from np_lib import NeuralPredictor, TwoStagePredictor
from np_lib.compare import paired_difference
from np_lib.metrics import kendall_tau, mse_percent
from np_lib.predictor import RANKINGS, two_stage_score

FAILED_RUN = 0.20  # a label below this is a run that failed to train, not the cell's quality
#: NAS-Bench-201's two-stage threshold: this quantile of validation accuracy (notebook 07, section 3,
#: where 91 % sits in NAS-Bench-101's distribution); 91 % would leave no cell above it.
NASBENCH201_THRESHOLD_QUANTILE = 0.388

#: The defaults before issue 15: lr 1e-4 (the reference reimplementation's), the mean over real
#: nodes, the MSE (and for the two-stage predictor the cascade ranking and no accuracy head:
#: BEFORE_TWO_STAGE).
BEFORE = {"lr": 1e-4, "pooling": "mean", "huber_delta": None}
BEFORE_TWO_STAGE = {**BEFORE, "ranking": "cascade", "accuracy_head": False}


def variants() -> dict:
    """name -> (estimator class, parameters beyond epochs and seed): the defaults, the defaults
    before issue 15, and the defaults with one choice undone at a time."""
    return {
        "NeuralPredictor (defaults: lr 1e-3, slots, Huber 2)": (NeuralPredictor, {}),
        "NeuralPredictor, before issue 15 (lr 1e-4, mean, MSE)": (NeuralPredictor, BEFORE),
        "NeuralPredictor defaults but lr 1e-4": (NeuralPredictor, {"lr": 1e-4}),
        "NeuralPredictor defaults but mean pooling": (NeuralPredictor, {"pooling": "mean"}),
        "NeuralPredictor defaults but MSE": (NeuralPredictor, {"huber_delta": None}),
        "NeuralPredictor defaults but Huber 5": (NeuralPredictor, {"huber_delta": 5.0}),
        "TwoStagePredictor (defaults: lr 1e-3, slots, Huber 2, accuracy head)": (TwoStagePredictor, {}),
        "TwoStagePredictor defaults but no accuracy head": (TwoStagePredictor, {"accuracy_head": False}),
        "TwoStagePredictor, before issue 15 (lr 1e-4, mean, MSE)": (TwoStagePredictor, BEFORE_TWO_STAGE),
        "TwoStagePredictor defaults but mean pooling": (TwoStagePredictor, {"pooling": "mean"}),
    }


#: --fit-time: estimator -> (its class, the settings "before"); "now" is the class defaults. The
#: last entry's "before" undoes only the accuracy head, to time it alone.
FIT_TIME = {
    "NeuralPredictor": (NeuralPredictor, BEFORE),
    "TwoStagePredictor": (TwoStagePredictor, BEFORE_TWO_STAGE),
    "TwoStagePredictor, before = defaults without the accuracy head": (TwoStagePredictor, {"accuracy_head": False}),
}


def fit_times(cells, y, splits, epochs: int) -> None:
    """Print the --fit-time table (module docstring): CPU seconds per fit, now and before (FIT_TIME)."""
    torch.set_num_threads(1)  # fits train on one thread anyway; this also pins the input encoding's ops
    seconds = {(name, when): [] for name in FIT_TIME for when in ("before", "now")}
    for d, (train, _) in enumerate(splits):
        for name, (cls, before) in FIT_TIME.items():
            settings = [("before", before), ("now", {})]
            for when, params in settings[::-1] if d % 2 else settings:
                start = time.process_time()
                cls(epochs=epochs, seed=d, **params).fit(cells[train], y[train])
                seconds[name, when].append(time.process_time() - start)
                print(f"draw {d} {name} {when}: {seconds[name, when][-1]:.2f} CPU s", flush=True)
    print("\n| estimator | before: median (range), CPU s | defaults now: median (range), CPU s "
          "| now - before, paired (95 % interval) | now / before (medians) |\n|---|---|---|---|---|")
    for name in FIT_TIME:
        before, now = (np.array(seconds[name, when]) for when in ("before", "now"))
        cells_of = [f"{np.median(t):.2f} ({t.min():.2f}-{t.max():.2f})" for t in (before, now)]
        print(f"| {name} | {cells_of[0]} | {cells_of[1]} | {paired_difference(now, before)} "
              f"| {np.median(now) / np.median(before):.2f} |")


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


def scorings(model, cells):
    """(suffix, rank score) pairs: one for a regressor, one per ranking rule for a two-stage model."""
    if not isinstance(model, TwoStagePredictor):
        return [("", model.rank_score(cells))]
    accuracy, proba, lower = model.outputs(cells)
    return [(f", ranking {rule!r}" + (" (its default)" if rule == model.ranking else ""),
             two_stage_score(rule, accuracy, proba, model.threshold, lower)) for rule in RANKINGS]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--N", type=int, default=172)
    parser.add_argument("--held-out", type=int, default=10_000)
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", nargs="*", help="variant names (substrings) to run")
    parser.add_argument("--paired", action="store_true", help="paired differences against the first row")
    parser.add_argument("--per-draw", action="store_true", help="also print each draw's tau and top-10")
    parser.add_argument("--space", choices=("nasbench101", "nasbench201"), default="nasbench101")
    parser.add_argument("--fit-time", action="store_true", help="only the fit CPU seconds, now and before issue 15")
    args = parser.parse_args()

    if args.space == "nasbench101":
        bench = nb.load(progress=False)
        y = bench.simulate(0).validation_accuracy
        cells_of = bench.cells
        vertices = np.asarray(bench.cells.num_vertices, dtype=int)
        tiny = np.flatnonzero(vertices <= 3)
        tiny = tiny[np.argsort(vertices[tiny], kind="stable")]
        about = f"tiny cells (vertices {vertices[tiny].tolist()}) true {np.round(100 * y[tiny], 2).tolist()} %"
        splits = list(draws(len(bench), tiny, args.N, args.held_out, args.draws, args.seed))
        degenerate = [range(len(tiny))] * len(splits)
    else:
        import np_lib.nasbench201 as nb201
        bench = nb201.load()
        y = bench.validation_accuracy
        cells_of = nb201.encode(bench.cells)
        disconnected = ~np.asarray(bench.connected)
        about = (f"{disconnected.sum()} disconnected cells, true {100 * y[disconnected].min():.1f}-"
                 f"{100 * y[disconnected].max():.1f} %")
        splits = list(draws(len(bench), np.zeros(0, int), args.N, args.held_out, args.draws, args.seed))
        # Only the best-ranked disconnected held-out cell matters (the column's worst over draws).
        degenerate = [np.flatnonzero(disconnected[test]) for _, test in splits]
    best = np.sort(y[splits[0][1]])[::-1]
    print(f"{bench!r}\nN = {args.N}, {args.held_out} held-out cells, {args.draws} draws, {args.epochs} epochs; "
          f"{about}; best possible top-10 / top-100 (draw 0): {100 * best[:10].mean():.2f} / {100 * best[:100].mean():.2f}")
    failed = [int((y[train] < FAILED_RUN).sum()) for train, _ in splits]
    print(f"failed-run labels (< {FAILED_RUN:.0%}) in each draw's training set: {failed}")
    if args.fit_time:
        fit_times(cells_of, y, splits, args.epochs)
        return

    degenerate_column = "rank of 2-/3-vertex" if args.space == "nasbench101" else "best rank of a disconnected cell"
    header = f"| variant | tau | worst tau | MSE > 91 % | top-10 | top-100 | {degenerate_column} (worst) | fit s |"
    if args.per_draw or args.paired:
        header += " by draw; paired vs the first row |"
    print("\n" + header + "\n|" + "---|" * (header.count("|") - 1), flush=True)
    first = None
    for name, (cls, params) in variants().items():
        if args.only and not any(o in name for o in args.only):
            continue
        rows, seconds = {}, []
        if cls is TwoStagePredictor and args.space == "nasbench201":
            params = {"threshold": float(np.quantile(y, NASBENCH201_THRESHOLD_QUANTILE)), **params}
        for d, (train, test) in enumerate(splits):
            start = time.perf_counter()
            model = cls(epochs=args.epochs, seed=d, **params).fit(cells_of[train], y[train])
            seconds.append(time.perf_counter() - start)
            cells = cells_of[test]
            predicted = model.predict(cells)
            for suffix, ranking in scorings(model, cells):
                rows.setdefault(name + suffix, []).append(score(y[test], ranking, predicted, degenerate[d]))
        for row_name, row in rows.items():
            tau = np.array([r["tau"] for r in row])
            top10 = np.array([r["top10"] for r in row])
            mean = {k: np.mean([r[k] for r in row]) for k in ("mse_good", "top100")}
            if args.space == "nasbench101":
                worst_tiny = np.min([r["tiny_ranks"] for r in row], axis=0).tolist()
            else:
                worst_tiny = min(min(r["tiny_ranks"], default=len(test)) for r in row)
            line = (f"| {row_name} | {tau.mean():.3f} ± {tau.std():.3f} | {tau.min():.3f} | {mean['mse_good']:.2f} "
                    f"| {top10.mean():.2f} | {mean['top100']:.2f} | {worst_tiny} | {np.median(seconds):.1f} |")
            if args.per_draw:
                line += f" tau by draw {np.round(tau, 3).tolist()}, top-10 {np.round(top10, 2).tolist()}"
            if args.paired:
                from np_lib.compare import paired_difference
                if first is None:
                    first = (row_name, tau, top10)
                else:
                    line += (f" tau vs first: {paired_difference(tau, first[1])}, "
                             f"top-10: {paired_difference(top10, first[2])}")
            print(line + (" |" if args.per_draw or args.paired else ""), flush=True)


if __name__ == "__main__":
    main()
