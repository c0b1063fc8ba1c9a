"""np_lib.pareto's additions for notebook 06: the count reading of the soft-Pareto rule, the per-run
final frontier curve, the repeated comparison and the generalisation test."""
import numpy as np
import pytest

from np_lib.experiment import run_seeds
from np_lib.pareto import (SoftParetoSearch, final_frontier_curve, frontier_mean, frontier_summary,
                           generalisation_test, pareto_front, repeat_soft_pareto, soft_pareto,
                           soft_pareto_by_count, spread_by_prediction)
from np_lib.protocol import Outcomes, Pool
from np_lib.search import RandomSearch

from test_pareto import LATENCY, PREDICTED, SHUFFLE, Memoriser, ToySpace, shuffled


def brute_force_count_reading(latency, predicted, J):
    """Keep i when fewer than J models earlier in (latency, -predicted, index) order have a prediction >= its own."""
    order = np.lexsort((np.arange(len(latency)), -predicted, latency))
    return [i for k, i in enumerate(order) if (predicted[order[:k]] >= predicted[i]).sum() < J]


def test_count_reading_by_hand():
    # J = 2: a model is dropped when two faster models are predicted at least as well
    assert soft_pareto_by_count(LATENCY, PREDICTED, 2).tolist() == [0, 1, 2, 3, 5, 7, 9]
    assert soft_pareto_by_count(LATENCY[SHUFFLE], PREDICTED[SHUFFLE], 2).tolist() == shuffled([0, 1, 2, 3, 5, 7, 9])
    assert soft_pareto_by_count(LATENCY, PREDICTED, 10).tolist() == list(range(10))   # nothing has 10 faster models


def test_count_reading_agrees_with_brute_force_and_J1_is_the_frontier():
    rng = np.random.default_rng(3)
    for _ in range(30):
        latency = rng.integers(0, 25, 120).astype(float)      # ties in latency ...
        predicted = rng.integers(0, 15, 120) / 15             # ... and in prediction
        assert soft_pareto_by_count(latency, predicted, 1).tolist() == pareto_front(latency, predicted).tolist()
        for J in (2, 6):
            assert soft_pareto_by_count(latency, predicted, J).tolist() == brute_force_count_reading(latency, predicted, J)


def test_count_reading_keeps_fewer_models_than_the_kept_window():
    # predictions rise with latency, plus noise: the kept-window reading keeps more models overall (measured:
    # 715 against 288) and more of the fastest (61 below 0.05 against 28), and both contain the frontier
    rng = np.random.default_rng(0)
    latency = rng.uniform(0, 1, 5000)
    predicted = latency + rng.normal(0, 0.05, 5000)
    kept, counted = soft_pareto(latency, predicted, 6), soft_pareto_by_count(latency, predicted, 6)
    assert len(counted) < 0.5 * len(kept)
    assert (latency[counted] < 0.05).sum() < 0.5 * (latency[kept] < 0.05).sum()
    assert set(counted) >= set(pareto_front(latency, predicted))
    with pytest.raises(ValueError, match="J must be"):
        soft_pareto_by_count(LATENCY, PREDICTED, 0)


def test_final_frontier_curve_by_hand():
    # as test_pareto's frontier_summary example: trained models 2 (5 ms) and 3 (8 ms), both on their validation frontier
    latency = np.array([1.0, 3.0, 5.0, 8.0, 12.0])
    outcomes = Outcomes(0, np.array([0.6, 0.8, 0.7, 0.9, 0.95]), np.array([0.62, 0.78, 0.75, 0.88, 0.9]), np.full(5, np.nan))
    grid = np.linspace(0, 10, 11)
    curve = final_frontier_curve([2, 3], outcomes, latency, grid, 0.62)
    np.testing.assert_allclose(curve, [0.62] * 5 + [0.75] * 3 + [0.88] * 3)
    # its mean over a fine grid is frontier_summary's final frontier mean (the same staircase, integrated)
    fine = np.linspace(0, 10, 100_001)
    summary = frontier_summary([2, 3], outcomes, latency, grid)
    assert 100 * final_frontier_curve([2, 3], outcomes, latency, fine, 0.62).mean() == pytest.approx(
        summary["final_frontier_mean_%"], abs=1e-3)
    # a validation-dominated model is not a frontier model: model 2 behind a faster, better model 1
    np.testing.assert_allclose(final_frontier_curve([1, 2], outcomes, latency, [4.0, 6.0], 0.5), [0.78, 0.78])
    # the floor replaces both "nothing this fast" and anything below it
    np.testing.assert_allclose(final_frontier_curve([2], outcomes, latency, [0.0, 6.0], 0.8), [0.8, 0.8])


def test_repeat_soft_pareto_gives_every_method_the_soft_pareto_budget_of_each_run():
    space = ToySpace()
    archs = space.sample(400, 0)
    pool = Pool(space, archs)
    grid = np.linspace(6, 18, 50)
    experiments, table = repeat_soft_pareto(SoftParetoSearch(Memoriser(), N=30, J=3), {"random": RandomSearch()},
                                            pool, grid, runs=3, seed=5, label="soft")
    assert list(experiments) == ["soft", "random"]
    assert len(table) == 6 and set(table.method) == {"soft", "random"}
    latency = space.latency(archs)
    for r, run in enumerate(experiments["soft"].runs):
        rows = table[table.run == r].set_index("method")
        budget = len(run.trace)
        assert run.simulate_seed == run_seeds(5, r)[0]
        assert (rows.trained == budget).all() and (rows.K == budget - 30).all()
        expected = frontier_summary(run.trace.trained, pool.simulate(run.simulate_seed), latency, grid)
        assert rows.loc["soft", "final_frontier_mean_%"] == pytest.approx(expected["final_frontier_mean_%"])


def test_generalisation_test_picks_the_spread_and_evaluates_it():
    space = ToySpace()
    archs, predicted, evaluation = generalisation_test(space, Memoriser(), 300, count=5, sample_seed=1, evaluate_seed=2)
    every = space.sample(300, 1)
    all_predicted = space.predict(Memoriser(), every, progress=False)
    picked = spread_by_prediction(all_predicted, 5)
    np.testing.assert_array_equal(archs, every[picked])
    np.testing.assert_allclose(predicted, all_predicted[picked])
    assert predicted.min() == all_predicted.min() and predicted.max() == all_predicted.max()
    np.testing.assert_allclose(evaluation.validation_accuracy, space.evaluate(every[picked], 2).validation_accuracy)
