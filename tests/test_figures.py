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
