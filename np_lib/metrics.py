"""Every score the paper reports, in one place (sections 4.1 and 4.2).

Inputs are accuracy *fractions* (0.93, as NAS-Bench-101 stores them); MSE is
reported in accuracy-percent squared, the paper's unit ("MSE ... 1.95" and
"0.66" in section 4.1, "0.109" in section 4.2).
"""
from __future__ import annotations

import numpy as np
from scipy import stats


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=float).ravel()
    y_pred = np.asarray(y_pred, dtype=float).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{len(y_true)} true values but {len(y_pred)} predictions")
    if len(y_true) == 0:
        raise ValueError("no values to score")
    return y_true, y_pred


def mse_percent(y_true, y_pred) -> float:
    """Mean squared error in (accuracy %)², from accuracy fractions."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean((100.0 * (y_pred - y_true)) ** 2))


def kendall_tau(y_true, y_pred) -> float:
    """Kendall rank correlation (tau-b, ties counted as in scipy); NaN if either side is constant."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(stats.kendalltau(y_true, y_pred).statistic)


def r2(y_true, y_pred) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot`` (section 4.2's "R² score")."""
    y_true, y_pred = _pair(y_true, y_pred)
    total = np.sum((y_true - y_true.mean()) ** 2)
    return float(1.0 - np.sum((y_true - y_pred) ** 2) / total) if total > 0 else float("nan")


def false_negative_rate(y_true, keep, threshold: float = 0.91) -> float:
    """Share of truly good cells (accuracy > ``threshold``) that the classifier filters out.

    The two-stage predictor's key number (section 4.1, Figure 6): a low rate
    means few good models are lost. ``keep`` is the classifier's boolean verdict.
    NaN when no cell is above the threshold.
    """
    good, keep = _verdicts(y_true, keep, threshold)
    return float(np.mean(~keep[good])) if good.any() else float("nan")


def false_positive_rate(y_true, keep, threshold: float = 0.91) -> float:
    """Share of truly poor cells (accuracy <= ``threshold``) that the classifier keeps; NaN if none."""
    good, keep = _verdicts(y_true, keep, threshold)
    return float(np.mean(keep[~good])) if (~good).any() else float("nan")


def _verdicts(y_true, keep, threshold) -> tuple[np.ndarray, np.ndarray]:
    y_true, _ = _pair(y_true, np.zeros(np.size(y_true)))
    keep = np.asarray(keep).ravel()
    if keep.dtype != bool:
        raise TypeError(f"keep must be booleans (the classifier's verdict), got dtype {keep.dtype}")
    if keep.shape != y_true.shape:
        raise ValueError(f"{len(y_true)} true values but {len(keep)} verdicts")
    return y_true > threshold, keep


def regression_scores(y_true, y_pred) -> dict[str, float]:
    """``mse`` (percent²), ``kendall_tau`` and ``r2`` of predicted accuracies."""
    return {"mse": mse_percent(y_true, y_pred), "kendall_tau": kendall_tau(y_true, y_pred),
            "r2": r2(y_true, y_pred)}


def classifier_scores(y_true, keep, threshold: float = 0.91) -> dict[str, float]:
    """``fnr`` and ``fpr`` of a keep/filter verdict at ``threshold``."""
    return {"fnr": false_negative_rate(y_true, keep, threshold),
            "fpr": false_positive_rate(y_true, keep, threshold)}


def top_mean(y_true, score, k: int) -> float:
    """Mean of ``y_true`` over the ``k`` cells with the highest ``score`` (ties: the lower index first).

    What a search that trains the predictor's top-K gets (section 3's "train the top K").
    """
    y_true, score = _pair(y_true, score)
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    if k > len(y_true):
        raise ValueError(f"top-{k} of only {len(y_true)} cells")
    return float(np.mean(y_true[np.argsort(-score, kind="stable")[:k]]))


def ranking_quality(y_true, score, threshold: float = 0.91, tops=(50, 500)) -> dict[str, float]:
    """How good the top of a ranking is, beside its overall order (notebook 03, section 4.1).

    Kendall tau on all cells and on the cells truly above ``threshold`` (the order among the
    good cells, what the two-stage regressor is for), then for each ``k`` of ``tops`` the mean
    true accuracy (%) of the ``k`` cells ranked first, and for the first ``k`` also the best.
    """
    y_true, score = _pair(y_true, score)
    good = y_true > threshold
    scores = {"Kendall tau, all unseen": kendall_tau(y_true, score),
              f"Kendall tau, cells above {threshold:.0%}": kendall_tau(y_true[good], score[good])}
    order = np.argsort(-score, kind="stable")
    for i, k in enumerate(tops):
        scores[f"mean true acc. of top {k} (%)"] = 100 * top_mean(y_true, score, k)
        if i == 0:
            scores[f"best true acc. in top {k} (%)"] = 100 * float(y_true[order[:k]].max())
    return scores
