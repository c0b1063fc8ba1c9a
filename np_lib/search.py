"""Search strategies on a finite pool: the methods compared in Figure 4 (section 4.1) and section 4.2.

Every strategy answers one question, :meth:`Strategy.search`: given a
:class:`~np_lib.protocol.Pool` (architectures of any benchmark: NAS-Bench-101,
NAS-Bench-201, a chain space, a pool space), one simulated training of each
(:class:`~np_lib.protocol.Outcomes`), a budget of trained models and a seed, in
what order does it train pool models? From that order one shared function,
:func:`best_so_far`, computes what the paper plots: at each budget ``b``, the
model with the best validation accuracy among the first ``b`` trained, its test
accuracy, and the training time spent so far (Figure 4 left, middle, right).

* :class:`NeuralPredictorSearch`: train N random models, fit the predictor,
  train the top K of the rest in predicted order (sections 3 and 4.1). One run
  of budget ``N + K`` gives the whole curve ``N + 1 .. N + K`` (Figures 4, 7).
* :class:`RandomSearch`: uniform, without replacement (section 4.1).
* :class:`RegularizedEvolution`: Real et al. (2019) as in NAS-Bench-101's example,
  with a defined policy for a pool that is only a sample of the space
  (``distinct_child``; see the class). It needs the benchmark's mutation.
* :class:`Oracle`: the pool's best validation accuracy, at every budget.
* :class:`np_lib.pareto.SoftParetoSearch`: section 4.2's latency-constrained
  search, the same interface (it needs the benchmark's latency).

Predictor-driven searches rank through one entry point,
:meth:`~np_lib.protocol.Pool.rank_scores` (the estimator's ``rank_score``,
higher is better). :func:`np_lib.experiment.run_experiment` repeats any of them.

Budgets count trained models; training a model twice (possible only in
Regularized Evolution) counts twice and costs its training time twice.
"""
from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .protocol import Outcomes, Pool, as_pool
from .validation import as_rng, check_count, check_positive


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


def best_so_far(trained, outcomes: Outcomes) -> Trace:
    """The :class:`Trace` of training the pool models ``trained`` (positions), in that order (vectorised)."""
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
    """What one search returns (pool positions throughout).

    ``trace``: its :class:`Trace` (the trained order, the best validation so
    far and that model's test accuracy, training time). ``stats``: counters
    worth reporting (Regularized Evolution's ``redraws`` and ``fallbacks``;
    the soft-Pareto search's N, K, J; empty otherwise). ``parents``: for
    Regularized Evolution, the training-order position of each model's parent
    (-1 for the random initial population), else None. Strategies may return
    a subclass with more (:class:`~np_lib.pareto.SoftParetoResult`).
    """
    trace: Trace
    stats: dict[str, int] = field(default_factory=dict)
    parents: np.ndarray | None = None

    @property
    def trained(self) -> np.ndarray:
        """Pool positions of the trained models, in training order."""
        return self.trace.trained


class Strategy:
    """The one interface: ``search(pool, outcomes, budget, seed) -> SearchResult``.

    ``pool``: a :class:`~np_lib.protocol.Pool`, or anything
    :func:`~np_lib.protocol.as_pool` accepts (a loaded NAS-Bench-101 table, a
    space with its own pool, or, as before, a ``CellArray`` or encoded graphs).
    ``outcomes``: one simulated training of every pool model (``pool.simulate(seed)``).
    ``budget``: trained models, a positive integer. ``seed`` (an int, a
    ``numpy.random.SeedSequence`` or a ``Generator``) makes every random
    choice: equal seeds, equal searches. The result's trace holds pool positions.

    Subclasses implement :meth:`_train_order` (or :meth:`_search`, to return
    more than an order); the checks and the trace are shared.
    """

    name: str

    def search(self, pool, outcomes: Outcomes, budget: int, seed) -> SearchResult:
        pool = as_pool(pool)
        if len(outcomes.validation_accuracy) != len(pool):
            raise ValueError(f"{len(outcomes.validation_accuracy)} outcomes for a pool of {len(pool)} models")
        check_positive(budget, "budget")  # trained models
        return self._search(pool, outcomes, int(budget), as_rng(seed))

    def _search(self, pool: Pool, outcomes: Outcomes, budget: int, rng: np.random.Generator) -> SearchResult:
        order, stats, parents = self._train_order(pool, outcomes, budget, rng)
        return SearchResult(best_so_far(order, outcomes), stats, parents)

    def _train_order(self, pool, outcomes, budget, rng) -> tuple[np.ndarray, dict[str, int], np.ndarray | None]:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """Name, class and every parameter as plain JSON values: the strategy's part of an experiment's identity.

        An experiment's manifest records it, and a directory holding runs of
        another description is refused (:mod:`np_lib.experiment`). Raises
        :class:`IdentityError` for a parameter whose behaviour a description
        cannot capture (a lambda or closure as predictor).
        """
        params = {f.name: _describe(getattr(self, f.name), f"{type(self).__name__}.{f.name}")
                  for f in dataclasses.fields(self)}
        return {"strategy": self.name, "class": _class_path(type(self)), **params}


class IdentityError(ValueError):
    """A value whose behaviour cannot be described as plain data, so it cannot be part of an experiment's identity."""


def _class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _describe(value, where: str = "value"):
    """``value`` as plain JSON data that determines its behaviour, or :class:`IdentityError`.

    Estimators describe themselves by class and ``get_params()`` (scikit-learn's
    contract); objects with ``describe()`` by its result; a class (a factory
    ``seed -> estimator`` with its defaults) by its import path; a
    ``functools.partial`` by its function and arguments. A function, lambda or
    closure is refused: what it builds is in its code and captured variables,
    which a name does not capture, so changing it would silently reuse runs.
    """
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_describe(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _describe(v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.size <= 1024:
        return {"array": _describe(value.tolist(), where), "dtype": str(value.dtype)}
    if isinstance(value, type):
        return {"class": _class_path(value)}
    if isinstance(value, functools.partial):
        return {"partial": _describe(value.func, f"{where}.func"), "args": _describe(value.args, f"{where}.args"),
                "keywords": _describe(value.keywords, f"{where}.keywords")}
    if hasattr(value, "get_params"):  # an estimator: its class and hyper-parameters
        return {"class": _class_path(type(value)),
                **{k: _describe(v, f"{where}.{k}") for k, v in value.get_params().items()}}
    description = value.describe() if callable(getattr(value, "describe", None)) else None
    if isinstance(description, dict):  # not, say, a DataFrame's describe()
        return {"class": _class_path(type(value)), **_describe(description, where)}
    if dataclasses.is_dataclass(value):
        return {"class": _class_path(type(value)),
                **{f.name: _describe(getattr(value, f.name), f"{where}.{f.name}") for f in dataclasses.fields(value)}}
    what = getattr(value, "__qualname__", None) or type(value).__qualname__
    raise IdentityError(
        f"{where} = {what!r} cannot be described: a {type(value).__name__}'s behaviour (its code, its captured "
        "variables) is not plain data, so an experiment's identity could not tell two versions apart. Pass an "
        "estimator (e.g. NeuralPredictor(epochs=30): its class and get_params() describe it), a class, a "
        "functools.partial of one, or an object with describe() returning its parameters")


def _check_fits(budget: int, pool, what: str = "budget"):
    if budget > len(pool):
        raise ValueError(f"{what} {budget} exceeds the pool of {len(pool)} models (no model is trained twice)")


def draw(pool, n: int, rng: np.random.Generator) -> np.ndarray:
    """Positions of ``n`` distinct pool models, uniform without replacement (every strategy's random start)."""
    _check_fits(n, pool, "a draw of")
    return rng.choice(len(pool), size=n, replace=False)


@dataclass(frozen=True)
class RandomSearch(Strategy):
    """Random search without replacement, NAS-Bench-101's random baseline (section 4.1, Figure 4)."""

    name = "random_search"

    def _train_order(self, pool, outcomes, budget, rng):
        _check_fits(budget, pool)
        return draw(pool, budget, rng), {}, None


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

    def _train_order(self, pool, outcomes, budget, rng):
        _check_fits(budget, pool)
        return np.argsort(-outcomes.validation_accuracy, kind="stable")[:budget], {}, None


def check_predictor_and_N(predictor, N) -> None:
    """Validate the two settings every predictor-driven search shares (here and in :mod:`np_lib.pareto`)."""
    check_count(N, "N", minimum=2)  # the predictor needs training models
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

    Train ``N`` models drawn uniformly without replacement from the pool, fit
    the predictor on their validation accuracies, score the candidate pool (the
    pool minus those ``N``) with ``rank_score`` (higher is better,
    :meth:`~np_lib.protocol.Pool.rank_scores`) and train the top
    ``K = budget - N`` in predicted order (ties: lower pool position first).
    The trace is defined at every budget ``N + k``, k = 1..K, so one run gives
    the whole curve; below ``N`` it is the random search of the training models.

    ``predictor``: an unfitted estimator with ``clone(seed=...)`` (e.g.
    ``TwoStagePredictor(epochs=...)`` or ``NeuralPredictor()``, cloned afresh
    every search), or a factory ``seed -> estimator``; either way the estimator
    needs ``fit(graphs, y)`` and ``rank_score(graphs)``. Default: the paper's
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

    def _train_order(self, pool, outcomes, budget, rng):
        N, K = self.N, budget - self.N
        if K < 1:
            raise ValueError(f"budget {budget} leaves no K: it must exceed N = {N} (budget = N + K, K >= 1)")
        _check_fits(budget, pool, f"N + K = {N} + {K} =")
        train, candidates, model = fit_on_draw(self, pool, outcomes, rng)
        scores = pool.rank_scores(model, candidates)
        top_k = candidates[np.argsort(-scores, kind="stable")[:K]]
        return np.concatenate([train, top_k]), {}, None


def fit_on_draw(strategy, pool: Pool, outcomes: Outcomes, rng: np.random.Generator):
    """``(train, candidates, model)``: what every predictor-driven search starts with (sections 3, 4.2).

    ``strategy.N`` pool models drawn uniformly without replacement are
    "trained" (their validation accuracy read from ``outcomes``) and fit a
    fresh predictor seeded from ``rng``; the candidates are the rest of the
    pool, in position order.
    """
    train = draw(pool, strategy.N, rng)
    candidates = np.setdiff1d(np.arange(len(pool)), train)
    model = strategy.new_predictor(int(rng.integers(2 ** 31)))
    model.fit(pool.encode(train), outcomes.validation_accuracy[train])
    return train, candidates, model


@dataclass(frozen=True)
class RegularizedEvolution(Strategy):
    """Regularized (aging) evolution, Real et al. (2019), as NAS-Bench-101 runs it (Figure 4's baseline).

    Defaults ``population_size=50, tournament_size=10, mutation_rate=0.5`` are
    the settings of NAS-Bench-101's public example notebook
    (``run_evolution_search`` in github.com/google-research/nasbench,
    ``NASBench.ipynb``); mutation is the benchmark's (``mutate`` and ``key``,
    :class:`np_lib.protocol.Benchmark`): on NAS-Bench-101 its operator,
    :func:`np_lib.nasbench101.space.mutate`, which reads ``mutation_rate``.

    The first ``population_size`` models are distinct models drawn uniformly
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
            check_positive(getattr(self, key), key)
        if self.tournament_size > self.population_size:
            raise ValueError(f"tournament_size {self.tournament_size} exceeds population_size "
                             f"{self.population_size}: a tournament samples distinct members")
        if not self.mutation_rate > 0:
            raise ValueError(f"mutation_rate must be positive, got {self.mutation_rate!r}")
        if not isinstance(self.distinct_child, bool):
            raise ValueError(f"distinct_child must be True or False, got {self.distinct_child!r}")

    def _train_order(self, pool, outcomes, budget, rng):
        P, S = self.population_size, self.tournament_size
        _check_fits(P, pool, "population_size")
        validation = outcomes.validation_accuracy
        order = np.empty(budget, np.int64)
        parents = np.full(budget, -1, np.int64)
        start = min(P, budget)
        order[:start] = draw(pool, start, rng)
        is_trained = np.zeros(len(pool), bool)
        is_trained[order[:start]] = True
        stats = {"redraws": 0, "parent_redraws": 0, "fallbacks": 0, "parent_repeats": 0}
        for t in range(start, budget):
            # order[t - P:t] is the population: appending a child and killing the oldest slides the window.
            contestants = np.sort(rng.choice(P, size=S, replace=False))
            fitness = validation[order[t - P + contestants]]
            winner = contestants[S - 1 - np.argmax(fitness[::-1])]
            parents[t] = t - P + winner
            order[t] = self._child(pool, int(order[parents[t]]), is_trained, rng, stats)
            stats["parent_repeats"] += int(order[t] == order[parents[t]])
            is_trained[order[t]] = True
        return order, stats, parents

    def _child(self, pool: Pool, parent: int, is_trained, rng, stats) -> int:
        """Pool position of the parent's mutant, by the redraw-then-fallback policy (class docstring)."""
        for attempt in range(self.max_redraws):
            index = pool.mutant(parent, rng, self.mutation_rate)
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
            raise RuntimeError(f"no mutant landed in the pool in {self.max_redraws} tries and every pool model "
                               "is trained already: nothing left to fall back on (use a smaller budget)")
        return int(rng.choice(untrained))


def mutant_shares(pool, *, draws: int = 4000, mutation_rate: float = 0.5, seed=0) -> dict:
    """Where one mutation of a random pool cell lands: the shares of mutants that are the cell
    itself, another pool cell, or outside the pool (so not trainable there).

    What :class:`RegularizedEvolution`'s redraw policy is up against on a pool that samples the
    space (notebook 04's appendix): "redraw until in the pool" accepts the parent with
    probability ``parent / (parent + another pool cell)`` unless ``distinct_child``. ``pool``:
    anything :func:`~np_lib.protocol.as_pool` takes; ``draws`` parents are drawn uniformly (with
    replacement) from ``seed``, each mutated once with the benchmark's operator at ``mutation_rate``.
    """
    check_positive(draws, "draws")
    pool, rng = as_pool(pool), as_rng(seed)
    parents = rng.integers(len(pool), size=draws)
    landed = np.array([pool.mutant(int(p), rng, mutation_rate) for p in parents])
    return {"the parent itself": float(np.mean(landed == parents)),
            "another pool cell": float(np.mean((landed >= 0) & (landed != parents))),
            "outside the pool": float(np.mean(landed < 0))}


#: Strategies by name, for :func:`make_strategy` (``"soft_pareto"``: :class:`np_lib.pareto.SoftParetoSearch`).
STRATEGIES: dict[str, Callable[..., Strategy]] = {
    cls.name: cls for cls in (NeuralPredictorSearch, RandomSearch, RegularizedEvolution, Oracle)}


def make_strategy(name: str, **params) -> Strategy:
    """The strategy called ``name`` (see :data:`STRATEGIES`) with these parameters."""
    if name == "soft_pareto":
        from .pareto import SoftParetoSearch  # pareto imports this module: look it up on use

        return SoftParetoSearch(**params)
    try:
        cls = STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; known: {', '.join(sorted([*STRATEGIES, 'soft_pareto']))}") from None
    return cls(**params)
