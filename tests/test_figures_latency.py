"""np_lib.figures' notebook-06 helpers draw what their docstrings say (legend placement, ticks, curves)."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

from np_lib import figures, metrics  # noqa: E402


def test_latency_histogram_puts_its_legend_above_the_axes():
    fig, ax = plt.subplots()
    figures.latency_histogram(ax, np.random.default_rng(0).normal(100, 10, 1000), (75, 85), band_label="band",
                              marks={"model": 80.0}, xlabel="ms")
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 >= ax.get_window_extent().y1 - 1          # above the frame: it cannot hide a bar
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["band", "model"]
    plt.close(fig)


def test_chain_encoding_ticks_whole_layers_and_labels_the_adjacency():
    features = np.eye(7)[np.arange(22) % 7]
    adjacency = np.eye(22, k=1)
    fig, axes = plt.subplots(1, 2)
    figures.chain_encoding(axes, features, adjacency, [f"op{i}" for i in range(7)])
    assert axes[0].get_xticks().tolist() == list(range(22))    # no layer 2.5
    assert all(float(t).is_integer() for t in axes[1].get_xticks())
    assert axes[1].get_xlabel() == "to node (layer)" and axes[1].get_ylabel() == "from node (layer)"
    plt.close(fig)


def test_frontier_staircase_draws_the_validation_frontier_with_the_shown_values():
    fig, ax = plt.subplots()
    latency, val, shown = np.array([1.0, 2.0, 3.0, 4.0]), np.array([0.5, 0.4, 0.7, 0.6]), np.array([0.1, 0.2, 0.3, 0.4])
    figures.frontier_staircase(ax, latency, val, shown, color="red", label="m", points=True)
    line = ax.get_lines()[0]
    assert line.get_xdata().tolist() == [1.0, 3.0] and line.get_ydata() == pytest.approx([10.0, 30.0])
    assert len(ax.collections) == 1                            # the faint points
    plt.close(fig)


def test_figure9_returns_each_panels_scores():
    rng = np.random.default_rng(1)
    y = rng.uniform(0.7, 0.8, 30)
    panels = {"a": (y, y + rng.normal(0, 0.01, 30)), "b": (y, y[::-1])}
    fig, axes = plt.subplots(1, 2)
    scores = figures.figure9(axes, panels)
    for (title, (t, p)), ax in zip(panels.items(), axes):
        assert scores[title] == pytest.approx(metrics.regression_scores(t, p))
        assert f"R² = {scores[title]['r2']:.3f}" in ax.get_title()
    plt.close(fig)


def test_frontier_band_is_the_mean_with_a_t_interval():
    curves = {"m": np.array([[0.80, 0.82], [0.81, 0.85], [0.79, 0.83]])}
    fig, ax = plt.subplots()
    figures.frontier_band(ax, np.array([1.0, 2.0]), curves, colors={"m": "red"})
    assert ax.get_lines()[0].get_ydata() == pytest.approx(100 * curves["m"].mean(axis=0))
    half = stats.t.ppf(0.975, 2) * 100 * curves["m"].std(axis=0, ddof=1) / np.sqrt(3)
    top = ax.collections[0].get_paths()[0].vertices[:, 1].max()
    assert top == pytest.approx((100 * curves["m"].mean(axis=0) + half).max())
    plt.close(fig)
