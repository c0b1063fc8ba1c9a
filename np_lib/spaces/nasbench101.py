"""NAS-Bench-101 behind the :class:`~np_lib.spaces.base.SearchSpace` interface (section 4.1).

An adapter, not a new data layer: it wraps a loaded
:class:`~np_lib.nasbench101.benchmark.NASBench101` (its pool of cells and
``simulate``), so the engine of section 4.2 (:func:`~np_lib.spaces.base.predict`,
:class:`~np_lib.pareto.SoftParetoSearch`) and the strategies of
:mod:`np_lib.search` see NAS-Bench-101 and the chain spaces through the same
four calls. NAS-Bench-101 records no inference time: :meth:`latency` is NaN, and
anything that needs a latency (a band, a Pareto frontier) says so.
"""
from __future__ import annotations

import numpy as np

from ..encoding import GraphBatch
from ..nasbench101.cell import CellArray
from ..nasbench101.encoding import encode
from ..nasbench101.space import sample_cells
from .base import Evaluation, check_count


class NASBench101Space:
    """A NAS-Bench-101 table as a search space; architectures are ``CellArray`` rows of its pool.

    ``evaluate(cells, seed)`` is ``bench.simulate(seed)`` (one run drawn per cell
    over the whole table, section 4.1) restricted to ``cells``.
    """

    name = "nasbench101"

    def __init__(self, bench):
        self.bench = bench

    def __repr__(self):
        return f"NASBench101Space({self.bench!r})"

    @property
    def cells(self) -> CellArray:
        return self.bench.cells

    def sample(self, n: int, seed) -> CellArray:
        """``n`` distinct cells drawn uniformly from the pool."""
        return self.cells[sample_cells(self.cells, check_count(n), seed)]

    def encode(self, archs: CellArray) -> GraphBatch:
        return encode(archs)

    def latency(self, archs: CellArray) -> np.ndarray:
        """NaN: NAS-Bench-101 has no inference times."""
        return np.full(len(archs), np.nan)

    def evaluate(self, archs: CellArray, seed) -> Evaluation:
        outcomes = self.bench.simulate(int(seed))
        rows = self.cells.index(archs.hashes)
        return Evaluation(int(seed), outcomes.validation_accuracy[rows], outcomes.test_accuracy[rows],
                          outcomes.training_time[rows])
