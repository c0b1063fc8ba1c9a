"""Hyper-parameter selection on the N training samples only (sections 3.1 and 4.1).

The paper's recipe: hold out 1/3 of the N samples for validation, average the
validation MSE over random splits (10 in section 4.2), pick the best setting,
then train the final predictor on all N with D increased so that it has about
1.5x the parameters ("we heuristically increase the node representation size
D ... such that the number of parameters ... is also 1.5x as large", 4.1).

Everything here works for any of the three estimators through their
``clone``/``fit``/``predict`` methods; nothing touches data outside the N.

Cost: one fit per split per setting, so 10 splits x 4 settings is 40 fits
(benchmarks/README.md, "Cross-validation cost"); for a notebook demo pass a smaller
``n_splits`` or grid (the paper, section 3.1: 25 s per fit, 144 settings for
the price of two CIFAR-10 trainings, about an hour).
"""
from __future__ import annotations

import itertools
import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from . import metrics
from .gcn import count_parameters
from .predictor import NeuralClassifier, TwoStagePredictor, as_graphs, check_labels

#: For each score, whether larger is better.
HIGHER_IS_BETTER = {"mse": False, "kendall_tau": True, "r2": True, "fnr": False, "fpr": False}


def random_splits(n: int, n_splits: int = 10, holdout: float = 1 / 3,
                  seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n_splits`` random (train, validation) index pairs, ``round(holdout * n)`` validation each."""
    n_val = round(holdout * n)
    if not 0 < n_val < n:
        raise ValueError(f"holdout {holdout} of {n} samples leaves an empty training or validation set")
    rng = np.random.default_rng(seed)
    splits = []
    for _ in range(n_splits):
        order = rng.permutation(n)
        splits.append((np.sort(order[n_val:]), np.sort(order[:n_val])))
    return splits


def evaluate(estimator, cells, y) -> dict[str, float]:
    """The paper's scores of a fitted estimator on labelled cells.

    Regressors (``NeuralPredictor``, ``TwoStagePredictor``): ``mse`` (percent²)
    and ``r2`` of :meth:`predict`, ``kendall_tau`` of :meth:`rank_score` (the
    order a search would use). Anything with a ``threshold`` also gets the
    classifier's ``fnr``/``fpr``; the plain classifier gets only those.
    """
    graphs = as_graphs(cells)  # encode once for all scores
    y = check_labels(y, len(graphs))
    scores = {}
    if not isinstance(estimator, NeuralClassifier):
        scores.update(metrics.regression_scores(y, estimator.predict(graphs)))
        scores["kendall_tau"] = metrics.kendall_tau(y, estimator.rank_score(graphs))
    if isinstance(estimator, (NeuralClassifier, TwoStagePredictor)):
        keep = estimator.keep(graphs) if isinstance(estimator, TwoStagePredictor) else estimator.predict(graphs)
        scores.update(metrics.classifier_scores(y, keep, estimator.threshold))
    return scores


def cross_validate(estimator, cells, y, *, n_splits: int = 10, holdout: float = 1 / 3,
                   seed: int = 0) -> pd.DataFrame:
    """Fit a fresh clone of ``estimator`` on each random split; one row of scores per split.

    Columns: ``split``, the scores of :func:`evaluate` on the held-out part,
    and ``fit_seconds``.
    """
    graphs = as_graphs(cells)
    y = check_labels(y, len(graphs))
    rows = []
    for i, (train, val) in enumerate(random_splits(len(graphs), n_splits, holdout, seed)):
        start = time.perf_counter()
        model = estimator.clone().fit(graphs[train], y[train])
        seconds = time.perf_counter() - start
        rows.append({"split": i, **evaluate(model, graphs[val], y[val]), "fit_seconds": seconds})
    return pd.DataFrame(rows)


def compare_stages(single, two_stage, cells, y, *, n_splits: int = 10, holdout: float = 1 / 3,
                   seed: int = 0) -> pd.DataFrame:
    """Single- against two-stage validation MSE on the same random splits (section 4.1, "1.95 -> 0.66").

    Per split, fresh clones of ``single`` (a regressor) and ``two_stage`` (a
    :class:`TwoStagePredictor`) are fitted on the training part, in that order. The paper
    does not say on which held-out cells its two MSEs are taken, so every candidate is a
    column (MSE in %²): the single stage on all held-out cells; both on the held-out cells
    the classifier keeps (the cells the two-stage regressor actually predicts); both on the
    held-out cells truly above the threshold (the regressor's domain, the like-for-like
    comparison); then the kept share and the classifier's false-negative rate. One row per split.
    """
    if not isinstance(two_stage, TwoStagePredictor):
        raise TypeError(f"two_stage must be a TwoStagePredictor, got {type(two_stage).__name__}")
    graphs = as_graphs(cells)
    y = check_labels(y, len(graphs))
    threshold, above = two_stage.threshold, f"truly > {two_stage.threshold:.0%}"
    rows = []
    for i, (train, val) in enumerate(random_splits(len(graphs), n_splits, holdout, seed)):
        first = single.clone().fit(graphs[train], y[train])
        second = two_stage.clone().fit(graphs[train], y[train])
        y_val, kept = y[val], second.keep(graphs[val])
        p_single, p_two = first.predict(graphs[val]), second.predict(graphs[val])
        good = y_val > threshold
        rows.append({
            "split": i,
            "single-stage MSE (all held-out)": metrics.mse_percent(y_val, p_single),
            "two-stage MSE (kept held-out)": metrics.mse_percent(y_val[kept], p_two[kept]),
            "single-stage MSE (same kept cells)": metrics.mse_percent(y_val[kept], p_single[kept]),
            f"two-stage MSE ({above} held-out)": metrics.mse_percent(y_val[good], p_two[good]),
            f"single-stage MSE ({above} held-out)": metrics.mse_percent(y_val[good], p_single[good]),
            "kept share": kept.mean(),
            "FNR": metrics.false_negative_rate(y_val, kept, threshold),
        })
    return pd.DataFrame(rows).set_index("split")


def _settings(grid) -> list[dict]:
    # A dict of lists is a Cartesian grid; a list of dicts is taken as given.
    if isinstance(grid, Mapping):
        names = list(grid)
        return [dict(zip(names, values)) for values in itertools.product(*(grid[k] for k in names))]
    return [dict(setting) for setting in grid]


def grid_search(estimator, grid: Mapping[str, Sequence] | Sequence[Mapping], cells, y, *,
                criterion: str = "mse", n_splits: int = 10, holdout: float = 1 / 3,
                seed: int = 0) -> pd.DataFrame:
    """Cross-validate every setting of ``grid``; one row per setting, best first.

    ``grid`` is ``{"D": [96, 144], "lr": [1e-4, 3e-4]}`` (all combinations) or a
    list of dicts. Every setting sees the same splits. Columns: ``setting``
    (position in the grid), the parameters, then the mean and standard deviation
    of each score over the splits (``mse``, ``mse_std``, ...), and ``fit_seconds``.
    """
    if criterion not in HIGHER_IS_BETTER:
        raise ValueError(f"criterion must be one of {sorted(HIGHER_IS_BETTER)}, got {criterion!r}")
    graphs = as_graphs(cells)
    rows = []
    for i, setting in enumerate(_settings(grid)):
        scores = cross_validate(estimator.clone(**setting), graphs, y, n_splits=n_splits,
                                holdout=holdout, seed=seed).drop(columns="split")
        row = {"setting": i, **setting}
        for name in scores.columns:
            row[name] = scores[name].mean()
            if name != "fit_seconds":
                row[f"{name}_std"] = scores[name].std(ddof=0)
        rows.append(row)
    table = pd.DataFrame(rows)
    if criterion not in table:
        raise ValueError(f"{type(estimator).__name__} has no {criterion!r} score; it has "
                         f"{sorted(c for c in table.columns if c in HIGHER_IS_BETTER)}")
    return table.sort_values(criterion, ascending=not HIGHER_IS_BETTER[criterion],
                             kind="stable").reset_index(drop=True)


def widen(estimator, factor: float = 1.5, num_features: int = 5):
    """A clone whose D gives about ``factor`` times the parameters (section 4.1).

    Parameters grow quadratically in D, so D grows by roughly sqrt(factor):
    144 -> 180 for the NAS-Bench-101 defaults (103,073 -> 154,697 parameters,
    1.501x). ``num_features`` is the node feature size (5 for NAS-Bench-101).
    With ``init="looks_linear"`` D stays even.
    """
    if factor <= 0:
        raise ValueError(f"factor must be positive, got {factor}")

    def size(D):
        return count_parameters(num_features, D, estimator.num_layers, estimator.fc_sizes)

    target = factor * size(estimator.D)
    upper = max(1, int(np.ceil(estimator.D * max(factor, 1.0)))) + 1
    step = 2 if estimator.init == "looks_linear" else 1  # it pairs features
    best = min(range(step, upper + step, step), key=lambda D: abs(size(D) - target))
    return estimator.clone(D=best)


def tune(estimator, grid, cells, y, *, criterion: str = "mse", n_splits: int = 10,
         holdout: float = 1 / 3, seed: int = 0, factor: float = 1.5):
    """Section 4.1 end to end: grid search by cross-validation, widen the winner, fit it on all N.

    Returns ``(fitted_estimator, table)`` with ``table`` from :func:`grid_search`.
    """
    graphs = as_graphs(cells)
    table = grid_search(estimator, grid, graphs, y, criterion=criterion, n_splits=n_splits,
                        holdout=holdout, seed=seed)
    best = _settings(grid)[int(table.loc[0, "setting"])]
    final = widen(estimator.clone(**best), factor, graphs.num_features)
    return final.fit(graphs, y), table
