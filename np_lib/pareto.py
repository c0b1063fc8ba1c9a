"""Pareto frontiers and the soft-Pareto search of section 4.2 (Figures 8 and 9).

* :func:`pareto_front`: "a model is Pareto optimal if no faster model has higher
  quality" (section 4.2), the frontier of Figure 8 (middle, right).
* :func:`soft_pareto`: the paper's relaxation for predicted accuracies: "we sort
  the models based on increasing inference time ... we define a model as
  soft-Pareto optimal when the predicted accuracy is higher than the minimum of
  the previous J models. In our experiments we set J = 6."
* :class:`SoftParetoSearch`: the whole recipe: train N models of an in-band pool,
  fit the predictor, predict the rest, train the K soft-Pareto optimal ones.
  It is a :class:`np_lib.search.Strategy` like the searches of section 4.1
  (same ``search(pool, outcomes, budget, seed)``, same trace), so
  :func:`np_lib.experiment.run_experiment` repeats it and its random baseline
  is :class:`np_lib.search.RandomSearch` with budget N + K on the same pool.
* :func:`frontier_curve`, :func:`spread_by_prediction`: the comparisons of
  Figure 8 and the generalisation test of Figure 9 (right).
* Measures of a frontier over a latency band (Figure 8 as numbers, see below):
  :func:`frontier_mean` (the area under the attained frontier, hypervolume
  style), :func:`pareto_cells_trained` (how many of the band's true
  Pareto-optimal models a search trained) and :func:`random_models_to_match`
  (how many random in-band models reach the same frontier mean, from
  :func:`random_frontier_means`);
  :func:`frontier_summary` and :func:`compare_frontiers` report them per run.
* Notebook 06's checks: :func:`soft_pareto_by_count` (a third reading of the
  rule, below), :func:`final_frontier_curve` (Figure 8 right as one curve per
  run), :func:`repeat_soft_pareto` (the comparison repeated over seeds; its
  table's paired differences: :func:`np_lib.compare.paired_by_run`) and
  :func:`generalisation_test` (Figure 9 right).

Why not the plain mean of :func:`frontier_curve` over the band. The staircase
is undefined (NaN) below a method's fastest model, and a ``nanmean`` then
averages only the latencies where the method has a model: a method that found
nothing in the fast part of the band is scored as if that part did not exist,
and can beat one that did find fast models. :func:`frontier_mean` instead counts
the whole band, with a ``floor`` accuracy (by default the band's worst model)
where no model was found: the attained region's area, as a hypervolume with
reference point (band's upper end, floor).

Reading of "the previous J models". Taken literally over all models in latency
order, a model is kept unless it is the worst of a window of J + 1, which keeps
about J / (J + 1) of a random pool (86 % for J = 6: some 96,000 of the paper's
112,000 candidates, not its K = 137), and J = 1 would not give the regular
frontier. We read it as the previous J *soft-Pareto* models: a model is kept
when its predicted accuracy beats the lowest of the last J models kept so far.
J = 1 is then exactly the regular Pareto frontier, a larger J admits models a
little below the frontier, and K stays in the paper's range (the notebook
06_latency_constrained_search.ipynb shows both readings' K). A third reading,
:func:`soft_pareto_by_count`, keeps a model when fewer than J faster models are
predicted at least as accurate; notebook 06 trains its selection too.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .protocol import Outcomes, Pool, as_pool
from .search import SearchResult, Strategy, best_so_far, check_predictor_and_N, fit_on_draw, fresh_estimator
from .spaces.base import check_latency, in_band
from .validation import as_rng, check_band, check_count, check_positive


def _paired(latency, accuracy, what: str) -> tuple[np.ndarray, np.ndarray]:
    latency = check_latency(latency)
    accuracy = np.asarray(accuracy, dtype=float)
    if accuracy.shape != latency.shape:
        raise ValueError(f"{len(latency)} latencies but {accuracy.size} {what}")
    if not np.isfinite(accuracy).all():
        raise ValueError(f"{what} must be finite; {int((~np.isfinite(accuracy)).sum())} are NaN or infinite")
    if len(latency) == 0:
        raise ValueError(f"no models: a frontier needs at least one (latency, {what}) pair")
    return latency, accuracy


def _by_latency(latency, accuracy) -> np.ndarray:
    # Fastest first; among equal latencies the most accurate first, then the lowest index.
    return np.lexsort((np.arange(len(latency)), -accuracy, latency))


def pareto_front(latency, accuracy) -> np.ndarray:
    """Indices of the Pareto-optimal models, fastest first.

    A model is on the frontier when every faster model is strictly less
    accurate; of models with equal latency only the most accurate can be, and
    of exact duplicates only the first.
    """
    latency, accuracy = _paired(latency, accuracy, "accuracies")
    order = _by_latency(latency, accuracy)
    running = np.maximum.accumulate(accuracy[order])
    keep = np.ones(len(order), bool)
    keep[1:] = accuracy[order][1:] > running[:-1]
    return order[keep]


def soft_pareto(latency, predicted, J: int = 6) -> np.ndarray:
    """Indices of the soft-Pareto optimal models, fastest first (section 4.2, module docstring).

    Models are visited by increasing latency; one is kept when its predicted
    accuracy is strictly higher than the minimum over the last ``J`` kept
    models (the fastest model is always kept). ``J = 1`` gives :func:`pareto_front`.
    """
    check_positive(J, "J")  # how many previous soft-Pareto models a new one must beat the worst of
    latency, predicted = _paired(latency, predicted, "predicted accuracies")
    window: deque[float] = deque(maxlen=int(J))
    kept = []
    order = _by_latency(latency, predicted)
    for i, p in zip(order.tolist(), predicted[order].tolist()):
        if not window or p > min(window):
            kept.append(i)
            window.append(p)
    return np.array(kept, dtype=np.int64)


def frontier_curve(latency, accuracy, grid) -> np.ndarray:
    """Best accuracy among the models no slower than each latency of ``grid`` (NaN where none is).

    The staircase that Figure 8 (middle, right) draws through a Pareto
    frontier, evaluated on a common grid so two searches can be compared.
    """
    latency, accuracy = _paired(latency, accuracy, "accuracies")
    order = np.argsort(latency, kind="stable")
    best = np.maximum.accumulate(accuracy[order])
    position = np.searchsorted(latency[order], np.asarray(grid, dtype=float), side="right") - 1
    return np.where(position >= 0, best[np.maximum(position, 0)], np.nan)


def frontier_mean(latency, accuracy, band, floor: float) -> float:
    """Mean over the latency ``band`` of the attained frontier, with ``floor`` where nothing was found.

    The attained frontier of some trained models is, at each latency ``x`` of
    ``band = (lo, hi)``, the best ``accuracy`` among the models no slower than
    ``x`` (the staircase of Figure 8, :func:`frontier_curve`). Where no model is
    that fast, and where the best is below ``floor``, the value is ``floor``::

        frontier_mean = floor + 1 / (hi - lo) * integral_lo^hi max(f(x) - floor, 0) dx

    which is the hypervolume (area) of the attained region above ``floor`` and
    left of ``hi``, divided by the band's width, plus ``floor``: an accuracy, the
    mean over the band. It is exact (the staircase is integrated, no grid).
    Models faster than ``lo`` count from ``lo`` (they meet every constraint in
    the band), models slower than ``hi`` not at all. With no model at all (or
    none at most ``hi``) it is ``floor``. Adding a model never lowers it, and a
    method with no model below some latency gains nothing there (module
    docstring: the plain mean of the staircase would). Natural choice of
    ``floor``: the worst accuracy of the band's models (what
    :func:`frontier_summary` uses), so a band's every model is at or above it
    and the measure runs from ``floor`` (nothing found) to the band's true
    frontier mean (every model trained).
    """
    lo, hi = check_band(band)
    floor = float(floor)
    if not np.isfinite(floor):
        raise ValueError(f"floor must be a finite accuracy, got {floor!r}")
    latency = np.asarray(latency, dtype=float)
    if latency.size == 0 and np.size(accuracy) == 0:
        return floor
    latency, accuracy = _paired(latency, accuracy, "accuracies")
    keep = latency <= hi
    if not keep.any():
        return floor
    x = np.maximum(latency[keep], lo)
    order = np.argsort(x, kind="stable")
    x, best = x[order], np.maximum.accumulate(np.maximum(accuracy[keep][order], floor))
    # Only the steps where the staircase rises: a dominated model then adds no term at all, so adding one
    # gives the same float, and the measure never falls by a rounding error.
    rises = np.flatnonzero(np.diff(np.r_[floor, best]) > 0)
    if len(rises) == 0:
        return floor
    x, best = x[rises], best[rises]
    widths = np.diff(np.append(x, hi))  # the staircase holds best[i] on [x[i], x[i + 1])
    return float((floor * (x[0] - lo) + np.dot(best, widths)) / (hi - lo))


def pareto_cells_trained(trained, latency, accuracy) -> tuple[int, int]:
    """``(found, total)``: how many of the pool's true Pareto-optimal models are among ``trained``.

    ``latency`` and ``accuracy`` cover the whole pool (e.g. every in-band cell
    with its true accuracy); ``trained`` are pool positions. The frontier is
    :func:`pareto_front` of the pool (ties: only the first model counts).
    """
    latency, accuracy = _paired(latency, accuracy, "accuracies")
    trained = _positions(trained, len(latency))
    front = pareto_front(latency, accuracy)
    return int(np.isin(front, trained).sum()), len(front)


def random_frontier_means(latency, accuracy, band, *, floor: float | None = None, draws: int = 200,
                          seed=0) -> np.ndarray:
    """Random search's :func:`frontier_mean` after every number of models: ``(draws, len(pool) + 1)``.

    Row ``d`` is one random order of the pool (``draws`` orders from ``seed``:
    uniform without replacement), column ``n`` the frontier mean over ``band``
    (``floor``: default the pool's worst ``accuracy``) of its first ``n``
    models; column 0 is ``floor``. Each row never falls. Exact: the staircase
    only changes at pool latencies, so each prefix's frontier is evaluated at
    every pool latency at once (memory ``len(pool)**2`` floats per draw).
    """
    latency, accuracy = _paired(latency, accuracy, "accuracies")
    lo, hi = check_band(band)
    floor = float(accuracy.min()) if floor is None else float(floor)
    check_positive(draws, "draws")
    # Models slower than the band never count; faster ones count from its lower end (frontier_mean).
    x = np.maximum(latency, lo)
    value = np.where(latency <= hi, np.maximum(accuracy, floor), floor)
    steps = np.unique(np.r_[x[latency <= hi], hi])            # where a staircase can change, and the end
    widths = np.diff(steps)                                    # f is constant on [steps[j], steps[j + 1])
    start = floor * (steps[0] - lo)                            # nothing is faster than the fastest model
    rng = as_rng(seed)
    means = np.empty((int(draws), len(latency) + 1))
    means[:, 0] = floor
    for d in range(int(draws)):
        order = rng.permutation(len(latency))
        # at[n, j]: value of the n-th drawn model at latency steps[j] (floor while it is slower)
        at = np.where(x[order][:, None] <= steps[None, :-1], value[order][:, None], floor)
        means[d, 1:] = (start + np.maximum.accumulate(at, axis=0) @ widths) / (hi - lo)
    return means


def random_models_to_match(target, latency, accuracy, band, *, floor: float | None = None,
                           draws: int = 200, seed=0, means: np.ndarray | None = None):
    """How many random models of the pool random search needs to reach a frontier mean of ``target``.

    Random search trains ``n`` models of the pool drawn uniformly without
    replacement; its :func:`frontier_mean` over ``band`` (with ``floor``, default
    the pool's worst ``accuracy``) never falls when ``n`` grows. For each of
    ``draws`` random orders of the pool (from ``seed``;
    :func:`random_frontier_means`, or pass its result as ``means`` to reuse it
    for many targets), ``n_d`` is the first ``n`` at which it reaches ``target``.
    The answer is the median number: the smallest ``n`` at which at least half
    of the draws have reached the target (the ``ceil(draws / 2)``-th smallest
    ``n_d``). ``latency`` and ``accuracy`` cover the whole pool; ``accuracy``
    is the measure the target was computed with (use the validation signal:
    the final measure of validation-frontier models is not monotone in ``n``).
    "Reaches" allows a relative 1e-12 for rounding: the same frontier summed in
    another order may differ in the last bit.

    ``target``: one frontier mean (returns a float) or an array of them
    (returns an array). ``inf`` where a target exceeds the frontier mean of the
    whole pool: no number of random pool models matches it (impossible for a
    method whose models come from the pool, scored on the same ``accuracy``).
    A target at or below ``floor`` needs 0 models.
    """
    if means is None:
        means = random_frontier_means(latency, accuracy, band, floor=floor, draws=draws, seed=seed)
    means = np.asarray(means, dtype=float)
    targets = np.asarray(target, dtype=float)
    if not np.isfinite(targets).all():
        raise ValueError(f"target must be finite frontier means, got {target!r}")
    reach = np.atleast_1d(targets - 1e-12 * np.maximum(1.0, np.abs(targets)))  # rounding (docstring)
    draws = len(means)
    # first n reaching each target, per draw (rows never fall): count of columns below it
    first = (means[:, None, :] < reach[None, :, None]).sum(axis=2).astype(float)
    first[first > means.shape[1] - 1] = np.inf
    needed = np.sort(first, axis=0)[(draws + 1) // 2 - 1]
    return float(needed[0]) if targets.ndim == 0 else needed


def _positions(trained, size: int) -> np.ndarray:
    trained = np.asarray(trained)
    if trained.size and (trained.dtype.kind not in "iu" or trained.min() < 0 or trained.max() >= size):
        raise ValueError(f"trained must be pool positions, integers in [0, {size}); got {trained[:5]!r}...")
    return trained.astype(np.int64, copy=False)


def frontier_summary(trained, outcomes, latency, grid, *, band=None) -> dict[str, float]:
    """What the models ``trained`` (pool positions) reach on a latency band (Figure 8 middle, right).

    ``latency`` and ``outcomes`` cover the whole pool; ``band`` defaults to
    ``(min(grid), max(grid))``, and the band's models are the pool models in it.

    ``trained``: how many; ``frontier_models``: how many are on their
    validation frontier; ``best_validation_%`` and ``final_of_best_validation_%``
    (the test measure of that model).

    The frontier measures (:func:`frontier_mean`, exact over the band, floor =
    the band's worst model on that measure): ``validation_frontier_mean_%``
    through their validation accuracies, and ``final_frontier_mean_%`` through
    the final measure of their validation-frontier models (what a user would
    retrain and report), with ``true_validation_frontier_mean_%`` and
    ``true_final_frontier_mean_%`` the same for the band's every model (the
    best any search can reach). ``validation_pareto_cells`` and
    ``final_pareto_cells``: how many of the band's true Pareto-optimal models
    (by validation, by final measure) were trained (:func:`pareto_cells_trained`).

    ``mean_validation_frontier_%`` and ``mean_final_frontier_%`` are the older
    plain means of :func:`frontier_curve` over ``grid``, which skip latencies
    below a method's fastest model (module docstring); kept for comparison.
    """
    latency = check_latency(latency)
    trained = _positions(trained, len(latency))
    band = (float(np.min(grid)), float(np.max(grid))) if band is None else check_band(band)
    pool_val, pool_test = outcomes.validation_accuracy, outcomes.test_accuracy
    if len(pool_val) != len(latency):
        raise ValueError(f"{len(pool_val)} outcomes but {len(latency)} latencies: both cover the whole pool")
    inside = np.flatnonzero(in_band(latency, band))
    if len(inside) == 0:
        raise ValueError(f"no pool model lies in the band {band} ms")
    lat, val, test = latency[trained], pool_val[trained], pool_test[trained]
    front = pareto_front(lat, val)
    floors = float(pool_val[inside].min()), float(pool_test[inside].min())
    true_val_front = inside[pareto_front(latency[inside], pool_val[inside])]
    true_test_front = inside[pareto_front(latency[inside], pool_test[inside])]
    return {"trained": len(trained), "frontier_models": len(front),
            "best_validation_%": 100 * val.max(), "final_of_best_validation_%": 100 * test[np.argmax(val)],
            "validation_frontier_mean_%": 100 * frontier_mean(lat, val, band, floors[0]),
            "final_frontier_mean_%": 100 * frontier_mean(lat[front], test[front], band, floors[1]),
            "true_validation_frontier_mean_%": 100 * frontier_mean(latency[true_val_front],
                                                                   pool_val[true_val_front], band, floors[0]),
            "true_final_frontier_mean_%": 100 * frontier_mean(latency[true_test_front], pool_test[true_test_front],
                                                              band, floors[1]),
            "validation_pareto_cells": int(np.isin(true_val_front, trained).sum()),
            "final_pareto_cells": int(np.isin(true_test_front, trained).sum()),
            "mean_validation_frontier_%": 100 * np.nanmean(frontier_curve(lat, val, grid)),
            "mean_final_frontier_%": 100 * np.nanmean(frontier_curve(lat[front], test[front], grid))}


def compare_frontiers(benchmark, experiments: dict, grid, *, pool=None, band=None):
    """One row per (run, method): :func:`frontier_summary` of each experiment's trained models.

    ``experiments``: ``{method: Experiment}`` of :func:`np_lib.experiment.run_experiment`
    on ``benchmark`` and ``pool`` (the same arguments as there) with the same
    seed. The first decides each run's budget: a
    soft-Pareto search trains N + its own K, and the others (run with a budget
    at least as large) are cut to that many, so in every run each method
    trains as many models on the same simulated outcomes. ``band``: as in
    :func:`frontier_summary`. Returns a DataFrame.
    """
    import pandas as pd

    pool = as_pool(benchmark, pool)
    latency = check_latency(pool.latency(), f"{pool.name} latency")
    rows = []
    for r, lead in enumerate(next(iter(experiments.values())).runs):
        outcomes, budget = pool.simulate(lead.simulate_seed), len(lead.trace)
        for method, experiment in experiments.items():
            run = experiment.runs[r]
            if run.simulate_seed != lead.simulate_seed or len(run.trace) < budget:
                raise ValueError(f"{method}: run {r} has other outcomes or fewer than {budget} models; run it "
                                 "with the same seed and a budget of at least the longest first-method run")
            rows.append({"run": r, "method": method, "K": budget - int(lead.stats.get("N", 0)),
                         **frontier_summary(run.trace.trained[:budget], outcomes, latency, grid, band=band)})
    return pd.DataFrame(rows)


def spread_by_prediction(predicted, count: int = 10) -> np.ndarray:
    """Figure 9 (right): the model with the lowest and the highest prediction and ``count - 2``
    models "evenly spaced between those two endpoints": for each of ``count`` evenly spaced
    targets, the not yet picked model whose prediction is nearest. Indices in target order."""
    predicted = np.asarray(predicted, dtype=float)
    check_count(count, "count", minimum=2)
    if count > len(predicted):
        raise ValueError(f"count must be an integer in [2, {len(predicted)}] (the number of models), got {count!r}")
    picked = []
    for target in np.linspace(predicted.min(), predicted.max(), int(count)):
        distance = np.abs(predicted - target)
        distance[picked] = np.inf
        picked.append(int(np.argmin(distance)))
    return np.array(picked, dtype=np.int64)


@dataclass(frozen=True)
class SoftParetoResult(SearchResult):
    """One soft-Pareto search on a pool (pool positions throughout): a :class:`~np_lib.search.SearchResult` and more.

    ``trace``: :func:`~np_lib.search.best_so_far` over the trained models, the N
    training models first, then the K selected ones fastest first. ``train``:
    the N models the predictor learned from; ``candidates``: the rest of the
    pool, with their ``predicted`` scores (``rank_score``: the predicted
    accuracy for a single-stage regressor); ``selected``: the K soft-Pareto
    models, fastest first; ``model``: the fitted predictor; ``stats``: N, K, J,
    the number of candidates and of soft-Pareto models before any cap
    (``soft_pareto``).
    """
    train: np.ndarray | None = None
    candidates: np.ndarray | None = None
    predicted: np.ndarray | None = None
    selected: np.ndarray | None = None
    model: Any = None

    @property
    def K(self) -> int:
        return len(self.selected)


@dataclass(frozen=True)
class SoftParetoSearch(Strategy):
    """Section 4.2's search: N models to fit the predictor, then the K soft-Pareto models of the rest.

    ``predictor``: an unfitted estimator with ``clone(seed=...)`` (e.g.
    ``NeuralPredictor(num_layers=18, D=96, fc_sizes=(512, 128))``) or a factory
    ``seed -> estimator``, as for :class:`np_lib.search.NeuralPredictorSearch`.
    ``N`` (119 in the paper) and ``J`` (6). K is not chosen: it is however many
    candidates the soft-Pareto rule keeps (137 in the paper), capped by
    ``max_K`` (None: no cap) and by the search's ``budget - N``. A capped
    selection keeps ``K`` of the soft-Pareto models spread evenly along it (by
    position in latency order, both ends kept), so it still spans the band
    rather than crowding its slow end, where predicted accuracy is highest.

    The pool is typically an in-band sample
    (:func:`~np_lib.spaces.base.sample_in_band`); latencies come from the
    benchmark's ``latency`` (a table lookup, known before training), and only
    the trained models' ``outcomes`` are read. The N training models and the
    predictor's seed are drawn as :class:`~np_lib.search.NeuralPredictorSearch`
    draws them, so with equal seeds both searches learn from the same models.
    """

    predictor: Any
    N: int = 119
    J: int = 6
    max_K: int | None = None

    name = "soft_pareto"

    def __post_init__(self):
        check_predictor_and_N(self.predictor, self.N)
        check_positive(self.J, "J")
        if self.max_K is not None:
            check_positive(self.max_K, "max_K")

    def new_predictor(self, seed: int):
        """A fresh, unfitted estimator seeded with ``seed``."""
        return fresh_estimator(self.predictor, seed)

    def draw(self, pool_size: int, seed) -> tuple[np.ndarray, np.ndarray, int]:
        """``(train, candidates, predictor_seed)`` that :meth:`search` uses with this ``seed``.

        The N training models are drawn uniformly without replacement from the
        pool; the candidates are the rest. Separate so the N models can be
        cross-validated (hyper-parameter selection, section 4.2) before the search.
        """
        if self.N >= pool_size:
            raise ValueError(f"N = {self.N} leaves no candidates in a pool of {pool_size} models")
        rng = as_rng(seed)
        train = rng.choice(pool_size, size=self.N, replace=False)
        return train, np.setdiff1d(np.arange(pool_size), train), int(rng.integers(2 ** 31))

    def search(self, pool, outcomes, budget=None, seed=None, *, progress: bool = False) -> SoftParetoResult:
        """Run on ``pool`` with simulated ``outcomes``; ``budget`` caps N + K (None: no cap besides ``max_K``).

        The form of earlier versions, ``search(space, archs, outcomes, seed)``,
        is still accepted. ``progress`` shows a bar while the candidates are scored.
        """
        if not hasattr(outcomes, "validation_accuracy"):  # search(space, archs, outcomes, seed)
            pool, outcomes, budget = as_pool(pool, outcomes), budget, None
        pool = as_pool(pool)
        if len(outcomes.validation_accuracy) != len(pool):
            raise ValueError(f"{len(outcomes.validation_accuracy)} outcomes for a pool of {len(pool)} models")
        if self.N >= len(pool):
            raise ValueError(f"N = {self.N} leaves no candidates in a pool of {len(pool)} models")
        if budget is not None and check_positive(budget, "budget") <= self.N:
            raise ValueError(f"budget {budget} leaves no K: it must exceed N = {self.N} (budget caps N + K)")
        return self._search(pool, outcomes, budget, as_rng(seed), progress)

    def _search(self, pool: Pool, outcomes: Outcomes, budget, rng, progress: bool = False) -> SoftParetoResult:
        latency = check_latency(pool.latency(), f"{pool.name} latency")
        train, candidates, model = fit_on_draw(self, pool, outcomes, rng)
        predicted = pool.rank_scores(model, candidates, progress=progress)
        kept = soft_pareto(latency[candidates], predicted, self.J)
        found = len(kept)
        cap = min([c for c in (self.max_K, None if budget is None else budget - self.N) if c is not None],
                  default=found)
        if cap < found:  # evenly along the soft-Pareto models, fastest and slowest kept (class docstring)
            kept = kept[np.round(np.linspace(0, found - 1, cap)).astype(np.int64)]
        selected = candidates[kept]
        trace = best_so_far(np.concatenate([train, selected]), outcomes)
        stats = {"N": int(self.N), "K": len(selected), "J": int(self.J), "candidates": len(candidates),
                 "soft_pareto": found}
        return SoftParetoResult(trace, stats, None, train, candidates, predicted, selected, model)


# -- notebook 06's checks of the soft-Pareto rule and of the comparison with random search -------------

def soft_pareto_by_count(latency, predicted, J: int = 6) -> np.ndarray:
    """The other reading of section 4.2's rule: keep a model that fewer than ``J`` faster models beat.

    "We define a model as soft-Pareto optimal when the predicted accuracy is
    higher than the minimum of the previous J models" can also mean: no more
    than ``J - 1`` faster models are predicted at least as accurate (a model is
    within the J best of everything at most as slow, a "J-skyline"). Unlike
    :func:`soft_pareto`, which compares with a window of the last J *kept*
    models, it compares with every faster model, so it keeps fewer (notebook 06
    shows both on the same predictions). ``J = 1`` is :func:`pareto_front`
    (same order and ties: among equal latencies the most accurate comes first).
    Indices, fastest first.
    """
    import heapq

    check_positive(J, "J")
    latency, predicted = _paired(latency, predicted, "predicted accuracies")
    best: list[float] = []  # min-heap of the J highest predictions among the faster models
    kept = []
    order = _by_latency(latency, predicted)
    for i, p in zip(order.tolist(), predicted[order].tolist()):
        # fewer than J faster models at least as good <=> the J-th best faster one is below p
        if len(best) < J or best[0] < p:
            kept.append(i)
        if len(best) < J:
            heapq.heappush(best, p)
        elif p > best[0]:
            heapq.heapreplace(best, p)
    return np.array(kept, dtype=np.int64)


def final_frontier_curve(trained, outcomes, latency, grid, floor: float) -> np.ndarray:
    """The staircase that :func:`frontier_summary`'s ``final_frontier_mean_%`` integrates, on ``grid``.

    The models ``trained`` (pool positions) that are on their own validation
    frontier are the ones a user would retrain; the curve is the best final
    measure (``outcomes.test_accuracy``) among them at most as slow as each
    latency of ``grid``, and ``floor`` where none is (as in :func:`frontier_mean`):
    Figure 8 (right) as one curve per run, so runs can be averaged.
    """
    latency = check_latency(latency)
    trained = _positions(trained, len(latency))
    lat, val = latency[trained], outcomes.validation_accuracy[trained]
    front = pareto_front(lat, val)
    curve = frontier_curve(lat[front], outcomes.test_accuracy[trained][front], grid)
    return np.where(np.isnan(curve), float(floor), np.maximum(curve, float(floor)))


def repeat_soft_pareto(search: SoftParetoSearch, baselines: dict, pool, grid, *, runs: int, seed,
                       band=None, label: str = "soft-Pareto"):
    """Section 4.2's comparison repeated: the soft-Pareto ``search`` and each baseline, ``runs`` times.

    Run ``r`` of every method sees the same simulated outcomes and seeds
    (:func:`np_lib.experiment.run_experiment` with the same ``seed``). The
    soft-Pareto search trains N + its own K (no cap); each baseline of
    ``baselines`` (``{label: Strategy}``, e.g. :class:`np_lib.search.RandomSearch`)
    is run with the longest such budget and cut, per run, to the same N + K
    (:func:`compare_frontiers`). Returns ``(experiments, table)``: the
    experiments by label (``label`` first) and one row per (run, method) of
    :func:`frontier_summary` over ``band``.
    """
    from .experiment import run_experiment

    pool = as_pool(pool)
    soft = run_experiment(search, pool, budget=len(pool), runs=runs, seed=seed, progress=False)
    longest = max(len(run.trace) for run in soft.runs)
    experiments = {label: soft, **{name: run_experiment(strategy, pool, budget=longest, runs=runs, seed=seed,
                                                        progress=False)
                                   for name, strategy in baselines.items()}}
    return experiments, compare_frontiers(pool, experiments, grid, band=band)


def generalisation_test(space, model, models: int, *, count: int = 10, sample_seed, evaluate_seed):
    """Figure 9 (right): ``count`` of ``models`` unconstrained random models, spread by prediction, "trained".

    "We randomly sample 100,000 models from the search space ... we select 10
    models": ``models`` uniform models of ``space`` (from ``sample_seed``) are
    predicted by the fitted ``model``; the lowest, the highest and
    ``count - 2`` evenly spaced predictions between (:func:`spread_by_prediction`)
    are evaluated (``space.evaluate`` with ``evaluate_seed``). Returns
    ``(archs, predicted, evaluation)`` of the ``count`` picked models.
    """
    archs = space.sample(models, sample_seed)
    predicted = space.predict(model, archs, progress=False)
    picked = spread_by_prediction(predicted, count)
    return archs[picked], predicted[picked], space.evaluate(archs[picked], evaluate_seed)
