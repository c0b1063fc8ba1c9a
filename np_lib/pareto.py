"""Pareto frontiers and the soft-Pareto search of section 4.2 (Figures 8 and 9).

* :func:`pareto_front`: "a model is Pareto optimal if no faster model has higher
  quality" (section 4.2), the frontier of Figure 8 (middle, right).
* :func:`soft_pareto`: the paper's relaxation for predicted accuracies: "we sort
  the models based on increasing inference time ... we define a model as
  soft-Pareto optimal when the predicted accuracy is higher than the minimum of
  the previous J models. In our experiments we set J = 6."
* :class:`SoftParetoSearch`: the whole recipe: train N models of an in-band pool,
  fit the predictor, predict the rest, train the K soft-Pareto optimal ones.
  Its random baseline is :class:`np_lib.search.RandomSearch` with budget N + K
  on the same pool, and both return :class:`~np_lib.search.Trace` results
  (:func:`np_lib.search.best_so_far`), so the search engine is the one of
  section 4.1.
* :func:`frontier_curve`, :func:`spread_by_prediction`: the comparisons of
  Figure 8 and the generalisation test of Figure 9 (right).

Reading of "the previous J models". Taken literally over all models in latency
order, a model is kept unless it is the worst of a window of J + 1, which keeps
about J / (J + 1) of a random pool (86 % for J = 6: some 96,000 of the paper's
112,000 candidates, not its K = 137), and J = 1 would not give the regular
frontier. We read it as the previous J *soft-Pareto* models: a model is kept
when its predicted accuracy beats the lowest of the last J models kept so far.
J = 1 is then exactly the regular Pareto frontier, a larger J admits models a
little below the frontier, and K stays in the paper's range (the notebook
06_latency_constrained_search.ipynb shows both readings' K).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .search import Trace, best_so_far, check_predictor_and_N, fresh_estimator
from .spaces.base import as_rng, check_latency, predict


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
    if not isinstance(J, (int, np.integer)) or isinstance(J, bool) or J < 1:
        raise ValueError(f"J must be a positive integer (how many previous soft-Pareto models to beat the "
                         f"worst of), got {J!r}")
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


def spread_by_prediction(predicted, count: int = 10) -> np.ndarray:
    """Figure 9 (right): the model with the lowest and the highest prediction and ``count - 2``
    models "evenly spaced between those two endpoints": for each of ``count`` evenly spaced
    targets, the not yet picked model whose prediction is nearest. Indices in target order."""
    predicted = np.asarray(predicted, dtype=float)
    if not isinstance(count, (int, np.integer)) or count < 2 or count > len(predicted):
        raise ValueError(f"count must be an integer in [2, {len(predicted)}] (the number of models), got {count!r}")
    picked = []
    for target in np.linspace(predicted.min(), predicted.max(), int(count)):
        distance = np.abs(predicted - target)
        distance[picked] = np.inf
        picked.append(int(np.argmin(distance)))
    return np.array(picked, dtype=np.int64)


@dataclass(frozen=True)
class SoftParetoResult:
    """One soft-Pareto search on a pool (pool indices throughout).

    ``trace``: :func:`~np_lib.search.best_so_far` over the trained models, the N
    training models first, then the K selected ones fastest first. ``train``:
    the N models the predictor learned from; ``candidates``: the rest of the
    pool, with their ``predicted`` accuracies; ``selected``: the K soft-Pareto
    models, fastest first; ``model``: the fitted predictor; ``stats``: N, K, J
    and the number of candidates.
    """
    trace: Trace
    train: np.ndarray
    candidates: np.ndarray
    predicted: np.ndarray
    selected: np.ndarray
    model: Any
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def K(self) -> int:
        return len(self.selected)

    @property
    def trained(self) -> np.ndarray:
        """Pool indices of all N + K trained models, in training order."""
        return self.trace.trained


@dataclass(frozen=True)
class SoftParetoSearch:
    """Section 4.2's search: N models to fit the predictor, then the K soft-Pareto models of the rest.

    ``predictor``: an unfitted estimator with ``clone(seed=...)`` (e.g.
    ``NeuralPredictor(num_layers=18, D=96, fc_sizes=(512, 128))``) or a factory
    ``seed -> estimator``, as for :class:`np_lib.search.NeuralPredictorSearch`.
    ``N`` (119 in the paper) and ``J`` (6). K is not chosen: it is however many
    candidates the soft-Pareto rule keeps (137 in the paper).
    """

    predictor: Any
    N: int = 119
    J: int = 6

    name = "soft_pareto"

    def __post_init__(self):
        check_predictor_and_N(self.predictor, self.N)
        if not isinstance(self.J, (int, np.integer)) or isinstance(self.J, bool) or self.J < 1:
            raise ValueError(f"J must be a positive integer, got {self.J!r}")

    def new_predictor(self, seed: int):
        """A fresh, unfitted estimator seeded with ``seed``."""
        return fresh_estimator(self.predictor, seed)

    def describe(self) -> dict:
        """Name and parameters as plain JSON values."""
        p = self.predictor
        predictor = ({"class": type(p).__name__, **{k: list(v) if isinstance(v, tuple) else v
                                                     for k, v in p.get_params().items()}}
                     if hasattr(p, "get_params") else getattr(p, "__qualname__", type(p).__qualname__))
        return {"strategy": self.name, "N": int(self.N), "J": int(self.J), "predictor": predictor}

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

    def search(self, space, archs, outcomes, seed, *, progress: bool = True) -> SoftParetoResult:
        """Run on the pool ``archs`` of ``space`` (typically in-band models) with simulated ``outcomes``.

        Only the trained models' ``outcomes`` are read; latencies come from
        ``space.latency`` (a table lookup, known before training). ``seed``
        (an int) draws the N training models (:meth:`draw`) and seeds the predictor.
        """
        if len(outcomes.validation_accuracy) != len(archs):
            raise ValueError(f"{len(outcomes.validation_accuracy)} outcomes for a pool of {len(archs)} models")
        latency = check_latency(space.latency(archs), f"{space.name} latency")
        train, candidates, predictor_seed = self.draw(len(archs), seed)
        model = self.new_predictor(predictor_seed)
        model.fit(space.encode(archs[train]), outcomes.validation_accuracy[train])
        predicted = predict(model, space, archs[candidates], progress=progress)
        selected = candidates[soft_pareto(latency[candidates], predicted, self.J)]
        trace = best_so_far(np.concatenate([train, selected]), outcomes)
        stats = {"N": int(self.N), "K": len(selected), "J": int(self.J), "candidates": len(candidates)}
        return SoftParetoResult(trace, train, candidates, predicted, selected, model, stats)
