"""The one search protocol: what a benchmark offers a search, the pool a search runs on, what training returns.

Section 4 runs one recipe on very different spaces: "to transfer from
NASBench-101 to the ProxylessNAS search space, all we have to do is to modify
the graph and its node representations". Every strategy of :mod:`np_lib.search`
(random search, the oracle, Regularized Evolution, the Neural Predictor with one
or two stages, and section 4.2's soft-Pareto search) therefore reads the same
three things:

* a :class:`Benchmark`: a space that encodes architectures as graphs and
  simulates their training (the interface below; NAS-Bench-101, the chain
  spaces, NAS-Bench-Macro, pool spaces and NAS-Bench-201 implement it);
* a :class:`Pool`: the finite set of its architectures a search may train
  (the whole benchmark, or a sample such as an in-band draw), addressed by
  position; strategies return positions in the pool;
* :class:`Outcomes`: one simulated training of every pool architecture
  (validation accuracy, the search signal; test accuracy where the data has
  it; training time where it has it), fixed for a run as in section 4.1.

:func:`np_lib.experiment.run_experiment` repeats a strategy on a pool with
seeded outcomes; :func:`as_pool` turns what callers pass (a loaded
NAS-Bench-101 table, a space with a finite pool, a space and some of its
architectures) into a :class:`Pool`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

#: Architectures per call of ``space.encode`` + ``model.rank_score`` in :meth:`Pool.rank_scores`: a
#: multiple of the estimators' own chunk (256), so the graphs they see are split the same way.
RANK_CHUNK = 4096


@dataclass(frozen=True)
class Outcomes:
    """One simulated training of some architectures: arrays aligned with them, accuracies as fractions.

    ``validation_accuracy``: what a search sees after training a model once
    (the signal the predictor learns, section 4.1: "the validation accuracy
    from a single run", sampled once and fixed). ``test_accuracy``: the
    benchmark's less noisy report measure (NAS-Bench-101: the mean test
    accuracy over its runs; Figure 8 right: retrained frontier models), NaN
    where the data has none. ``training_time``: seconds, NaN where the data
    has none. ``epochs`` and ``run`` (which run of each model was drawn) are
    recorded where the benchmark has them, else None. ``has_test_accuracy``
    defaults to whether any test accuracy is finite. The arrays are read-only.

    One type for every benchmark: ``np_lib.nasbench101.TrainingOutcomes`` and
    ``np_lib.spaces.Evaluation`` are other names for it (both constructor
    forms work: the first four fields positionally, the rest by keyword).
    """

    seed: int
    validation_accuracy: np.ndarray
    test_accuracy: np.ndarray
    training_time: np.ndarray
    epochs: int | None = None
    run: np.ndarray | None = None
    has_test_accuracy: bool | None = None

    def __post_init__(self):
        # No dtype conversion: NAS-Bench-101's float32 accuracies stay float32, so traces keep their values.
        arrays = {name: np.asarray(getattr(self, name))
                  for name in ("validation_accuracy", "test_accuracy", "training_time")}
        n = len(arrays["validation_accuracy"])
        if any(a.shape != (n,) for a in arrays.values()) or (self.run is not None and len(self.run) != n):
            raise ValueError("validation_accuracy, test_accuracy, training_time (and run) must be 1-D with one "
                             f"entry per model; got shapes {[a.shape for a in arrays.values()]}")
        if self.has_test_accuracy is None:
            object.__setattr__(self, "has_test_accuracy", bool(np.isfinite(arrays["test_accuracy"]).any()))
        for name, array in arrays.items():
            array.setflags(write=False)
            object.__setattr__(self, name, array)

    def __len__(self) -> int:
        return len(self.validation_accuracy)

    def __getitem__(self, index) -> "Outcomes":
        return Outcomes(self.seed, self.validation_accuracy[index], self.test_accuracy[index],
                        self.training_time[index], self.epochs, None if self.run is None else self.run[index],
                        self.has_test_accuracy)


@runtime_checkable
class Benchmark(Protocol):
    """What a search space offers the search engine. ``archs`` is the space's own array form.

    Required (every strategy, :func:`~np_lib.experiment.run_experiment`):

    * ``name: str``;
    * ``encode(archs) -> GraphBatch``: the graphs the predictor reads;
    * ``evaluate(archs, seed) -> Outcomes``: simulated training, one value per
      architecture, the same for the same ``seed`` (a model's outcome must not
      depend on which others are evaluated with it).

    ``archs`` supports ``len`` and indexing with an integer array (a NumPy
    array, a :class:`~np_lib.nasbench101.cell.CellArray`, ...).

    Optional (a strategy that needs one says so when it is missing):

    * ``pool`` (or a method ``all()``): every architecture of a finite
      benchmark (NAS-Bench-101's table, NAS-Bench-201's 15,625 cells,
      NAS-Bench-Macro's 6,561, a pool space's rows); the default pool of
      :func:`as_pool`;
    * ``latency(archs) -> ndarray``: inference time in ms per architecture
      (NaN where unknown): :class:`~np_lib.pareto.SoftParetoSearch` and
      latency bands need it;
    * ``mutate(arch, rng, rate) -> arch``: one random mutant of ONE
      architecture (``archs[i]``), drawing only from ``rng`` (a
      ``numpy.random.Generator``); ``rate`` is
      :class:`~np_lib.search.RegularizedEvolution`'s ``mutation_rate``
      (NAS-Bench-101's operator: the expected number of edges and of ops
      changed; a space documents how it reads it). Regularized Evolution needs
      it, and ``arch_key``;
    * ``arch_key(arch) -> hashable``: the identity of one architecture (equal
      keys, same model: NAS-Bench-101's graph hash, so isomorphic cells are
      one), so a mutant is found in the pool or redrawn when it is not there;
      ``arch_keys(archs)`` the same for many at once, when that is faster;
    * ``rank_score(model, archs, *, progress) -> ndarray``: the space's faster
      route to ``model.rank_score`` on its architectures (the chain fast path,
      NAS-Bench-101's own chunked encoding); without it :meth:`Pool.rank_scores`
      encodes in chunks of :data:`RANK_CHUNK`;
    * ``sample(n, seed)``: ``n`` random architectures of an (infinite) space,
      for drawing a pool (:func:`~np_lib.spaces.base.sample_in_band`).
    """

    name: str

    def encode(self, archs) -> Any: ...

    def evaluate(self, archs, seed) -> Outcomes: ...


class Pool:
    """The architectures a search may train: ``archs`` of ``space``, addressed by position ``0 .. len - 1``.

    ``archs`` defaults to ``space.pool`` (a finite benchmark's every model).
    Strategies read the pool only through these methods and return positions,
    so one strategy runs on every benchmark. Lookups that cost once per pool
    (the keys of every architecture, the latencies) are computed on first use
    and not pickled, so a pool shipped to a worker process stays small.
    """

    def __init__(self, space, archs=None):
        if archs is None:
            archs = getattr(space, "pool", None)
            if archs is None and callable(getattr(space, "all", None)):  # chain benchmarks: every model
                archs = space.all()
            if archs is None:
                raise ValueError(f"{getattr(space, 'name', type(space).__name__)} has no finite pool of its own: "
                                 "pass the architectures to search, e.g. pool=space.sample_in_band(n, band, seed)")
        if len(archs) == 0:
            raise ValueError("an empty pool: a search needs at least one architecture")
        self.space = space
        self.archs = archs
        self._reset()

    def _reset(self):
        self._index: dict | None = None
        self._latency: np.ndarray | None = None

    def __getstate__(self):
        return {"space": self.space, "archs": self.archs}

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._reset()

    def __len__(self) -> int:
        return len(self.archs)

    def __repr__(self):
        return f"Pool({len(self):,} architectures of {self.name})"

    @property
    def name(self) -> str:
        return getattr(self.space, "name", type(self.space).__name__)

    def simulate(self, seed) -> Outcomes:
        """One simulated training of every pool architecture: ``space.evaluate(archs, seed)``, checked."""
        outcomes = self.space.evaluate(self.archs, seed)
        if len(outcomes.validation_accuracy) != len(self):
            raise ValueError(f"{self.name}.evaluate returned {len(outcomes.validation_accuracy)} outcomes for "
                             f"{len(self)} architectures")
        return outcomes

    def encode(self, positions):
        """The graphs of the architectures at ``positions``."""
        return self.space.encode(self.archs[np.asarray(positions)])

    def latency(self) -> np.ndarray:
        """Every pool architecture's latency in ms (NaN where the space has none), computed once."""
        if self._latency is None:
            latency = getattr(self.space, "latency", None)
            values = np.full(len(self), np.nan) if latency is None else np.asarray(latency(self.archs), float)
            values.setflags(write=False)
            self._latency = values
        return self._latency

    def rank_scores(self, model, positions, *, progress: bool = False) -> np.ndarray:
        """``model.rank_score`` of the architectures at ``positions`` (higher is better): the one ranking entry point.

        Every predictor-driven search ranks through here: the Neural Predictor
        of section 4.1 trains the top K, the soft-Pareto search of section 4.2
        keeps the models whose score beats its window (for a single-stage
        regressor the score is the predicted accuracy). A space's own
        ``rank_score`` route is used where it has one (:class:`Benchmark`).
        """
        positions = np.asarray(positions)
        archs = self.archs[positions]
        route = getattr(self.space, "rank_score", None)
        if route is not None:
            scores = route(model, archs, progress=progress)
        else:
            from tqdm.auto import tqdm

            parts = [np.asarray(model.rank_score(self.space.encode(archs[start:start + RANK_CHUNK])), float)
                     for start in tqdm(range(0, len(archs), RANK_CHUNK), desc=f"rank {self.name}", unit="chunk",
                                       disable=not progress)]
            scores = np.concatenate(parts) if parts else np.zeros(0)
        scores = np.asarray(scores, dtype=float)
        if scores.shape != positions.shape:
            raise ValueError(f"rank_score returned shape {scores.shape} for {len(positions)} architectures")
        return scores

    def mutant(self, position: int, rng: np.random.Generator, rate: float) -> int:
        """Pool position of one random mutant of the architecture at ``position``; -1 if it is not in the pool."""
        mutate, key = getattr(self.space, "mutate", None), getattr(self.space, "arch_key", None)
        if mutate is None or key is None:
            raise TypeError(f"{self.name} has no mutation (it needs mutate(arch, rng, rate) and arch_key(arch); "
                            "see np_lib.protocol.Benchmark): Regularized Evolution cannot run on it")
        return self.index.get(key(mutate(self.archs[int(position)], rng, rate)), -1)

    @property
    def index(self) -> dict:
        """``{key: position}`` over the pool (the first position of a repeated key)."""
        if self._index is None:
            many = getattr(self.space, "arch_keys", None)
            keys = many(self.archs) if many is not None else [self.space.arch_key(self.archs[i])
                                                               for i in range(len(self))]
            index: dict = {}
            for position, k in enumerate(keys.tolist() if isinstance(keys, np.ndarray) else keys):
                index.setdefault(k, position)
            self._index = index
        return self._index


class _Given:
    """Architectures handed to a strategy without their space (``search(graphs, ...)``, the form before the protocol).

    ``encode`` gives the architectures themselves: estimators accept
    NAS-Bench-101 cells and encoded graphs directly. No mutation, no latency.
    """

    name = "given architectures"

    def encode(self, archs):
        return archs

    def evaluate(self, archs, seed):
        raise TypeError("architectures given without their space cannot be trained: pass a Pool or a space")


def as_pool(benchmark, archs=None) -> Pool:
    """A :class:`Pool` from what callers pass to a search or to :func:`~np_lib.experiment.run_experiment`.

    * a :class:`Pool` (returned as is; ``archs`` must be None);
    * a loaded NAS-Bench-101 table (:class:`~np_lib.nasbench101.benchmark.NASBench101`):
      its cells, through :class:`~np_lib.spaces.nasbench101.NASBench101Space`;
    * a loaded NAS-Bench-201 table (:class:`~np_lib.nasbench201.benchmark.NASBench201`): its
      ``space()`` without a device (for latency-constrained searches pass ``bench.space(device)``);
    * a :class:`Benchmark` space, with ``archs`` (some of its architectures) or its own ``pool``;
    * a :class:`~np_lib.nasbench101.cell.CellArray` or encoded graphs (the
      older form ``strategy.search(cells, outcomes, budget, seed)``).
    """
    from .nasbench101.benchmark import NASBench101
    from .nasbench101.cell import CellArray
    from .spaces.nasbench101 import NASBench101Space

    if isinstance(benchmark, Pool):
        if archs is not None:
            raise ValueError("a Pool already holds its architectures: pass archs=None")
        return benchmark
    if isinstance(benchmark, NASBench101):
        return Pool(NASBench101Space(benchmark), archs)
    if isinstance(benchmark, CellArray):
        return Pool(NASBench101Space(benchmark))
    from .nasbench201.benchmark import NASBench201

    if isinstance(benchmark, NASBench201):  # its latency(device) is per device: searches use a space
        return Pool(benchmark.space(), archs)
    if hasattr(benchmark, "evaluate") and hasattr(benchmark, "encode"):
        return Pool(benchmark, archs)
    if hasattr(benchmark, "__len__") and hasattr(benchmark, "__getitem__"):
        return Pool(_Given(), benchmark)
    raise TypeError(f"cannot search {type(benchmark).__name__}: expected a Pool, a NAS-Bench-101 table, a space "
                    "with encode and evaluate (np_lib.protocol.Benchmark), or architectures")
