"""np_lib.figures: the shared plots draw what their docstrings say."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from np_lib.experiment import Experiment, Run  # noqa: E402
from np_lib.figures import prediction_scatter, search_curves  # noqa: E402
from np_lib.search import Trace  # noqa: E402


def experiment(curves):
    runs = []
    for r, values in enumerate(curves):
        v = np.maximum.accumulate(np.asarray(values, float))
        n = len(v)
        runs.append(Run(r, r, r, Trace(np.arange(1, n + 1), np.arange(n), np.arange(n), v, np.full(n, np.nan),
                                       np.cumsum(np.full(n, 3600.0))), {}))
    return Experiment({"strategy": {"strategy": "x"}}, runs)


def test_search_curves_starts_predictor_curves_after_N_and_draws_a_constant_as_a_line():
    rng = np.random.default_rng(0)
    exps = {"oracle": experiment([[0.95] * 20] * 3),
            "random search": experiment(rng.uniform(0.8, 0.94, (3, 20))),
            "Neural Predictor": experiment(rng.uniform(0.8, 0.94, (3, 20)))}
    fig, ax = plt.subplots()
    search_curves(ax, exps, starts={"Neural Predictor": 5}, bands={"random search"})
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert set(lines) == set(exps)
    assert np.allclose(lines["oracle"].get_ydata(), 95.0)           # axhline
    assert lines["Neural Predictor"].get_xdata().min() == 6          # from model N + 1
    assert len(ax.collections) == 1                                  # one band: random search's
    mean = 100 * np.maximum.accumulate(np.asarray([r.trace.best_validation for r in exps["random search"].runs]), 1)
    assert lines["random search"].get_ydata() == pytest.approx(mean.mean(axis=0))
    plt.close(fig)


def test_prediction_scatter_keeps_extreme_points_inside_the_frame():
    fig, ax = plt.subplots()
    prediction_scatter([0.80, 0.90, 0.95], [0.82, 0.91, 0.96], ax)
    low, high = ax.get_xlim()
    assert low < 80 and high > 96
    plt.close(fig)


def test_validation_vs_test_marks_the_oracles_pick_and_the_best_test_cell():
    from np_lib.figures import validation_vs_test

    val = np.array([0.90, 0.95, 0.93, 0.80])
    test = np.array([0.91, 0.92, 0.94, 0.79])   # the best validation is not the best test
    fig, axes = plt.subplots(1, 2)
    pick, best = validation_vs_test(val, test, axes, zoom=((92, 96), (91, 95)))
    assert (pick, best) == (1, 2)
    star = axes[0].collections[1].get_offsets()[0]
    assert tuple(star) == pytest.approx((95.0, 92.0))
    assert axes[1].get_xlim() == (92, 96) and axes[1].get_ylim() == (91, 95)
    assert axes[0].get_legend() is not None
    plt.close(fig)


def test_frontier_models_draws_each_methods_pareto_cells_at_the_reported_accuracy():
    from np_lib.figures import frontier_models

    latency = np.array([1.0, 2.0, 3.0, 4.0])
    val = np.array([0.80, 0.85, 0.84, 0.90])
    test = np.array([0.81, 0.83, 0.86, 0.88])
    fig, ax = plt.subplots()
    frontier_models(ax, latency, test, val, {"m": [0, 2, 3]}, colors={"m": "red"})
    true_line, method_line = ax.lines[0], ax.lines[1]
    assert list(true_line.get_xdata()) == [1.0, 2.0, 3.0, 4.0]          # test rises at every cell
    # among the trained cells 0, 2, 3 the validation frontier is all three, drawn at their test accuracy
    assert list(method_line.get_xdata()) == [1.0, 3.0, 4.0]
    assert list(method_line.get_ydata()) == pytest.approx([81.0, 86.0, 88.0])
    plt.close(fig)


def _np_experiment(curves, N):
    e = experiment(curves)
    return Experiment({"strategy": {"strategy": "neural_predictor", "N": N}}, e.runs)


def test_figure4_marks_the_first_pick_and_shares_the_y_range():
    from np_lib.figures import figure4

    rng = np.random.default_rng(1)
    exps = {"oracle": experiment([[0.95] * 20] * 3), "random search": experiment(rng.uniform(0.8, 0.94, (3, 20))),
            "Regularized Evolution": experiment(rng.uniform(0.8, 0.94, (3, 20))),
            "Neural Predictor": experiment(rng.uniform(0.8, 0.94, (3, 20)))}
    fig = figure4(exps, N=5, title="t")
    left, right = fig.axes
    assert left.get_ylim() == right.get_ylim() and left.get_ylim()[1] > 95.0   # the oracle line is inside
    marks = [line for line in left.get_lines() if line.get_label().startswith("N + 1 = 6")]
    assert len(marks) == 1 and marks[0].get_xdata()[0] == 6
    assert left.get_xscale() == right.get_xscale() == "log"
    plt.close(fig)


def test_figure7_and_the_ablation_have_log_budgets_the_same_y_range_and_every_mark_in_the_legend():
    from np_lib.figures import ablation_figure, figure7

    rng = np.random.default_rng(2)
    exps = {"oracle": experiment([[0.95] * 40] * 3), "random search": experiment(rng.uniform(0.9, 0.94, (3, 40))),
            **{f"two-stage, N = {n}": _np_experiment(rng.uniform(0.9, 0.95, (3, 40)), n) for n in (5, 10)},
            **{f"single-stage, N = {n}": _np_experiment(rng.uniform(0.9, 0.95, (3, 40)), n) for n in (5, 10)}}
    fig = figure7(exps, [5, 10], budget=40, low=2, title="t")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_xlim() == (2, 40)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"oracle", "random search", "N = 5", "N = 10"} <= set(labels)
    assert any(label.startswith("dotted") for label in labels)           # the vertical N lines are explained
    assert sorted(line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == ":"
                  and len(set(line.get_xdata())) == 1) == [5, 10]
    assert fig._suptitle.get_text() == "t"
    ylim = ax.get_ylim()
    plt.close(fig)
    fig = ablation_figure(exps, [5, 10], budget=40, low=2, title="a")
    assert [a.get_ylim() for a in fig.axes] == [ylim, ylim]               # comparable with Figure 7
    assert all(a.get_xscale() == "log" for a in fig.axes)
    assert min(fig.axes[1].get_lines()[0].get_xdata()) == 11              # from N + 1
    plt.close(fig)


def test_tradeoff_error_bars_are_dodged_not_stacked():
    from np_lib.figures import tradeoff_figure

    rng = np.random.default_rng(3)
    exps = {f"two-stage, N = {n}": _np_experiment(rng.uniform(0.9, 0.95, (3, 40)), n) for n in (5, 10)}
    fig = tradeoff_figure(exps, [5, 10], [20, 40])
    ax = fig.axes[0]
    xs = [line.get_xdata() for line in ax.get_lines() if len(line.get_xdata()) == 2 and line.get_marker() == "o"]
    assert len(xs) == 2 and not np.allclose(xs[0], xs[1])                 # side by side
    assert np.allclose(np.sqrt(xs[0] * xs[1]), [5, 10])                    # around each N
    plt.close(fig)


def test_figure3_marks_the_oracles_pick_and_the_best_test_model():
    from np_lib.figures import figure3
    from np_lib.protocol import Outcomes

    outcomes = Outcomes(0, np.array([0.90, 0.95, 0.93]), np.array([0.91, 0.92, 0.94]), np.full(3, np.nan))
    fig = figure3(outcomes)
    points = {c.get_label(): c.get_offsets()[0].tolist() for c in fig.axes[0].collections if c.get_label()[0] != "_"}
    assert points["the oracle's pick (best validation)"] == pytest.approx([95.0, 92.0])
    assert points["best test accuracy"] == pytest.approx([93.0, 94.0])
    plt.close(fig)
