"""Figures the notebooks share.

* :func:`prediction_scatter`: predicted against true accuracy (the paper's Figure 9 style);
* :func:`search_curves`: best accuracy found against models trained or training time, one
  line per method with a 95 % confidence band of the mean (the paper's Figures 4 and 7).
"""
from __future__ import annotations

import numpy as np

from . import metrics


def prediction_scatter(y_true, y_pred, ax, title: str = "", zoom: tuple[float, float] | None = None):
    """Predicted vs true accuracy (in %) with the diagonal, MSE and Kendall τ in the corner.

    ``zoom`` (low, high) in percent limits both axes, e.g. to the region where a search is decided;
    the scores are always computed on all points.
    """
    t, p = 100 * np.asarray(y_true, float), 100 * np.asarray(y_pred, float)
    ax.scatter(t, p, s=4 if len(t) > 1000 else 12, alpha=0.35 if len(t) > 1000 else 0.7, color="#1f77b4",
               edgecolor="none")
    low, high = zoom if zoom else (min(t.min(), p.min()), max(t.max(), p.max()))
    if not zoom:  # a margin, so the extreme points are drawn whole rather than cut by the frame
        pad = 0.02 * (high - low) or 0.5
        low, high = low - pad, high + pad
    ax.plot([low, high], [low, high], color="crimson", lw=1, label="prediction = truth")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_xlabel("true validation accuracy (%)")
    ax.set_ylabel("predicted accuracy (%)")
    ax.set_title(title)
    ax.text(0.03, 0.97, f"MSE {metrics.mse_percent(y_true, y_pred):.2f} %²\n"
                        f"Kendall τ {metrics.kendall_tau(y_true, y_pred):.3f}\nn = {len(t):,}",
            transform=ax.transAxes, va="top", fontsize=9,
            bbox=dict(boxstyle="round", facecolor="white", alpha=0.8))
    ax.legend(loc="lower right", fontsize=8)
    return ax


def search_curves(ax, experiments: dict, metric: str = "best_validation", by: str = "budget", *,
                  starts: dict | None = None, colors: dict | None = None, styles: dict | None = None,
                  bands: set | None = None, num_points: int = 400):
    """Figure 4: each experiment's mean ``metric`` (in %) against models trained or training time.

    ``experiments``: ``{label: Experiment}``. ``starts``: ``{label: N}`` for the Neural Predictor
    variants, whose curve is drawn from model N + 1 on (their first N models are random: the
    paper does not draw them). ``bands``: the labels that get a shaded 95 % interval of the mean
    (all when None); the others are lines only, so that bands do not pile up. An experiment whose
    runs all give the same value (the oracle) is a horizontal line. On the time axis each curve
    stops at its *shortest* run's total training time: beyond it the mean would be over fewer runs
    (:meth:`np_lib.experiment.Experiment.summary`). Returns ``ax``.
    """
    from scipy import stats

    starts, colors, styles = starts or {}, colors or {}, styles or {}
    scale = 3600 if by == "time" else 1
    for label, e in experiments.items():
        s = e.summary(by, num_points=num_points)
        x = s.index.to_numpy() / scale
        n = len(e.runs)
        mean = 100 * s[f"{metric}_mean"].to_numpy()
        half = 100 * s[f"{metric}_std"].to_numpy() * (stats.t.ppf(0.975, n - 1) / np.sqrt(n) if n > 1 else np.nan)
        color, style = colors.get(label), styles.get(label, "-")
        if np.nanstd(mean) == 0 and label not in starts:
            ax.axhline(mean[-1], color=color or "k", ls=":", label=label)
            continue
        if label in starts:
            first = starts[label] if by == "budget" else e.summary().loc[starts[label], "cumulative_time_mean"] / scale
            keep = x > first
            x, mean, half = x[keep], mean[keep], half[keep]
        ax.plot(x, mean, color=color, ls=style, label=label)
        if bands is None or label in bands:
            ax.fill_between(x, mean - half, mean + half, color=color, alpha=0.15, lw=0)
    ax.set_xlabel("models trained (N + K for the Neural Predictor)" if by == "budget"
                  else "cumulative training time (hours)")
    return ax
