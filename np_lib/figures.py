"""Figures the notebooks share: predicted-versus-true scatters (the paper's Figure 9 style)."""
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
