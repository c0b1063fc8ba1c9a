"""Comparing predictors on the same training draws: the loop behind notebook 10.

One *cell* of the comparison is (estimator, N, draw): draw ``draw`` picks N training cells
uniformly from the benchmark, and the cells outside the draw (or a uniform subsample of
them, ``heldout``) are the held-out set; every estimator sees the same training cells
and the same held-out cells in that draw, so per-draw differences between estimators
are paired (:func:`np_lib.compare.paired_difference`). The scores are those of a search's
needs (issue 15, the paper's section 4.1):

* ``kendall_tau``: rank correlation of predicted and true accuracy on the held-out cells;
* ``top10`` / ``top100``: mean true accuracy of the 10 / 100 held-out cells the estimator
  ranks first (``rank_score``), what a search that trains its top-K gets; ``best10`` /
  ``best100``: the same for the truly best cells of that held-out set (the ceiling);
* ``fit_s``: wall-clock seconds of ``fit`` (one thread each).
"""
from __future__ import annotations

import time
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .compare import paired_difference
from .metrics import kendall_tau, top_mean
from .predictor import as_graphs, check_labels
from .validation import check_count, check_positive, check_seed

#: The held-out scores of one cell (module docstring).
SCORES = ("kendall_tau", "top10", "top100", "fit_s")


def draw_split(num_cells: int, N: int, draw: int, *, heldout: int | None = None, seed: int = 0):
    """``(train, held_out)`` index arrays of draw ``draw``: N cells uniformly without replacement,
    then ``heldout`` of the others (None: all of them), from ``numpy.random.default_rng((seed, draw))``."""
    check_positive(N, "N")
    check_count(draw, "draw")
    check_seed(seed)
    if N >= num_cells:
        raise ValueError(f"N = {N} leaves no held-out cells among {num_cells}")
    rng = np.random.default_rng((seed, draw))
    order = rng.permutation(num_cells)
    train, rest = np.sort(order[:N]), order[N:]
    if heldout is not None:
        check_positive(heldout, "heldout")
        rest = rest[:heldout]
    return train, np.sort(rest)


def score_cell(estimator, train_graphs, y_train, test_graphs, true_test) -> dict:
    """Fit a fresh clone of ``estimator`` on the training cells, score it on the held-out ones."""
    model = estimator.clone()
    start = time.perf_counter()
    model.fit(train_graphs, y_train)
    fit_s = time.perf_counter() - start
    score = np.asarray(model.rank_score(test_graphs), dtype=float)
    predicted = np.asarray(model.predict(test_graphs), dtype=float)
    return {"kendall_tau": kendall_tau(true_test, predicted), "top10": top_mean(true_test, score, 10),
            "top100": top_mean(true_test, score, 100), "best10": top_mean(true_test, true_test, 10),
            "best100": top_mean(true_test, true_test, 100), "fit_s": fit_s}


def run_comparison(estimators: Mapping, cells, y, *, Ns, draws: int, true=None, heldout: int | None = None,
                   seed: int = 0, executor=None, progress: bool = True) -> pd.DataFrame:
    """One row per (estimator, N, draw) with :data:`SCORES` (and the held-out ceilings).

    ``estimators``: name -> unfitted estimator (any np_lib estimator: ``clone``, ``fit``,
    ``predict``, ``rank_score``); in draw ``d`` each is cloned with ``seed=seed + d``.
    ``cells``: the benchmark's cells (NAS-Bench-101 ``CellArray``/``Cell`` list or a
    ``GraphBatch``); ``y``: the training labels (fractions); ``true``: the accuracy
    the held-out scores use (default ``y``). ``executor``: a ``concurrent.futures``
    executor to run cells in parallel (e.g. :func:`np_lib.experiment.process_pool`);
    None runs them here. The rows do not depend on the executor.
    """
    graphs = as_graphs(cells)
    y = check_labels(y, len(graphs))
    true = y if true is None else check_labels(true, len(graphs))
    check_positive(draws, "draws")
    if not estimators:
        raise ValueError("no estimators to compare")
    jobs = []
    for N in Ns:
        for d in range(draws):
            train, test = draw_split(len(graphs), N, d, heldout=heldout, seed=seed)
            for name, est in estimators.items():
                args = (est.clone(seed=seed + d), graphs[train], y[train], graphs[test], true[test])
                jobs.append(({"estimator": name, "N": int(N), "draw": d}, args))
    if executor is None:
        results = (score_cell(*args) for _, args in jobs)
    else:
        results = (f.result() for f in [executor.submit(score_cell, *args) for _, args in jobs])
    if progress:
        from tqdm.auto import tqdm

        results = tqdm(results, total=len(jobs), desc="fits", unit="fit")
    return pd.DataFrame([{**key, **row} for (key, _), row in zip(jobs, results)])


def _t_interval(values: np.ndarray, confidence: float) -> tuple[float, float]:
    from scipy import stats

    if len(values) < 2:
        return float("nan"), float("nan")
    half = stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return float(values.mean() - half), float(values.mean() + half)


def summarize(rows: pd.DataFrame, scores=SCORES, confidence: float = 0.95) -> pd.DataFrame:
    """Mean of each score over draws per (estimator, N), with its Student-t ``confidence`` interval
    (columns ``<score>``, ``<score>_low``, ``<score>_high``)."""
    out = []
    for (name, N), group in rows.groupby(["estimator", "N"], sort=False):
        row = {"estimator": name, "N": N, "draws": len(group)}
        for score in scores:
            values = group[score].to_numpy(float)
            row[score] = float(values.mean())
            row[f"{score}_low"], row[f"{score}_high"] = _t_interval(values, confidence)
        out.append(row)
    return pd.DataFrame(out)


def paired_versus(rows: pd.DataFrame, reference: str, scores=("kendall_tau", "top10", "top100"),
                  confidence: float = 0.95) -> pd.DataFrame:
    """Each estimator minus ``reference`` per N and score, paired by draw
    (:func:`np_lib.compare.paired_difference`, t interval), with the verdict."""
    if reference not in set(rows["estimator"]):
        raise ValueError(f"no rows for the reference {reference!r}; estimators: {sorted(set(rows['estimator']))}")
    out = []
    for N, at_n in rows.groupby("N"):
        ref = at_n[at_n["estimator"] == reference].set_index("draw")
        for name, group in at_n.groupby("estimator", sort=False):
            if name == reference:
                continue
            group = group.set_index("draw").loc[ref.index]
            for score in scores:
                d = paired_difference(group[score].to_numpy(), ref[score].to_numpy(), confidence=confidence)
                out.append({"estimator": name, "N": N, "score": score, "difference": d.mean, "low": d.low,
                            "high": d.high, "verdict": d.verdict(name, reference)})
    return pd.DataFrame(out)


def plot_versus_n(summary: pd.DataFrame, score: str, ax, *, scale: float = 1.0, reference: float | None = None):
    """``score`` against N (log axis) per estimator: the mean over draws and its interval as a band.
    ``scale``: multiply values (100 for percent); ``reference``: a dashed line (e.g. the best possible)."""
    for name, group in summary.groupby("estimator", sort=False):
        group = group.sort_values("N")
        line, = ax.plot(group["N"], scale * group[score], marker="o", ms=3, label=name)
        ax.fill_between(group["N"], scale * group[f"{score}_low"], scale * group[f"{score}_high"],
                        color=line.get_color(), alpha=0.15, linewidth=0)
    if reference is not None:
        ax.axhline(scale * reference, color="black", linestyle="--", linewidth=1, label="best possible")
    ax.set_xscale("log")
    ax.set_xticks(sorted(summary["N"].unique()), [str(n) for n in sorted(summary["N"].unique())])
    ax.set_xlabel("N (training cells)")
