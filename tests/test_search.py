"""Search strategies on small pools where the answer is known: the shared best-so-far trace,
random search, the oracle, Regularized Evolution's bookkeeping and redraw policy, and the
Neural Predictor search with a perfect predictor."""
import numpy as np
import pytest
import torch

from np_lib import search
from np_lib.spaces import nasbench101 as nasbench101_space  # where NAS-Bench-101's mutation is called from
from np_lib.nasbench101.benchmark import TrainingOutcomes
from np_lib.nasbench101.cell import CellArray
from np_lib.nasbench101.encoding import encode
from np_lib.nasbench101.space import random_cell
from np_lib.protocol import Pool
from np_lib.search import (NeuralPredictorSearch, Oracle, RandomSearch, RegularizedEvolution, best_so_far,
                           make_strategy)


def distinct_cells(n: int, seed: int) -> CellArray:
    rng = np.random.default_rng(seed)
    cells = {}
    while len(cells) < n:
        cell = random_cell(rng)
        cells.setdefault(cell.hash, cell)
    return CellArray.from_cells(cells.values())


def synthetic_outcomes(n: int, seed: int, test: bool = True) -> TrainingOutcomes:
    rng = np.random.default_rng(seed)
    validation = rng.uniform(0.80, 0.95, n)
    return TrainingOutcomes(seed=seed, epochs=108, run=np.zeros(n, np.int64), validation_accuracy=validation,
                            test_accuracy=validation - 0.01 if test else np.full(n, np.nan),
                            training_time=rng.uniform(1000, 3000, n), has_test_accuracy=test)


def cell_outside(pool: CellArray):
    inside = set(pool.hashes.tolist())
    rng = np.random.default_rng(99)
    while True:
        cell = random_cell(rng)
        if cell.hash not in inside:
            return cell


@pytest.fixture(scope="module")
def pool():
    return distinct_cells(120, seed=0)


@pytest.fixture(scope="module")
def outcomes(pool):
    return synthetic_outcomes(len(pool), seed=1)


# --- the shared trace ------------------------------------------------------------------------------

def test_best_so_far_by_hand():
    o = TrainingOutcomes(seed=0, epochs=108, run=np.zeros(5, np.int64),
                         validation_accuracy=np.array([0.90, 0.93, 0.93, 0.91, 0.95]),
                         test_accuracy=np.array([0.1, 0.2, 0.3, 0.4, 0.5]),
                         training_time=np.array([1.0, 2.0, 4.0, 8.0, 16.0]), has_test_accuracy=True)
    t = best_so_far([3, 2, 1, 0, 2], o)
    assert t.budgets.tolist() == [1, 2, 3, 4, 5]
    assert t.best.tolist() == [3, 2, 2, 2, 2]  # 1 ties with 2 and came later: 2 stays the best
    assert t.best_validation.tolist() == [0.91, 0.93, 0.93, 0.93, 0.93]
    assert t.test_of_best.tolist() == [0.4, 0.3, 0.3, 0.3, 0.3]  # the BEST model's test accuracy, not the max
    assert t.cumulative_time.tolist() == [8, 12, 14, 15, 19]  # a repeat costs its training time again
    with pytest.raises(ValueError, match="non-empty"):
        best_so_far([], o)


def test_trace_without_test_accuracy(pool):
    o = synthetic_outcomes(len(pool), seed=2, test=False)
    t = RandomSearch().search(pool, o, 10, seed=0).trace
    assert np.isnan(t.test_of_best).all() and np.isfinite(t.best_validation).all()


# --- random search and the oracle ------------------------------------------------------------------

def test_random_search_without_replacement_reaches_the_best_at_the_pool_size(pool, outcomes):
    t = RandomSearch().search(pool, outcomes, len(pool), seed=3).trace
    assert sorted(t.trained.tolist()) == list(range(len(pool)))
    assert t.best_validation[-1] == outcomes.validation_accuracy.max()
    assert t.best[-1] == outcomes.validation_accuracy.argmax()
    assert np.all(np.diff(t.best_validation) >= 0)
    assert t.cumulative_time[-1] == pytest.approx(outcomes.training_time.sum())
    with pytest.raises(ValueError, match="exceeds the pool"):
        RandomSearch().search(pool, outcomes, len(pool) + 1, seed=0)


def test_searches_are_determined_by_their_seed(pool, outcomes):
    for strategy in (RandomSearch(), RegularizedEvolution(population_size=10, tournament_size=3)):
        a, b, c = (strategy.search(pool, outcomes, 40, seed=s).trace for s in (5, 5, 6))
        assert np.array_equal(a.trained, b.trained)
        assert not np.array_equal(a.trained, c.trained)


def test_oracle_is_the_pools_best_at_every_budget(pool, outcomes):
    t = Oracle().search(pool, outcomes, 7, seed=0).trace
    best = outcomes.validation_accuracy.argmax()
    assert np.all(t.best_validation == outcomes.validation_accuracy[best])
    assert np.all(t.test_of_best == outcomes.test_accuracy[best])


def test_budget_and_pool_checks(pool, outcomes):
    with pytest.raises(ValueError, match="budget must be a positive"):
        RandomSearch().search(pool, outcomes, 0, seed=0)
    with pytest.raises(ValueError, match="outcomes for a pool"):
        RandomSearch().search(pool[:10], outcomes, 5, seed=0)
    with pytest.raises(ValueError, match="unknown strategy 'bogus'; known: .*random_search"):
        make_strategy("bogus")
    assert make_strategy("regularized_evolution", population_size=20).population_size == 20


# --- Regularized Evolution -------------------------------------------------------------------------

def test_evolution_defaults_are_nasbench101s():
    re = RegularizedEvolution()
    assert (re.population_size, re.tournament_size, re.mutation_rate, re.max_redraws) == (50, 10, 0.5, 1000)
    assert re.distinct_child is True
    with pytest.raises(ValueError, match="distinct_child must be True or False"):
        RegularizedEvolution(distinct_child="yes")
    with pytest.raises(ValueError, match="tournament_size 11 exceeds population_size 10"):
        RegularizedEvolution(population_size=10, tournament_size=11)
    with pytest.raises(ValueError, match="population_size 200 exceeds the pool"):
        RegularizedEvolution(population_size=200).search(distinct_cells(50, 0), synthetic_outcomes(50, 0), 300, 0)


def test_evolution_population_is_the_last_P_and_the_tournament_picks_its_best(pool, outcomes):
    P = 10
    result = RegularizedEvolution(population_size=P, tournament_size=P).search(pool, outcomes, 80, seed=1)
    order, parents = result.trace.trained, result.parents
    assert len(set(order[:P].tolist())) == P and np.all(parents[:P] == -1)  # distinct random start
    for t in range(P, len(order)):
        # the population before step t is the P models trained last (the oldest one was removed);
        # a tournament of all P picks its best, the youngest on ties
        window = outcomes.validation_accuracy[order[t - P:t]]
        assert parents[t] == t - P + (P - 1 - np.argmax(window[::-1]))
    assert result.stats["redraws"] >= 0 and result.stats["fallbacks"] == 0


def test_evolution_small_tournaments_pick_within_the_population(pool, outcomes):
    P = 12
    result = RegularizedEvolution(population_size=P, tournament_size=1).search(pool, outcomes, 200, seed=2)
    offsets = np.arange(P, 200) - result.parents[P:]
    assert offsets.min() >= 1 and offsets.max() <= P  # always a current member, never an older model
    assert len(np.unique(offsets)) > P // 2  # a tournament of one is a uniform pick, not always the best


def test_evolution_redraws_until_the_mutant_is_in_the_pool(pool, outcomes, monkeypatch):
    outside = cell_outside(pool)
    calls = iter(range(10 ** 6))

    def every_third_lands(parent, rng, rate):  # outside, outside, then the parent itself
        return parent if next(calls) % 3 == 2 else outside

    monkeypatch.setattr(nasbench101_space, "mutate", every_third_lands)
    re = RegularizedEvolution(population_size=5, tournament_size=2, distinct_child=False)
    result = re.search(pool, outcomes, 25, seed=0)
    assert result.stats == {"redraws": 2 * 20, "parent_redraws": 0, "fallbacks": 0, "parent_repeats": 20}
    # each child is its parent again: trained twice, counted twice, charged twice, same outcome
    order = result.trace.trained
    assert np.array_equal(order[5:], order[result.parents[5:]])
    assert result.trace.cumulative_time[-1] == pytest.approx(outcomes.training_time[order].sum())


def test_a_distinct_child_redraws_the_parent_too(pool, outcomes, monkeypatch):
    outside = cell_outside(pool)
    calls = iter(range(10 ** 6))

    def outside_parent_then_next(parent, rng, rate):  # outside, the parent, then the next pool cell
        step = next(calls) % 3
        return (outside, parent, pool[(int(pool.index(parent.hash)) + 1) % len(pool)])[step]

    monkeypatch.setattr(nasbench101_space, "mutate", outside_parent_then_next)
    result = RegularizedEvolution(population_size=5, tournament_size=2).search(pool, outcomes, 25, seed=0)
    assert result.stats == {"redraws": 2 * 20, "parent_redraws": 20, "fallbacks": 0, "parent_repeats": 0}
    order = result.trace.trained
    assert np.array_equal(order[5:], (order[result.parents[5:]] + 1) % len(pool))


def test_a_distinct_child_falls_back_when_only_the_parent_lands(pool, outcomes, monkeypatch):
    monkeypatch.setattr(nasbench101_space, "mutate", lambda parent, rng, rate: parent)
    result = RegularizedEvolution(population_size=5, tournament_size=2, max_redraws=4).search(
        pool, outcomes, 30, seed=0)
    assert result.stats == {"redraws": 3 * 25, "parent_redraws": 4 * 25, "fallbacks": 25, "parent_repeats": 0}
    assert len(set(result.trace.trained.tolist())) == 30  # every fallback is a cell not trained before


def test_evolution_falls_back_to_an_untrained_cell(pool, outcomes, monkeypatch):
    outside = cell_outside(pool)
    monkeypatch.setattr(nasbench101_space, "mutate", lambda parent, rng, rate: outside)
    re = RegularizedEvolution(population_size=5, tournament_size=2, max_redraws=4)
    result = re.search(pool, outcomes, len(pool), seed=0)
    children = len(pool) - 5
    assert result.stats == {"redraws": 3 * children, "parent_redraws": 0, "fallbacks": children,
                            "parent_repeats": 0}
    assert sorted(result.trace.trained.tolist()) == list(range(len(pool)))  # fallbacks are untrained cells
    with pytest.raises(RuntimeError, match="nothing left to fall back on"):
        re.search(pool, outcomes, len(pool) + 1, seed=0)


@pytest.mark.parametrize("distinct", [True, False])
def test_evolution_with_the_real_mutation_stays_in_the_pool(pool, outcomes, distinct):
    result = RegularizedEvolution(population_size=10, tournament_size=3, max_redraws=50,
                                  distinct_child=distinct).search(pool, outcomes, 60, seed=4)
    order, parents = result.trace.trained, result.parents
    assert order.max() < len(pool)
    assert result.stats["redraws"] > 0  # most mutants of a 120-cell pool leave it
    same_as_parent = int(np.sum(order[10:] == order[parents[10:]]))
    assert result.stats["parent_repeats"] == same_as_parent
    if distinct:
        assert same_as_parent == 0 and result.stats["parent_redraws"] > 0
    else:
        assert same_as_parent > 0 and result.stats["parent_redraws"] == 0  # the no-op mutant lands most


def test_the_pool_lookup_is_the_pools_index(pool):
    space = nasbench101_space.NASBench101Space(pool)
    lookup = Pool(space).index
    index = 6
    cell = pool[index]
    relabelled = cell.relabel([0, 1, 3, 2, 4])  # another matrix for the same cell
    assert not np.array_equal(relabelled.matrix, cell.matrix) and relabelled.hash == cell.hash
    for _ in range(2):  # computed, then memoised
        assert lookup[space.arch_key(cell)] == index and lookup[space.arch_key(relabelled)] == index
        assert space.arch_key(cell_outside(pool)) not in lookup


# --- Neural Predictor ------------------------------------------------------------------------------

class PerfectPredictor:
    """Knows every cell's true validation accuracy: rank_score returns it."""

    def __init__(self, accuracy_by_hash: dict):
        self.accuracy_by_hash = accuracy_by_hash
        self.fitted_on = None

    def fit(self, cells, y):
        self.fitted_on = (cells, np.asarray(y))
        return self

    def rank_score(self, cells):
        return np.array([self.accuracy_by_hash[h] for h in cells.hashes.tolist()])


def perfect_factory(pool, outcomes):
    truth = dict(zip(pool.hashes.tolist(), outcomes.validation_accuracy))
    return lambda seed: PerfectPredictor(truth)


def test_neural_predictor_with_a_perfect_predictor_finds_the_best_at_N_plus_1(pool, outcomes):
    N, K = 20, 30
    for seed in range(5):
        t = NeuralPredictorSearch(perfect_factory(pool, outcomes), N=N).search(pool, outcomes, N + K, seed).trace
        assert len(set(t.trained.tolist())) == N + K  # the top K come from the pool minus the N trained
        assert t.best_validation[N] == outcomes.validation_accuracy.max()  # budget N + 1
        candidates = np.setdiff1d(np.arange(len(pool)), t.trained[:N])
        expected = candidates[np.argsort(-outcomes.validation_accuracy[candidates])[:K]]
        assert np.array_equal(t.trained[N:], expected)  # trained in predicted order


def test_neural_predictor_fits_on_the_N_trained_cells(pool, outcomes):
    made = []

    def factory(seed):
        made.append(PerfectPredictor(dict(zip(pool.hashes.tolist(), outcomes.validation_accuracy))))
        return made[-1]

    t = NeuralPredictorSearch(factory, N=10).search(pool, outcomes, 15, seed=0).trace
    graphs, y = made[0].fitted_on  # the benchmark's encoding of the N cells, in training order
    expected = encode(pool[t.trained[:10]])
    assert torch.equal(graphs.adjacency, expected.adjacency) and torch.equal(graphs.features, expected.features)
    assert np.array_equal(y, outcomes.validation_accuracy[t.trained[:10]])


def test_neural_predictor_checks(pool, outcomes):
    factory = perfect_factory(pool, outcomes)
    with pytest.raises(ValueError, match="N must be an integer >= 2"):
        NeuralPredictorSearch(factory, N=1)
    with pytest.raises(ValueError, match="must exceed N = 10"):
        NeuralPredictorSearch(factory, N=10).search(pool, outcomes, 10, seed=0)
    with pytest.raises(ValueError, match=r"N \+ K = 10 \+ 111 = 121 exceeds the pool of 120"):
        NeuralPredictorSearch(factory, N=10).search(pool, outcomes, 121, seed=0)
    with pytest.raises(TypeError, match="predictor must be"):
        NeuralPredictorSearch("not an estimator", N=10)


def test_neural_predictor_clones_a_real_estimator(pool, outcomes):
    from np_lib.predictor import NeuralPredictor

    strategy = NeuralPredictorSearch(NeuralPredictor(D=8, epochs=2, seed=0), N=20)
    a, b = (strategy.search(pool, outcomes, 30, seed=7).trace for _ in range(2))
    assert np.array_equal(a.trained, b.trained)  # the estimator's seed comes from the search's
    described = strategy.describe()
    assert described["strategy"] == "neural_predictor" and described["N"] == 20
    assert described["predictor"]["class"].endswith("NeuralPredictor")
    assert {k: v for k, v in described["predictor"].items() if k != "class"} == {
        **strategy.predictor.get_params(), "fc_sizes": [128]}
