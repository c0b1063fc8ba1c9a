"""Pareto frontier, soft-Pareto selection (section 4.2) on hand-made points, and the soft-Pareto search."""
import numpy as np
import pytest

from np_lib.pareto import (SoftParetoSearch, frontier_curve, pareto_front, soft_pareto,
                           spread_by_prediction)
from np_lib.spaces.base import Evaluation
from np_lib.spaces.chain import ChainSpace

# Ten models, already listed fastest first; shuffled below so the functions must sort.
LATENCY = np.arange(1.0, 11.0)
PREDICTED = np.array([0.50, 0.40, 0.60, 0.55, 0.45, 0.70, 0.52, 0.65, 0.48, 0.80])
SHUFFLE = np.array([7, 2, 9, 0, 5, 1, 8, 3, 6, 4])


def shuffled(expected_sorted_positions):
    """Indices into the shuffled arrays of the given positions of the sorted order."""
    where = np.argsort(SHUFFLE)
    return where[np.asarray(expected_sorted_positions)].tolist()


def test_pareto_front_by_hand():
    assert pareto_front(LATENCY, PREDICTED).tolist() == [0, 2, 5, 9]
    assert pareto_front(LATENCY[SHUFFLE], PREDICTED[SHUFFLE]).tolist() == shuffled([0, 2, 5, 9])


def test_pareto_front_ties():
    # equal latency: only the more accurate; equal accuracy later: not strictly better
    latency = np.array([1.0, 1.0, 2.0, 3.0, 3.0])
    accuracy = np.array([0.5, 0.6, 0.6, 0.7, 0.7])
    assert pareto_front(latency, accuracy).tolist() == [1, 3]


def test_soft_pareto_J1_is_the_regular_frontier():
    assert soft_pareto(LATENCY, PREDICTED, J=1).tolist() == [0, 2, 5, 9]
    rng = np.random.default_rng(0)
    lat, acc = rng.random(2000), rng.random(2000)
    assert soft_pareto(lat, acc, J=1).tolist() == pareto_front(lat, acc).tolist()


def test_soft_pareto_J6_by_hand():
    # kept models' windows: [.5] [.5 .6] [.5 .6 .55] [.. .7] [.. .52] [.. .65] -> .48 fails, .80 passes
    kept = soft_pareto(LATENCY, PREDICTED, J=6)
    assert kept.tolist() == [0, 2, 3, 5, 6, 7, 9]
    assert soft_pareto(LATENCY[SHUFFLE], PREDICTED[SHUFFLE], J=6).tolist() == shuffled([0, 2, 3, 5, 6, 7, 9])


def test_soft_pareto_J2_by_hand():
    # the window slides: 0.52 fails against min(.55, .70)
    assert soft_pareto(LATENCY, PREDICTED, J=2).tolist() == [0, 2, 3, 5, 7, 9]


def test_soft_pareto_grows_with_J():
    rng = np.random.default_rng(1)
    lat, acc = rng.random(5000), rng.random(5000)
    sizes = [len(soft_pareto(lat, acc, J)) for J in (1, 2, 6, 20)]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


@pytest.mark.parametrize("J", [0, -1, 1.5, True, "6"])
def test_soft_pareto_rejects_bad_J(J):
    with pytest.raises(ValueError, match="J must be a positive integer"):
        soft_pareto(LATENCY, PREDICTED, J=J)


def test_frontiers_reject_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        soft_pareto([1.0, np.nan], [0.5, 0.6])
    with pytest.raises(ValueError, match="NaN"):
        pareto_front([1.0, 2.0], [0.5, np.nan])
    with pytest.raises(ValueError, match="no models"):
        pareto_front([], [])
    with pytest.raises(ValueError, match="3 latencies but 2"):
        soft_pareto([1.0, 2.0, 3.0], [0.5, 0.6])


def test_frontier_curve():
    curve = frontier_curve(LATENCY, PREDICTED, [0.5, 1.0, 4.5, 6.0, 100.0])
    assert np.isnan(curve[0])
    assert curve[1:].tolist() == [0.50, 0.60, 0.70, 0.80]


def test_spread_by_prediction():
    predicted = np.array([0.3, 0.9, 0.5, 0.51, 0.1, 0.7])
    picked = spread_by_prediction(predicted, count=4)   # targets 0.1, 0.367, 0.633, 0.9
    assert picked.tolist() == [4, 0, 5, 1]
    assert len(set(spread_by_prediction(np.zeros(5), 5).tolist())) == 5   # ties still give distinct models
    with pytest.raises(ValueError, match="count"):
        spread_by_prediction(predicted, count=7)


# --- the search, on a toy chain space whose accuracy is known --------------------------------------

class ToySpace(ChainSpace):
    """6 layers of 3 ops; op 2 is slow and good, op 0 fast and poor; accuracy is additive."""
    name = "toy"

    def __init__(self, with_latency=True):
        cost = np.tile([1.0, 2.0, 3.0], (6, 1))
        super().__init__(("a", "b", "c"), np.ones((6, 3), bool), cost if with_latency else None, 1.0)

    def evaluate(self, archs, seed):
        accuracy = 0.5 + 0.05 * self.check(archs).sum(axis=1) / 6 + 0.01 * np.sin(np.arange(len(archs)))
        return Evaluation(int(seed), accuracy, accuracy, np.full(len(archs), np.nan))


class Memoriser:
    """A stand-in predictor: predicts the true accuracy rule (op count), to test the plumbing."""

    def __init__(self, seed=0):
        self.seed = seed

    def clone(self, seed):
        return Memoriser(seed)

    def get_params(self):  # an estimator's description (scikit-learn's contract): experiments record it
        return {"seed": self.seed}

    def fit(self, graphs, y):
        self.fitted_on = len(graphs)
        return self

    def predict(self, graphs):
        ops = graphs.features.argmax(-1).numpy()
        return 0.5 + 0.05 * ops.sum(axis=1) / 6

    rank_score = predict  # a regressor ranks by its prediction (what the soft-Pareto rule compares)


def test_soft_pareto_search_plumbing():
    space = ToySpace()
    pool = space.sample(500, 0)
    outcomes = space.evaluate(pool, 0)
    search = SoftParetoSearch(Memoriser(), N=40, J=3)
    a = search.search(space, pool, outcomes, seed=1, progress=False)
    b = search.search(space, pool, outcomes, seed=1, progress=False)
    assert a.trained.tolist() == b.trained.tolist()                      # seeded
    assert len(a.train) == 40 and a.K == len(a.selected) == a.stats["K"]
    assert len(a.trace) == 40 + a.K
    assert not set(a.train) & set(a.selected)
    assert sorted(a.candidates.tolist() + a.train.tolist()) == list(range(500))
    expected = a.candidates[soft_pareto(space.latency(pool[a.candidates]), a.predicted, 3)]
    assert a.selected.tolist() == expected.tolist()
    assert np.all(np.diff(space.latency(pool[a.selected])) >= 0)       # fastest first
    assert a.model.fitted_on == 40
    assert search.describe()["J"] == 3


def test_soft_pareto_search_errors():
    space = ToySpace()
    pool = space.sample(50, 0)
    outcomes = space.evaluate(pool, 0)
    with pytest.raises(ValueError, match="leaves no candidates"):
        SoftParetoSearch(Memoriser(), N=50).search(space, pool, outcomes, 0, progress=False)
    with pytest.raises(ValueError, match="outcomes for a pool"):
        SoftParetoSearch(Memoriser(), N=5).search(space, pool, outcomes[:10], 0, progress=False)
    with pytest.raises(ValueError, match="NaN"):
        no_latency = ToySpace(with_latency=False)
        SoftParetoSearch(Memoriser(), N=5).search(no_latency, pool, outcomes, 0, progress=False)
    with pytest.raises(ValueError, match="J must be"):
        SoftParetoSearch(Memoriser(), J=0)
    with pytest.raises(ValueError, match="N must be"):
        SoftParetoSearch(Memoriser(), N=1)
    with pytest.raises(TypeError, match="predictor"):
        SoftParetoSearch(object())
