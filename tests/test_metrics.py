"""np_lib.metrics against hand-computed values."""
import math

import numpy as np
import pytest

from np_lib import metrics


def test_mse_is_in_percent_squared():
    # errors of 1 and 2 accuracy points: (1 + 4) / 2
    assert metrics.mse_percent([0.90, 0.80], [0.91, 0.78]) == pytest.approx(2.5)


def test_kendall_tau():
    assert metrics.kendall_tau([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert metrics.kendall_tau([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # pairs (1,2) (1,3) (2,3): concordant, concordant, discordant -> (2 - 1) / 3
    assert metrics.kendall_tau([1, 2, 3], [1, 3, 2]) == pytest.approx(1 / 3)
    assert math.isnan(metrics.kendall_tau([1, 2, 3], [5, 5, 5]))


def test_r2():
    y = np.array([0.90, 0.92, 0.94])
    assert metrics.r2(y, y) == pytest.approx(1.0)
    assert metrics.r2(y, np.full(3, y.mean())) == pytest.approx(0.0)
    # SS_tot = 0.02² + 0 + 0.02² = 8e-4; SS_res = 0.01² = 1e-4
    assert metrics.r2(y, [0.91, 0.92, 0.94]) == pytest.approx(1 - 1e-4 / 8e-4)


def test_classifier_rates():
    y = [0.95, 0.93, 0.92, 0.85, 0.50]          # three above 0.91, two below
    keep = np.array([True, False, True, True, False])
    assert metrics.false_negative_rate(y, keep) == pytest.approx(1 / 3)
    assert metrics.false_positive_rate(y, keep) == pytest.approx(1 / 2)
    assert metrics.classifier_scores(y, keep, threshold=0.94) == {"fnr": 0.0, "fpr": pytest.approx(2 / 4)}
    assert math.isnan(metrics.false_negative_rate([0.5, 0.6], np.array([True, False])))


def test_regression_scores_bundle():
    scores = metrics.regression_scores([0.9, 0.8, 0.7], [0.9, 0.8, 0.7])
    assert scores == {"mse": 0.0, "kendall_tau": pytest.approx(1.0), "r2": 1.0}


def test_errors():
    with pytest.raises(ValueError, match="2 true values but 3"):
        metrics.mse_percent([0.1, 0.2], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="no values"):
        metrics.kendall_tau([], [])
    with pytest.raises(TypeError, match="booleans"):
        metrics.false_negative_rate([0.9, 0.95], [0.3, 0.8])


def test_top_mean_and_ranking_quality():
    true = np.array([0.80, 0.95, 0.92, 0.93, 0.90])
    score = np.array([5.0, 1.0, 4.0, 3.0, 2.0])   # ranks 0.80 first, 0.95 last
    assert metrics.top_mean(true, score, 2) == pytest.approx((0.80 + 0.92) / 2)
    assert metrics.top_mean(true, np.zeros(5), 1) == 0.80  # ties: lower index first
    with pytest.raises(ValueError, match="top-6"):
        metrics.top_mean(true, score, 6)
    q = metrics.ranking_quality(true, true, threshold=0.91, tops=(1, 3))
    assert q["Kendall tau, all unseen"] == pytest.approx(1.0)
    assert q["Kendall tau, cells above 91%"] == pytest.approx(1.0)
    assert q["mean true acc. of top 1 (%)"] == pytest.approx(95.0)
    assert q["best true acc. in top 1 (%)"] == pytest.approx(95.0)
    assert q["mean true acc. of top 3 (%)"] == pytest.approx(100 * (0.95 + 0.93 + 0.92) / 3)
    bad = metrics.ranking_quality(true, score, threshold=0.91, tops=(1, 3))
    assert bad["mean true acc. of top 1 (%)"] == pytest.approx(80.0)
    assert bad["Kendall tau, all unseen"] < 0
