"""Pareto frontier, soft-Pareto selection (section 4.2) on hand-made points, and the soft-Pareto search."""
import numpy as np
import pytest

from np_lib.pareto import (SoftParetoSearch, frontier_curve, frontier_mean, frontier_summary, pareto_cells_trained,
                           pareto_front, random_frontier_means, random_models_to_match, soft_pareto,
                           spread_by_prediction)
from np_lib.protocol import Outcomes
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


# --- frontier measures over a band ------------------------------------------------------------------

def test_frontier_mean_by_hand():
    # band (0, 10), floor 0.5: 0.5 on [0, 2), 0.7 on [2, 6), 0.9 on [6, 10] -> (1 + 2.8 + 3.6) / 10
    assert frontier_mean([6.0, 2.0], [0.9, 0.7], (0, 10), floor=0.5) == pytest.approx(0.74)
    # only the slow model: nothing below 6 ms, so 0.5 there: (3 + 3.6) / 10
    assert frontier_mean([6.0], [0.9], (0, 10), floor=0.5) == pytest.approx(0.66)
    # a dominated model changes nothing; one faster than the band counts from its lower end
    assert frontier_mean([6.0, 2.0, 7.0], [0.9, 0.7, 0.8], (0, 10), floor=0.5) == pytest.approx(0.74)
    assert frontier_mean([-3.0, 6.0], [0.7, 0.9], (0, 10), floor=0.5) == pytest.approx((7 * 0.6 + 0.9 * 4) / 10)
    # a model slower than the band is not counted; one below the floor counts as the floor
    assert frontier_mean([12.0], [0.99], (0, 10), floor=0.5) == 0.5
    assert frontier_mean([1.0, 6.0], [0.1, 0.9], (0, 10), floor=0.5) == pytest.approx(0.66)
    assert frontier_mean([], [], (0, 10), floor=0.5) == 0.5
    # a single model at the band's lower end with the best accuracy: its accuracy everywhere
    assert frontier_mean([0.0], [0.8], (0, 10), floor=0.5) == pytest.approx(0.8)


def test_frontier_mean_counts_the_fast_end_where_the_plain_mean_does_not():
    # A has a fast mediocre model and the slow good one, B only the slow good one. The plain mean of
    # the staircase over a grid skips B's empty fast end and ranks B first; the frontier mean ranks A first.
    grid = np.linspace(0, 10, 101)
    plain_a = np.nanmean(frontier_curve([2.0, 6.0], [0.7, 0.9], grid))
    plain_b = np.nanmean(frontier_curve([6.0], [0.9], grid))
    assert plain_b > plain_a
    assert frontier_mean([2.0, 6.0], [0.7, 0.9], (0, 10), 0.5) > frontier_mean([6.0], [0.9], (0, 10), 0.5)


def test_frontier_mean_never_falls_when_a_model_is_added():
    rng = np.random.default_rng(3)
    latency, accuracy = rng.uniform(0, 12, 60), rng.uniform(0.4, 0.9, 60)
    means = [frontier_mean(latency[:n], accuracy[:n], (1, 10), 0.45) for n in range(61)]
    assert means[0] == 0.45 and np.all(np.diff(means) >= 0)
    # on a fine grid the exact integral agrees with the sampled staircase, floor filled in
    grid = np.linspace(1, 10, 200_001)
    sampled = np.nan_to_num(frontier_curve(latency, accuracy, grid), nan=0.45).clip(min=0.45).mean()
    assert means[-1] == pytest.approx(sampled, abs=1e-4)


def test_frontier_mean_rejects_bad_input():
    with pytest.raises(ValueError, match="band"):
        frontier_mean([1.0], [0.5], (10, 0), floor=0.4)
    with pytest.raises(ValueError, match="floor"):
        frontier_mean([1.0], [0.5], (0, 10), floor=np.nan)
    with pytest.raises(ValueError, match="NaN"):
        frontier_mean([1.0, np.nan], [0.5, 0.6], (0, 10), floor=0.4)
    with pytest.raises(ValueError, match="2 latencies but 1"):
        frontier_mean([1.0, 2.0], [0.5], (0, 10), floor=0.4)


def test_pareto_cells_trained():
    # the frontier of the ten models is [0, 2, 5, 9]
    assert pareto_cells_trained([0, 5, 7], LATENCY, PREDICTED) == (2, 4)
    assert pareto_cells_trained([], LATENCY, PREDICTED) == (0, 4)
    assert pareto_cells_trained(np.arange(10), LATENCY, PREDICTED) == (4, 4)
    with pytest.raises(ValueError, match="pool positions"):
        pareto_cells_trained([10], LATENCY, PREDICTED)


def test_random_models_to_match_by_hand():
    # The target needs model 0: n_d is its position in a random order + 1, uniform on {1, 2, 3}; at
    # least half of the draws have it by n = 2 (2/3 of them), not by n = 1 (1/3).
    latency, accuracy = np.array([0.0, 1.0, 2.0]), np.array([0.9, 0.5, 0.5])
    target = frontier_mean(latency[:1], accuracy[:1], (0, 3), 0.5)
    assert random_models_to_match(target, latency, accuracy, (0, 3), draws=1001, seed=0) == 2
    # Here the target (the whole pool's 0.7) needs models 1 and 2 (model 0 sits at the floor): n_d = 2 only
    # when model 0 comes last (1/3 of orders), so the median is 3 (the mean would be 2.67).
    latency, accuracy = np.array([0.0, 1.0, 2.0]), np.array([0.6, 0.7, 0.8])
    assert random_models_to_match(0.7, latency, accuracy, (0, 3), draws=1001, seed=0) == 3
    assert random_models_to_match(0.7001, latency, accuracy, (0, 3)) == np.inf   # above the whole pool
    assert random_models_to_match(0.6, latency, accuracy, (0, 3)) == 0            # the floor: nothing needed


def test_random_models_to_match_agrees_with_a_linear_scan():
    rng = np.random.default_rng(5)
    latency, accuracy = rng.uniform(0, 10, 80), rng.uniform(0.5, 0.9, 80)
    floor, band = accuracy.min(), (0, 10)
    target = frontier_mean(latency[:20], accuracy[:20], band, floor)
    draws, orders = 31, np.random.default_rng(7)
    firsts = []
    for _ in range(draws):  # the draws the function makes with seed 7, scanned one model at a time
        order = orders.permutation(80)
        firsts.append(next(n for n in range(81)
                           if frontier_mean(latency[order[:n]], accuracy[order[:n]], band, floor) >= target))
    assert random_models_to_match(target, latency, accuracy, band, draws=draws, seed=7) == np.sort(firsts)[15]
    # many targets at once, from the same draws
    means = random_frontier_means(latency, accuracy, band, draws=draws, seed=7)
    many = random_models_to_match([floor, target, means[:, -1].max() + 0.01], latency, accuracy, band, means=means)
    assert many.tolist() == [0, np.sort(firsts)[15], np.inf]


def test_random_frontier_means_are_the_frontier_means_of_each_prefix():
    rng = np.random.default_rng(8)
    latency, accuracy = rng.uniform(0, 12, 40), rng.uniform(0.5, 0.9, 40)   # some beyond the band (1, 10)
    means = random_frontier_means(latency, accuracy, (1, 10), floor=0.55, draws=3, seed=2)
    orders = np.random.default_rng(2)
    assert means.shape == (3, 41)
    for row in means:
        order = orders.permutation(40)
        expected = [frontier_mean(latency[order[:n]], accuracy[order[:n]], (1, 10), 0.55) for n in range(41)]
        np.testing.assert_allclose(row, expected, rtol=0, atol=1e-12)
        assert np.all(np.diff(row) >= -1e-15)


def test_frontier_summary_by_hand():
    # four models in the band (0, 10) and one beyond it; floors: validation 0.6, final 0.62
    latency = np.array([1.0, 3.0, 5.0, 8.0, 12.0])
    val = np.array([0.6, 0.8, 0.7, 0.9, 0.95])
    test = np.array([0.62, 0.78, 0.75, 0.88, 0.9])
    outcomes = Outcomes(0, val, test, np.full(5, np.nan))
    row = frontier_summary([2, 3], outcomes, latency, np.linspace(0, 10, 11))
    assert row["validation_frontier_mean_%"] == pytest.approx(100 * (0.6 * 5 + 0.7 * 3 + 0.9 * 2) / 10)
    assert row["final_frontier_mean_%"] == pytest.approx(100 * (0.62 * 5 + 0.75 * 3 + 0.88 * 2) / 10)
    assert row["true_validation_frontier_mean_%"] == pytest.approx(100 * (0.6 * 3 + 0.8 * 5 + 0.9 * 2) / 10)
    assert row["true_final_frontier_mean_%"] == pytest.approx(100 * (0.62 * 3 + 0.78 * 5 + 0.88 * 2) / 10)
    assert (row["validation_pareto_cells"], row["final_pareto_cells"]) == (1, 1)
    assert row["best_validation_%"] == pytest.approx(90.0) and row["trained"] == 2
    # the older plain mean skips 0-4 ms, where these models have nothing, and exceeds the true frontier
    assert row["mean_validation_frontier_%"] == pytest.approx(80.0)
    assert row["mean_validation_frontier_%"] > row["true_validation_frontier_mean_%"]
    with pytest.raises(ValueError, match="no pool model lies in the band"):
        frontier_summary([0], outcomes, latency, np.linspace(20, 30, 5))


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
