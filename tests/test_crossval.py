"""Hyper-parameter selection of section 4.1: splits, scores, grid search, widening."""
import numpy as np
import pytest

from np_lib import crossval, metrics
from np_lib.gcn import count_parameters
from np_lib.nasbench101.space import random_cell
from np_lib.predictor import NeuralClassifier, NeuralPredictor, TwoStagePredictor

TINY = dict(D=8, epochs=2, seed=0)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    cells = [random_cell(rng) for _ in range(30)]
    return cells, rng.uniform(0.85, 0.95, len(cells))


def test_random_splits_hold_out_a_third():
    splits = crossval.random_splits(172, n_splits=10, seed=0)
    assert len(splits) == 10
    for train, val in splits:
        assert len(val) == 57 and len(train) == 115
        assert not set(train) & set(val) and len(set(train) | set(val)) == 172
    assert not np.array_equal(splits[0][1], splits[1][1])
    again = crossval.random_splits(172, n_splits=10, seed=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits, again))
    with pytest.raises(ValueError, match="empty"):
        crossval.random_splits(2, holdout=0.1)


def test_evaluate_reports_the_papers_scores(data):
    cells, y = data
    assert set(crossval.evaluate(NeuralPredictor(**TINY).fit(cells, y), cells, y)) == {"mse", "kendall_tau", "r2"}
    assert set(crossval.evaluate(NeuralClassifier(**TINY).fit(cells, y), cells, y)) == {"fnr", "fpr"}
    two_stage = TwoStagePredictor(threshold=0.9, **TINY).fit(cells, y)
    assert set(crossval.evaluate(two_stage, cells, y)) == {"mse", "kendall_tau", "r2", "fnr", "fpr"}


def test_cross_validate_one_row_per_split(data):
    table = crossval.cross_validate(NeuralPredictor(**TINY), *data, n_splits=3)
    assert list(table["split"]) == [0, 1, 2]
    assert {"mse", "kendall_tau", "r2", "fit_seconds"} <= set(table.columns)


def test_grid_search_sorts_best_first(data):
    table = crossval.grid_search(NeuralPredictor(**TINY), {"D": [4, 8], "lr": [1e-4, 1e-2]}, *data, n_splits=2)
    assert len(table) == 4 and set(table["setting"]) == {0, 1, 2, 3}
    assert table["mse"].is_monotonic_increasing
    assert {"mse_std", "kendall_tau", "kendall_tau_std"} <= set(table.columns)
    by_tau = crossval.grid_search(NeuralPredictor(**TINY), [{"D": 4}, {"D": 8}], *data,
                                  criterion="kendall_tau", n_splits=2)
    assert by_tau["kendall_tau"].is_monotonic_decreasing
    with pytest.raises(ValueError, match="no 'mse' score"):
        crossval.grid_search(NeuralClassifier(**TINY), {"D": [4]}, *data, n_splits=1)


@pytest.mark.parametrize("params", [dict(D=144), dict(D=96, num_layers=18, fc_sizes=(512, 128)),
                                    dict(D=96, num_layers=18, fc_sizes=(512, 128), init="looks_linear")])
def test_widen_gives_one_and_a_half_times_the_parameters(params):
    wide = crossval.widen(NeuralPredictor(**params), 1.5)
    ratio = (count_parameters(5, wide.D, wide.num_layers, wide.fc_sizes)
             / count_parameters(5, params["D"], wide.num_layers, wide.fc_sizes))
    # D moves in steps of 2 under looks-linear, so the ratio lands a little less close
    assert ratio == pytest.approx(1.5, abs=0.03 if params.get("init") else 0.02)
    assert wide.get_params() == {**NeuralPredictor(**params).get_params(), "D": wide.D}
    if params.get("init") == "looks_linear":
        assert wide.D % 2 == 0


def test_tune_fits_the_widened_winner_on_all_data(data):
    model, table = crossval.tune(NeuralPredictor(**TINY), {"D": [4, 8]}, *data, n_splits=2)
    best_D = int(table.loc[0, "D"])
    assert model.D == crossval.widen(NeuralPredictor(**{**TINY, "D": best_D})).D > best_D
    assert model.predict(data[0]).shape == (30,)


def test_compare_stages_scores_both_stages_on_the_same_splits(data):
    cells, y = data
    single, two = NeuralPredictor(**TINY), TwoStagePredictor(threshold=0.9, **TINY)
    table = crossval.compare_stages(single, two, cells, y, n_splits=2, seed=1)
    assert list(table.index) == [0, 1]
    assert {"single-stage MSE (all held-out)", "two-stage MSE (truly > 90% held-out)",
            "single-stage MSE (truly > 90% held-out)", "kept share", "FNR"} <= set(table.columns)
    # the single-stage column is what a plain fit on that split scores
    train, val = crossval.random_splits(len(cells), 2, seed=1)[0]
    alone = single.clone().fit([cells[i] for i in train], y[train])
    expected = metrics.mse_percent(y[val], alone.predict([cells[i] for i in val]))
    assert table.loc[0, "single-stage MSE (all held-out)"] == pytest.approx(expected, rel=1e-6)
    assert table["kept share"].between(0, 1).all()
    with pytest.raises(TypeError, match="TwoStagePredictor"):
        crossval.compare_stages(single, single, cells, y, n_splits=2)
