"""NAS-Bench-101 behind the :class:`~np_lib.protocol.Benchmark` interface (section 4.1).

An adapter, not a new data layer: it wraps a loaded
:class:`~np_lib.nasbench101.benchmark.NASBench101` (its pool of cells and
``simulate``), so every strategy of :mod:`np_lib.search` and
:class:`~np_lib.pareto.SoftParetoSearch` see NAS-Bench-101 and the chain spaces
through the same calls. NAS-Bench-101 records no inference time: :meth:`latency`
is NaN, and anything that needs a latency (a band, a Pareto frontier) says so.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..nasbench101.cell import Cell, CellArray
from ..nasbench101.space import mutate, sample_cells
from ..protocol import Outcomes
from ..validation import check_count

if TYPE_CHECKING:
    from ..encoding import GraphBatch


class NASBench101Space:
    """A NAS-Bench-101 table as a search space; architectures are ``CellArray`` rows of its pool.

    ``bench``: a loaded :class:`~np_lib.nasbench101.benchmark.NASBench101`, or
    only a ``CellArray`` (then it encodes, mutates and looks cells up, but
    cannot ``evaluate``). ``evaluate(cells, seed)`` is ``bench.simulate(seed)``
    (one run drawn per cell over the whole table, section 4.1) restricted to
    ``cells``. A pickled space (what a worker process receives) keeps the
    cells, not the table: outcomes are drawn where the experiment runs.
    """

    name = "nasbench101"

    def __init__(self, bench):
        if isinstance(bench, CellArray):
            self.bench, self.cells = None, bench
        else:
            self.bench, self.cells = bench, bench.cells
        self._keys: dict[tuple, str] = {}

    def __repr__(self):
        return f"NASBench101Space({self.bench!r})" if self.bench is not None else \
            f"NASBench101Space({len(self.cells):,} cells)"

    def __getstate__(self):
        return {"bench": None, "cells": self.cells, "_keys": {}}

    @property
    def pool(self) -> CellArray:
        """The table's cells (the pool every section 4.1 search runs on)."""
        return self.cells

    def sample(self, n: int, seed) -> CellArray:
        """``n`` distinct cells drawn uniformly from the pool."""
        return self.cells[sample_cells(self.cells, check_count(n), seed)]

    def encode(self, archs: CellArray) -> GraphBatch:
        from ..nasbench101.encoding import encode  # here: searches without a predictor need no torch

        return encode(archs)

    def latency(self, archs: CellArray) -> np.ndarray:
        """NaN: NAS-Bench-101 has no inference times."""
        return np.full(len(archs), np.nan)

    def evaluate(self, archs: CellArray, seed) -> Outcomes:
        if self.bench is None:
            raise TypeError("this NASBench101Space holds cells only (a pickled or CellArray-built one): "
                            "evaluate needs the loaded table, NASBench101Space(nb.load())")
        outcomes = self.bench.simulate(int(seed))
        if archs is self.cells:  # the whole pool: the simulation as it is (no index lookup)
            return outcomes
        return outcomes[self.cells.index(archs.hashes)]

    def mutate(self, cell: Cell, rng: np.random.Generator, rate: float) -> Cell:
        """NAS-Bench-101's operator, :func:`np_lib.nasbench101.space.mutate` (``rate``: its ``mutation_rate``)."""
        return mutate(cell, rng, rate)

    def arch_key(self, cell: Cell) -> str:
        """The cell's module hash (isomorphic cells share it), memoised per graph.

        A parent has a few hundred distinct mutants and evolution draws
        thousands, so most hashes (a third of a mutation's cost) are computed once.
        """
        memo = (cell.ops, cell.matrix.tobytes())
        found = self._keys.get(memo)
        if found is None:
            found = self._keys[memo] = cell.hash
        return found

    def arch_keys(self, cells: CellArray) -> np.ndarray:
        return cells.hashes

    def rank_score(self, model, cells: CellArray, *, progress: bool = False) -> np.ndarray:
        """``model.rank_score(cells)``: the estimators encode NAS-Bench-101 cells in chunks themselves."""
        return np.asarray(model.rank_score(cells), dtype=float)
