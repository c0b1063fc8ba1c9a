"""Every search strategy on NAS-Bench-201 through the one protocol (``bench.space(device)``).

Real data (``$NP_LIB_DATA_DIR/nasbench201/``), skipped without it. The pool is
the complete space, so Regularized Evolution mutates freely and every mutant
is found by its index.
"""
from __future__ import annotations

import numpy as np
import pytest

import np_lib.nasbench201 as nb
from np_lib.protocol import as_pool
from np_lib.search import NeuralPredictorSearch, Oracle, RandomSearch, RegularizedEvolution



def test_the_pool_is_the_space_in_official_order(bench):
    pool = as_pool(bench.space("pixel3"))
    assert len(pool) == 15_625 and pool.archs is bench.cells
    np.testing.assert_array_equal(pool.latency(), bench.latency("pixel3"))
    outcomes = pool.simulate(0)
    np.testing.assert_array_equal(outcomes.validation_accuracy, bench.validation_accuracy)
    assert np.isnan(outcomes.training_time).all()


def test_oracle_finds_the_true_best_and_random_search_is_seeded(bench):
    space = bench.space()
    outcomes = space.evaluate(space.pool, 0)
    trace = Oracle().search(space, outcomes, 5, 0).trace
    assert trace.best[0] == 6111 and trace.test_of_best[0] == pytest.approx(0.94373, abs=5e-6)
    a = RandomSearch().search(space, outcomes, 100, 3).trace
    np.testing.assert_array_equal(a.trained, RandomSearch().search(space, outcomes, 100, 3).trace.trained)
    assert len(np.unique(a.trained)) == 100


def test_regularized_evolution_mutates_freely_with_nas_bench_201s_operator(bench):
    # NAS-Bench-201's settings (AutoDL-Projects R_EA / NATS regularized_ea: population 10, sample size 3)
    space = bench.space()
    outcomes = space.evaluate(space.pool, 0)
    result = RegularizedEvolution(population_size=10, tournament_size=3).search(space, outcomes, 300, 1)
    order, parents = result.trace.trained, result.parents
    children = np.flatnonzero(parents >= 0)
    assert len(children) == 290
    # each child is its parent with exactly one edge changed, looked up by official index
    changed = (bench.cells[order[children]] != bench.cells[order[parents[children]]]).sum(axis=1)
    assert (changed == 1).all()
    # the complete pool: no mutant is ever missing, no fallback, no unchanged parent
    assert result.stats["fallbacks"] == 0 and result.stats["parent_redraws"] == 0
    # and it climbs: the last 100 children's median (measured 0.902-0.905, seeds 0-2) is far above the
    # space's 0.873, which is what 100 random cells' median gives (± ~0.004)
    assert np.median(outcomes.validation_accuracy[order[-100:]]) > 0.89


def test_neural_predictor_search_trains_better_cells_than_random(bench):
    from np_lib.predictor import NeuralPredictor

    space = bench.space()
    outcomes = space.evaluate(space.pool, 0)
    N, K = 100, 50
    trace = NeuralPredictorSearch(predictor=NeuralPredictor(epochs=50), N=N).search(space, outcomes, N + K, 0).trace
    top_k = outcomes.validation_accuracy[trace.trained[N:]]
    # measured (seeds 0-2): the K predicted-best have median validation 0.899; the space's median is
    # 0.873, and 50 random cells' median stays within ~0.01 of it
    assert np.median(top_k) > 0.895
    assert trace.best_validation[-1] >= trace.best_validation[N - 1]


def test_run_experiment_takes_the_loaded_table(bench):
    # The table itself is searchable (as_pool uses bench.space()); before, it was refused.
    from np_lib.experiment import run_experiment

    direct = run_experiment(Oracle(), bench, budget=3, runs=1, progress=False)
    assert direct.table()["best_validation"].iloc[-1] == pytest.approx(bench.validation_accuracy[6111])
    assert len(as_pool(bench)) == 15_625


@pytest.fixture(scope="module")
def bench(nasbench201):
    return nasbench201
