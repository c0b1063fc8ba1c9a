"""Figures the notebooks share.

* :func:`prediction_scatter`: predicted against true accuracy (the paper's Figure 9 style);
* :func:`search_curves`: best accuracy found against models trained or training time, one
  line per method with a 95 % confidence band of the mean (the paper's Figures 4 and 7);
* search figures of notebooks 04 and 05 (:func:`figure4`, :func:`figure3`, :func:`figure7`,
  :func:`tradeoff_figure`, :func:`ablation_figure`), built on :func:`search_curves`.
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


# --- search figures (notebooks 04, 05) ---

#: Figure 4's methods: one colour each; a variant of a method is dashed in a lighter shade.
SEARCH_COLORS = {"oracle": "black", "random search": "tab:gray", "Regularized Evolution": "tab:blue",
                 "RE, NAS-Bench-101 policy": "tab:cyan", "Neural Predictor": "tab:red",
                 "Neural Predictor, single stage": "tab:orange"}
SEARCH_STYLES = {"RE, NAS-Bench-101 policy": "--", "Neural Predictor, single stage": "--"}
METRIC_NAMES = {"best_validation": "validation", "test_of_best": "test"}


def _oracle_level(experiments: dict, metric: str, ceiling: str = "oracle") -> float:
    return 100 * experiments[ceiling].summary()[f"{metric}_mean"].iloc[-1]


def _log_budget_axis(ax, low: int, budget: int):
    # Figure 7's x-axis is logarithmic; plain tick labels at round budgets read better than 2 x 10^2.
    ax.set_xscale("log")
    ax.set_xlim(low, budget)
    ticks = sorted({t for t in (20, 50, 100, 200, 500, 1000, 2000, 5000) if low <= t < budget} | {budget})
    ax.set_xticks(ticks, [f"{t:,}" for t in ticks])
    ax.minorticks_off()


def figure4(experiments: dict, *, N: int, metrics=("best_validation",), title: str = "",
            bands=("random search", "Regularized Evolution", "Neural Predictor")):
    """Figure 4 (section 4.1): the selected model's accuracy against models trained (left) and
    training time (right), one row per metric (validation; test where the data has it).

    ``experiments``: ``{label: Experiment}`` with an ``"oracle"``; labels starting "Neural" are
    drawn from model N + 1 on (:func:`search_curves`), marked by a dotted vertical line; only the
    ``bands`` labels get a 95 % band of the mean, so the dashed variants stay readable. Every
    panel of a row shares its y-range, from 1.2 points under the oracle to just above it.
    Returns the figure.
    """
    import matplotlib.pyplot as plt

    style = dict(starts={label: N for label in experiments if label.startswith("Neural")}, colors=SEARCH_COLORS,
                 styles=SEARCH_STYLES, bands=set(bands))
    fig, axes = plt.subplots(len(metrics), 2, figsize=(12, 4.4 * len(metrics)), layout="constrained", squeeze=False)
    for row, metric in zip(axes, metrics):
        top = _oracle_level(experiments, metric)
        for ax, by in zip(row, ("budget", "time")):
            search_curves(ax, experiments, metric, by, **style).set_xscale("log")
            ax.set_ylabel(f"{METRIC_NAMES[metric]} accuracy of the selected model (%)")
            ax.set_ylim(top - 1.2, top + 0.15)
        row[0].axvline(N + 1, color="0.4", ls=(0, (1, 3)), lw=1, label=f"N + 1 = {N + 1}: the predictor's first pick")
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=8)
    fig.suptitle(title)
    return fig


def figure3(outcomes):
    """Figure 3 (section 4.1): each model's validation accuracy (one run) against its test
    accuracy (mean of runs), all models and a zoom on the accurate region, with the oracle's
    pick (best validation) and the best test accuracy marked. ``outcomes``: one simulated
    training with test accuracy (:meth:`np_lib.nasbench101.NASBench101.simulate` on the
    official data). Returns the figure."""
    import matplotlib.pyplot as plt

    val, test = 100 * outcomes.validation_accuracy, 100 * outcomes.test_accuracy
    pick, best_test = int(np.argmax(val)), int(np.nanargmax(test))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), layout="constrained")
    for ax, zoom in zip(axes, (False, True)):
        keep = (val > val[pick] - 3) & (test > test[best_test] - 3) if zoom else np.ones(len(val), bool)
        ax.scatter(val[keep], test[keep], s=2 if zoom else 0.5, alpha=0.3, color="tab:blue", rasterized=True)
        ax.scatter(val[pick], test[pick], color="crimson", s=40, label="the oracle's pick (best validation)")
        ax.scatter(val[best_test], test[best_test], color="gold", edgecolor="k", s=60, marker="*",
                   label="best test accuracy")
        ax.set_xlabel("validation accuracy, one run (%)")
        ax.set_ylabel("test accuracy, mean of runs (%)")
        ax.set_title("zoom on the accurate region" if zoom else f"all {len(val):,} models")
    axes[1].legend(loc="lower right")
    fig.suptitle("Figure 3: validation against test accuracy")
    return fig


def _n_colors(Ns) -> dict:
    import matplotlib.pyplot as plt

    return dict(zip(Ns, plt.cm.viridis(np.linspace(0, 0.9, len(Ns)))))


def figure7(experiments: dict, Ns, *, budget: int, metrics=("best_validation",), title: str = "",
            label: str = "two-stage, N = {}", low: int = 20):
    """Figure 7 (section 4.1): the selected model's accuracy against N + K, one curve per N.

    ``experiments`` holds ``label.format(n)`` for every n in ``Ns``, ``"random search"`` and
    ``"oracle"``. Each N's curve starts at N + 1 (:func:`search_curves`), with a dotted vertical
    line of its colour at N, and a 95 % band of the mean; the x-axis is logarithmic as in the
    paper, and every panel (one per metric) spans 1 point under the oracle to 0.2 above it.
    Returns the figure.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    colors = _n_colors(Ns)
    curves = {"oracle": experiments["oracle"], "random search": experiments["random search"],
              **{f"N = {n}": experiments[label.format(n)] for n in Ns}}
    style = dict(starts={f"N = {n}": n for n in Ns}, colors={"random search": "tab:gray",
                 **{f"N = {n}": colors[n] for n in Ns}}, bands={f"N = {n}" for n in Ns})
    fig, axes = plt.subplots(1, len(metrics), figsize=(6.5 * len(metrics), 4.6), layout="constrained", squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        top = _oracle_level(experiments, metric)
        search_curves(ax, curves, metric, "budget", **style)
        for n in Ns:
            ax.axvline(n, color=colors[n], ls=":", lw=0.8)
        _log_budget_axis(ax, low, budget)
        ax.set_ylim(top - 1.0, top + 0.2)
        ax.set_xlabel("total models trained, N + K")
        ax.set_ylabel(f"{METRIC_NAMES[metric]} accuracy of the selected model (%)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    handles.append(Line2D([], [], color="0.3", ls=":", lw=0.8))
    labels.append("dotted, in its colour: each N\n(its picks start at N + 1)")
    axes[0][0].legend(handles, labels, fontsize=8, loc="lower right")
    fig.suptitle(title)
    return fig


def tradeoff_figure(experiments: dict, Ns, totals, *, title: str = "", label: str = "two-stage, N = {}"):
    """Figure 7 sliced at fixed totals N + K: best validation accuracy (mean ± std over runs)
    against N, one line per total. The error bars of the totals are dodged side by side on the
    log axis instead of drawn on top of each other. Returns the figure."""
    import matplotlib.pyplot as plt

    from .experiment import mean_std_at

    fig, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    for j, t in enumerate(totals):
        n_ok = [n for n in Ns if n < t]
        points = np.array([mean_std_at(experiments[label.format(n)], t, scale=100) for n in n_ok]).reshape(-1, 2)
        dodge = 1.03 ** (j - (len(totals) - 1) / 2)
        ax.errorbar(np.array(n_ok) * dodge, points[:, 0], yerr=points[:, 1], marker="o", capsize=3,
                    label=f"N + K = {t}")
    ax.set_xscale("log")
    ax.set_xticks(Ns, [str(n) for n in Ns])
    ax.minorticks_off()
    ax.set_xlabel("N, models that train the predictor")
    ax.set_ylabel("best validation accuracy (%), mean ± std")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return fig


def ablation_figure(experiments: dict, Ns, *, budget: int, title: str = "",
                    labels=("two-stage, N = {}", "single-stage, N = {}"), low: int = 20):
    """The two-stage ablation of section 4.1 as searches: for each N, the two-stage and the
    single-stage predictor's curves (95 % band of the mean) from N + 1, random search over the
    same budgets and the oracle. Panels share Figure 7's log x-axis and y-range, so they compare
    with it and with each other. Returns the figure."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(Ns), figsize=(5.5 * len(Ns), 4), layout="constrained", squeeze=False,
                             sharey=True)
    top = _oracle_level(experiments, "best_validation")
    for ax, n in zip(axes[0], Ns):
        curves = {"two-stage": experiments[labels[0].format(n)], "single-stage": experiments[labels[1].format(n)],
                  "random search": experiments["random search"], "oracle": experiments["oracle"]}
        search_curves(ax, curves, starts={"two-stage": n, "single-stage": n, "random search": n},
                      colors={"two-stage": "tab:red", "single-stage": "tab:orange", "random search": "tab:gray"},
                      bands={"two-stage", "single-stage"})
        _log_budget_axis(ax, low, budget)
        ax.set_ylim(top - 1.0, top + 0.2)
        ax.set_title(f"N = {n}")
        ax.set_xlabel("total models trained, N + K")
        ax.set_ylabel("best validation accuracy (%)")
    axes[0][0].legend(fontsize=8, loc="lower right")
    fig.suptitle(title)
    return fig


# --- NAS-Bench-201 figures (notebook 07) ---

def validation_vs_test(validation, test, axes, *, zoom=None, unit: str = "seed mean"):
    """Figure 3: every cell's test against its validation accuracy (in %), on one or two axes.

    The best-validation cell (the oracle's pick) is starred, the best-test cell circled: where
    they differ, even the oracle does not deploy the test optimum. ``axes``: one axes, or two,
    the second zoomed to ``zoom = ((x_low, x_high), (y_low, y_high))`` in percent, the region
    where a search is decided. Returns ``(oracle_pick, best_test)`` indices.
    """
    validation, test = 100 * np.asarray(validation, float), 100 * np.asarray(test, float)
    pick, best = int(np.argmax(validation)), int(np.nanargmax(test))
    axes = list(np.atleast_1d(axes))
    for i, ax in enumerate(axes):
        ax.scatter(validation, test, s=3, alpha=0.3, color="tab:gray", label="cells", rasterized=True)
        ax.scatter(validation[pick], test[pick], s=80, marker="*", color="tab:red",
                   label="best validation (the oracle's pick)")
        ax.scatter(validation[best], test[best], s=80, facecolor="none", edgecolor="black", label="best test")
        ax.set_xlabel(f"validation accuracy (%, {unit})")
        ax.set_ylabel(f"test accuracy (%, {unit})")
        if i == 1 and zoom is not None:
            ax.set_xlim(*zoom[0])
            ax.set_ylim(*zoom[1])
    axes[0].legend(loc="upper left", fontsize=8)
    return pick, best


def frontier_models(ax, latency, accuracy, selected_on, trained: dict, *, colors: dict | None = None):
    """Figure 8's picture of one run: each method's frontier models against every cell and the true frontier.

    ``latency``, ``accuracy`` (fractions, drawn in %): every cell of the band; ``selected_on``: the
    accuracy the methods see (validation). A method's frontier models are the Pareto-optimal cells
    on (latency, ``selected_on``) among its ``trained`` indices (``{label: indices}``), drawn at
    ``accuracy``: with ``accuracy = test`` that is what one would report. The dashed staircase is
    the band's true frontier of ``accuracy``. Returns ``ax``.
    """
    from .pareto import pareto_front

    latency, accuracy, selected_on = (np.asarray(a, float) for a in (latency, accuracy, selected_on))
    colors = colors or {}
    ax.scatter(latency, 100 * accuracy, s=3, color="lightgrey", label="every in-band cell")
    true_front = pareto_front(latency, accuracy)
    ax.step(latency[true_front], 100 * accuracy[true_front], where="post", color="black", lw=1, ls="--",
            label="true frontier")
    for label, cells in trained.items():
        cells = np.asarray(cells)
        front = cells[pareto_front(latency[cells], selected_on[cells])]
        ax.step(latency[front], 100 * accuracy[front], where="post", color=colors.get(label), marker="o", ms=3,
                label=f"{label}: its frontier models")
    return ax


# --- latency-constrained search figures (notebook 06) ---

def latency_histogram(ax, latency, band, *, band_label: str, marks: dict | None = None, xlabel: str,
                      bins: int = 200):
    """Latencies of random models with the search's band shaded (section 4.2's "75-85 ms").

    ``marks``: ``{label: latency}`` drawn as dashed vertical lines (e.g. a released model).
    The legend sits above the axes, so it never hides the histogram.
    """
    ax.hist(np.asarray(latency, float), bins=bins, color="#80b1d3")
    ax.axvspan(*band, color="#4daf4a", alpha=0.25, label=band_label)
    for (label, x), color in zip((marks or {}).items(), ("crimson", "black", "purple")):
        ax.axvline(x, color=color, ls="--", label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("random models")
    ax.legend(loc="lower left", bbox_to_anchor=(0, 1.01), ncols=2, frameon=False, fontsize=9)
    return ax


def chain_encoding(axes, features, adjacency, op_names):
    """Section 4.2's encoding of one chain model: its one-hot node features and its adjacency matrix.

    ``features``: ``(nodes, ops)``; ``adjacency[i, j] = 1`` for an edge from node ``i`` to node ``j``.
    Every node gets its own tick (a node is a layer: there is no layer 2.5).
    """
    features, adjacency = np.asarray(features), np.asarray(adjacency)
    nodes = np.arange(len(features))
    axes[0].imshow(features.T, cmap="Greens", aspect="auto")
    axes[0].set_yticks(range(len(op_names)), op_names)
    axes[0].set_xticks(nodes, [str(n) for n in nodes], fontsize=8)
    axes[0].set_xlabel("layer (node)")
    axes[1].imshow(adjacency, cmap="Greys")
    axes[1].set_xticks(nodes[::3])
    axes[1].set_yticks(nodes[::3])
    axes[1].set_xlabel("to node (layer)")
    axes[1].set_ylabel("from node (layer)")
    return axes


def frontier_staircase(ax, latency, validation, shown, *, color, label: str, points: bool = False):
    """One method's Pareto frontier (Figure 8 middle, right): chosen by ``validation``, drawn as ``shown``.

    A user picks the frontier models by the accuracy the search saw (``validation``) and then
    reports what they reach (``shown``: the same, or the final measure), in percent.
    ``points``: also draw every trained model, faintly.
    """
    from .pareto import pareto_front

    latency, validation, shown = (np.asarray(v, float) for v in (latency, validation, shown))
    front = pareto_front(latency, validation)
    if points:
        ax.scatter(latency, 100 * shown, s=6, alpha=0.35, color=color)
    ax.step(latency[front], 100 * shown[front], where="post", color=color, marker="o", ms=3, label=label)
    return ax


def figure8(axes, candidates, selected, methods: dict, *, xlabel: str):
    """Section 4.2's Figure 8 in three panels: predictions and the soft-Pareto models, then each
    method's frontier by validation signal and by final measure.

    ``candidates``, ``selected``: ``(latency, predicted)`` of all candidates and of the K kept ones;
    ``methods``: ``{label: (latency, validation, final, color)}`` of each method's trained models.
    """
    ax = axes[0]
    ax.scatter(candidates[0], 100 * np.asarray(candidates[1]), s=1, color="lightgrey", rasterized=True,
               label="candidates")
    ax.scatter(selected[0], 100 * np.asarray(selected[1]), s=8, color="#4daf4a",
               label=f"soft-Pareto (K = {len(selected[0])})")
    ax.set(title="predicted accuracy (Figure 8 left)", ylabel="predicted top-1 (%)")
    for name, (lat, val, final, color) in methods.items():
        frontier_staircase(axes[1], lat, val, val, color=color, label=name, points=True)
        frontier_staircase(axes[2], lat, val, final, color=color, label=name)
    axes[1].set(title="frontier models: validation (Figure 8 middle)", ylabel="validation signal (%)")
    axes[2].set(title="frontier models: final measure (Figure 8 right)", ylabel="final measure (%)")
    for ax in axes:
        ax.set_xlabel(xlabel)
        ax.legend(loc="lower right")
    return axes


def figure9(axes, panels: dict):
    """Section 4.2's Figure 9: predicted against true accuracy, one panel per ``{title: (y, predicted)}``.

    Each panel is :func:`prediction_scatter` (MSE, Kendall τ, n in the corner) with R² in its title.
    Returns ``{title: metrics.regression_scores(y, predicted)}``.
    """
    scores = {}
    for ax, (title, (y, p)) in zip(axes, panels.items()):
        scores[title] = metrics.regression_scores(y, p)
        prediction_scatter(y, p, ax, f"{title}\nR² = {scores[title]['r2']:.3f}")
    return scores


def frontier_band(ax, grid, curves: dict, *, colors: dict, confidence: float = 0.95):
    """Mean attained frontier over runs with its ``confidence`` interval (Figure 8 right, repeated).

    ``curves``: ``{label: (runs, len(grid))}`` of :func:`np_lib.pareto.final_frontier_curve`
    (fractions; drawn in percent). The band is the Student t interval of the mean at each latency.
    """
    from scipy import stats

    for label, c in curves.items():
        c = 100 * np.asarray(c, float)
        mean, n = c.mean(axis=0), len(c)
        half = stats.t.ppf(0.5 + confidence / 2, n - 1) * c.std(axis=0, ddof=1) / np.sqrt(n)
        ax.plot(grid, mean, color=colors.get(label), label=f"{label} (mean of {n} runs)")
        ax.fill_between(grid, mean - half, mean + half, color=colors.get(label), alpha=0.2, lw=0)
    return ax
