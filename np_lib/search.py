"""Search strategies on a finite pool of cells: the methods compared in Figure 4 (section 4.1).

Every strategy answers one question, :meth:`Strategy.search`: given the pool's
cells, one simulated training of each (a :class:`~np_lib.nasbench101.benchmark.TrainingOutcomes`
from ``NASBench101.simulate``), a budget of trained models and a seed, in what
order does it train cells? From that order one shared function,
:func:`best_so_far`, computes what the paper plots: at each budget ``b``, the
model with the best validation accuracy among the first ``b`` trained, its test
accuracy, and the training time spent so far (Figure 4 left, middle, right).

* :class:`NeuralPredictorSearch`: train N random cells, fit the predictor,
  train the top K of the rest in predicted order (sections 3 and 4.1). One run
  of budget ``N + K`` gives the whole curve ``N + 1 .. N + K`` (Figures 4, 7).
* :class:`RandomSearch`: uniform, without replacement (section 4.1).
* :class:`RegularizedEvolution`: Real et al. (2019) as in NAS-Bench-101's example,
  with a defined policy for a pool that is only a sample of the space
  (``distinct_child``; see the class).
* :class:`Oracle`: the pool's best validation accuracy, at every budget.

Budgets count trained models; training a cell twice (possible only in
Regularized Evolution) counts twice and costs its training time twice.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .nasbench101.benchmark import TrainingOutcomes
from .nasbench101.cell import CellArray
from .nasbench101.space import mutate, sample_cells


@dataclass(frozen=True)
class Trace:
    """Best-so-far curve of one search; entry ``b - 1`` describes budget ``b``.

    ``budgets`` is ``1 .. len(trained)``; ``trained`` the pool indices in the
    order they were trained; ``best`` the pool index of the model with the best
    validation accuracy among the first ``b`` (the earliest one on ties);
    ``best_validation`` its validation accuracy, ``test_of_best`` its test
    accuracy (NaN where the data has none); ``cumulative_time`` the training
    time of the first ``b`` models, in the data's unit (seconds).
    """
    budgets: np.ndarray
    trained: np.ndarray
    best: np.ndarray
    best_validation: np.ndarray
    test_of_best: np.ndarray
    cumulative_time: np.ndarray

    def __len__(self) -> int:
        return len(self.trained)


def best_so_far(trained, outcomes: TrainingOutcomes) -> Trace:
    """The :class:`Trace` of training the pool cells ``trained``, in that order (vectorised)."""
    trained = np.asarray(trained, dtype=np.int64)
    if trained.ndim != 1 or len(trained) == 0:
        raise ValueError("need a non-empty 1-D sequence of trained pool indices")
    validation = outcomes.validation_accuracy[trained]
    running_max = np.maximum.accumulate(validation)
    # A model becomes the best only by beating every earlier one, so ties keep the earlier model.
    improves = np.empty(len(trained), bool)
    improves[0] = True
    improves[1:] = validation[1:] > running_max[:-1]
    position_of_best = np.maximum.accumulate(np.where(improves, np.arange(len(trained)), 0))
    best = trained[position_of_best]
    return Trace(budgets=np.arange(1, len(trained) + 1), trained=trained, best=best,
                 best_validation=running_max, test_of_best=outcomes.test_accuracy[best],
                 cumulative_time=np.cumsum(outcomes.training_time[trained]))


@dataclass(frozen=True)
class SearchResult:
    """What one search returns.

    ``trace``: its :class:`Trace`. ``stats``: counters worth reporting
    (Regularized Evolution's ``redraws`` and ``fallbacks``; empty otherwise).
    ``parents``: for Regularized Evolution, the training-order position of
    each model's parent (-1 for the random initial population), else None.
    """
    trace: Trace
    stats: dict[str, int] = field(default_factory=dict)
    parents: np.ndarray | None = None


class Strategy:
    """The interface: ``search(cells, outcomes, budget, seed) -> SearchResult``.

    Subclasses implement :meth:`_train_order`; the checks and the trace are shared.
    ``seed`` (an int or a ``numpy.random.SeedSequence``) makes every random
    choice: equal seeds, equal searches.
    """

    name: str

    def search(self, cells: CellArray, outcomes: TrainingOutcomes, budget: int, seed) -> SearchResult:
        if len(outcomes.validation_accuracy) != len(cells):
            raise ValueError(f"{len(outcomes.validation_accuracy)} outcomes for a pool of {len(cells)} cells")
        if not isinstance(budget, (int, np.integer)) or isinstance(budget, bool) or budget < 1:
            raise ValueError(f"budget must be a positive number of trained models, got {budget!r}")
        order, stats, parents = self._train_order(cells, outcomes, int(budget), np.random.default_rng(seed))
        return SearchResult(best_so_far(order, outcomes), stats, parents)

    def _train_order(self, cells, outcomes, budget, rng) -> tuple[np.ndarray, dict[str, int], np.ndarray | None]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Name and parameters as plain JSON values (an experiment's manifest records them)."""
        params = {f.name: _describe(getattr(self, f.name)) for f in dataclasses.fields(self)}
        return {"strategy": self.name, **params}


def _describe(value):
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "get_params"):  # an estimator: its class and hyper-parameters
        return {"class": type(value).__name__,
                **{k: list(v) if isinstance(v, tuple) else v for k, v in value.get_params().items()}}
    # a factory: its name (a repr would hold a memory address, different in every process)
    return getattr(value, "__qualname__", type(value).__qualname__)


def _check_fits(budget: int, cells: CellArray, what: str = "budget"):
    if budget > len(cells):
        raise ValueError(f"{what} {budget} exceeds the pool of {len(cells)} cells (no cell is trained twice)")


@dataclass(frozen=True)
class RandomSearch(Strategy):
    """Random search without replacement, NAS-Bench-101's random baseline (section 4.1, Figure 4)."""

    name = "random_search"

    def _train_order(self, cells, outcomes, budget, rng):
        _check_fits(budget, cells)
        return sample_cells(cells, budget, rng), {}, None


@dataclass(frozen=True)
class Oracle(Strategy):
    """The upper bound of section 4.1: the best validation accuracy in the pool, at every budget.

    It "trains" cells in order of their simulated validation accuracy, so its
    trace holds the pool's best (and that model's test accuracy) from budget 1
    on. Its variance comes only from the simulated runs: the paper repeats it
    over random run choices, i.e. over seeds of ``simulate``, which the
    experiment engine does. Its time axis (the training time of the best cells)
    is not the oracle's cost, which is training the whole pool.
    """

    name = "oracle"

    def _train_order(self, cells, outcomes, budget, rng):
        _check_fits(budget, cells)
        return np.argsort(-outcomes.validation_accuracy, kind="stable")[:budget], {}, None


def check_predictor_and_N(predictor, N) -> None:
    """Validate the two settings every predictor-driven search shares (here and in :mod:`np_lib.pareto`)."""
    if not isinstance(N, (int, np.integer)) or isinstance(N, bool) or N < 2:
        raise ValueError(f"N must be an integer >= 2 (the predictor needs training models), got {N!r}")
    if not (hasattr(predictor, "clone") or callable(predictor)):
        raise TypeError("predictor must be an estimator with clone(seed=...) or a factory seed -> estimator, "
                        f"got {type(predictor).__name__}")


def fresh_estimator(predictor, seed: int):
    """A new, unfitted estimator seeded with ``seed``, from a prototype (``clone``) or a factory."""
    if hasattr(predictor, "clone"):
        return predictor.clone(seed=seed)
    return predictor(seed)


def _two_stage_predictor():
    from .predictor import TwoStagePredictor  # here, not at the top: the baselines need no torch

    return TwoStagePredictor()


@dataclass(frozen=True)
class NeuralPredictorSearch(Strategy):
    """The Neural Predictor search of sections 3 and 4.1 (Figures 4 and 7).

    Train ``N`` cells drawn uniformly without replacement from the pool, fit
    the predictor on their validation accuracies, score the candidate pool (the
    pool minus those ``N``) with ``rank_score`` (higher is better) and train the
    top ``K = budget - N`` in predicted order (ties: lower pool index first).
    The trace is defined at every budget ``N + k``, k = 1..K, so one run gives
    the whole curve; below ``N`` it is the random search of the training cells.

    ``predictor``: an unfitted estimator with ``clone(seed=...)`` (e.g.
    ``TwoStagePredictor(epochs=...)`` or ``NeuralPredictor()``, cloned afresh
    every search), or a factory ``seed -> estimator``; either way the estimator
    needs ``fit(cells, y)`` and ``rank_score(cells)``. Default: the paper's
    two-stage predictor with its defaults. Its seed is drawn from the search's.
    """

    predictor: Any = field(default_factory=_two_stage_predictor)
    N: int = 172

    name = "neural_predictor"

    def __post_init__(self):
        check_predictor_and_N(self.predictor, self.N)

    def new_predictor(self, seed: int):
        """A fresh, unfitted estimator seeded with ``seed``."""
        return fresh_estimator(self.predictor, seed)

    def _train_order(self, cells, outcomes, budget, rng):
        N, K = self.N, budget - self.N
        if K < 1:
            raise ValueError(f"budget {budget} leaves no K: it must exceed N = {N} (budget = N + K, K >= 1)")
        _check_fits(budget, cells, f"N + K = {N} + {K} =")
        train = sample_cells(cells, N, rng)
        candidates = np.setdiff1d(np.arange(len(cells)), train)
        model = self.new_predictor(int(rng.integers(2 ** 31)))
        model.fit(cells[train], outcomes.validation_accuracy[train])
        scores = np.asarray(model.rank_score(cells[candidates]), dtype=float)
        if scores.shape != candidates.shape:
            raise ValueError(f"rank_score returned shape {scores.shape} for {len(candidates)} candidate cells")
        top_k = candidates[np.argsort(-scores, kind="stable")[:K]]
        return np.concatenate([train, top_k]), {}, None


@dataclass(frozen=True)
class RegularizedEvolution(Strategy):
    """Regularized (aging) evolution, Real et al. (2019), as NAS-Bench-101 runs it (Figure 4's baseline).

    Defaults ``population_size=50, tournament_size=10, mutation_rate=0.5`` are
    the settings of NAS-Bench-101's public example notebook
    (``run_evolution_search`` in github.com/google-research/nasbench,
    ``NASBench.ipynb``); mutation is its operator,
    :func:`np_lib.nasbench101.space.mutate`.

    The first ``population_size`` models are distinct cells drawn uniformly
    from the pool. Then each step samples ``tournament_size`` distinct members
    of the population, mutates the one with the best validation accuracy (ties:
    the youngest, as NAS-Bench-101's ``sorted(...)[-1]``), trains the child,
    adds it and removes the oldest member: the population is always the last
    ``population_size`` models trained.

    **Which child is trained.** A mutation is redrawn (fresh randomness, same
    parent) while the mutant

    * is not in the pool: a pool that is a sample of the space cannot train a
      cell outside it (on the full space every mutant is in the pool); or
    * is the parent itself, when ``distinct_child`` is True (the default).
      NAS-Bench-101's operator often returns the parent unchanged: every edge
      flip and op change may miss, or touch only vertices that pruning removes.
      That happens to 20% of mutations of random cells at rate 0.5, and to
      about 30% of the mutations of the parents evolution picks.

    After ``max_redraws`` tries without a child, a uniformly random untrained
    pool cell is trained instead (a *fallback*). A child that is not the
    parent but was trained before is trained again: it counts as a model and
    costs its training time again (as a query does in NAS-Bench-101) and has
    the same fixed outcome.

    **Why ``distinct_child=True`` by default.** With ``False`` (NAS-Bench-101's
    code exactly: it queries the unchanged parent again) a parent returned
    unchanged is trained again. In the paper's simulation an outcome is
    "sampled once and fixed" (section 4.1), so that model teaches the search
    nothing: on the full space a fifth or more of the evolution budget is
    spent that way. On a sample of the space it is far worse: conditioning on
    "in the pool" favours the unchanged parent, which is always in it. On the
    20,001-cell NAS-Bench-101 sample (4.7% of the space) 20% of the mutants of
    a random cell are the cell itself and 6% another pool cell, and in
    notebook 04 (8 runs of 400 models) 72% of the children ``False`` trained
    were their parent again, only 17% of the models were distinct cells, and
    its best validation accuracy (94.62 +- 0.23%) was random search's
    (94.62 +- 0.16%). ``True`` trains a real mutant: on the full space it
    changes only the no-op case; on a sample it is the closest the pool allows
    to an evolution step (a mutant, conditioned on being in the pool and not
    the parent). There it reached 94.71 +- 0.09%, with 30% distinct cells (the
    rest are pool neighbours of the population trained again: a sample's
    mutation neighbourhoods are sparse, so evolution on it stays a weak
    baseline either way). It costs redraws: 21.5 mutations per child on the
    sample instead of 3.1, about 1.4 on the full space. Pass
    ``distinct_child=False`` to reproduce NAS-Bench-101's code.

    ``stats`` counts, over the whole search: ``redraws`` (mutations drawn
    beyond the first per child), ``parent_redraws`` (those redrawn because the
    mutant was the parent; 0 unless ``distinct_child``), ``fallbacks``, and
    ``parent_repeats`` (children that are their parent, trained again; 0 when
    ``distinct_child``).
    """

    population_size: int = 50
    tournament_size: int = 10
    mutation_rate: float = 0.5
    max_redraws: int = 1000
    distinct_child: bool = True

    name = "regularized_evolution"

    def __post_init__(self):
        for key in ("population_size", "tournament_size", "max_redraws"):
            value = getattr(self, key)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{key} must be a positive integer, got {value!r}")
        if self.tournament_size > self.population_size:
            raise ValueError(f"tournament_size {self.tournament_size} exceeds population_size "
                             f"{self.population_size}: a tournament samples distinct members")
        if not self.mutation_rate > 0:
            raise ValueError(f"mutation_rate must be positive, got {self.mutation_rate!r}")
        if not isinstance(self.distinct_child, bool):
            raise ValueError(f"distinct_child must be True or False, got {self.distinct_child!r}")

    def _train_order(self, cells, outcomes, budget, rng):
        P, S = self.population_size, self.tournament_size
        _check_fits(P, cells, "population_size")
        validation = outcomes.validation_accuracy
        order = np.empty(budget, np.int64)
        parents = np.full(budget, -1, np.int64)
        start = min(P, budget)
        order[:start] = sample_cells(cells, start, rng)
        is_trained = np.zeros(len(cells), bool)
        is_trained[order[:start]] = True
        stats = {"redraws": 0, "parent_redraws": 0, "fallbacks": 0, "parent_repeats": 0}
        lookup = _PoolLookup(cells)
        for t in range(start, budget):
            # order[t - P:t] is the population: appending a child and killing the oldest slides the window.
            contestants = np.sort(rng.choice(P, size=S, replace=False))
            fitness = validation[order[t - P + contestants]]
            winner = contestants[S - 1 - np.argmax(fitness[::-1])]
            parents[t] = t - P + winner
            order[t] = self._child(cells, int(order[parents[t]]), is_trained, rng, stats, lookup)
            stats["parent_repeats"] += int(order[t] == order[parents[t]])
            is_trained[order[t]] = True
        return order, stats, parents

    def _child(self, cells, parent: int, is_trained, rng, stats, lookup) -> int:
        """Pool index of the parent's mutant, by the redraw-then-fallback policy (class docstring)."""
        parent_cell = cells[parent]
        for attempt in range(self.max_redraws):
            index = lookup(mutate(parent_cell, rng, self.mutation_rate))
            if index < 0:
                continue
            if self.distinct_child and index == parent:
                stats["parent_redraws"] += 1
                continue
            stats["redraws"] += attempt
            return index
        stats["redraws"] += self.max_redraws - 1
        stats["fallbacks"] += 1
        untrained = np.flatnonzero(~is_trained)
        if len(untrained) == 0:
            raise RuntimeError(f"no mutant landed in the pool in {self.max_redraws} tries and every pool cell "
                               "is trained already: nothing left to fall back on (use a smaller budget)")
        return int(rng.choice(untrained))


class _PoolLookup:
    """Pool index of a cell (-1 if outside the pool), memoising the module hash of each graph seen.

    A parent has only a few hundred distinct mutants and the search draws thousands,
    so most hashes (a third of a mutation's cost) are computed once. The result is
    the same as ``pool.index(cell.hash)``.
    """

    def __init__(self, pool: CellArray):
        self.pool = pool
        self.memo: dict[tuple, int] = {}

    def __call__(self, cell) -> int:
        key = (cell.ops, cell.matrix.tobytes())
        index = self.memo.get(key)
        if index is None:
            try:
                index = int(self.pool.index(cell.hash))
            except KeyError:
                index = -1
            self.memo[key] = index
        return index


#: Strategies by name, for :func:`make_strategy`.
STRATEGIES: dict[str, Callable[..., Strategy]] = {
    cls.name: cls for cls in (NeuralPredictorSearch, RandomSearch, RegularizedEvolution, Oracle)}


def make_strategy(name: str, **params) -> Strategy:
    """The strategy called ``name`` (see :data:`STRATEGIES`) with these parameters."""
    try:
        cls = STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; known: {', '.join(sorted(STRATEGIES))}") from None
    return cls(**params)
