"""NAS-Bench-201 as a benchmark of the one search protocol, with one device's latency (sections 4.1, 4.2).

A :class:`~np_lib.nasbench201.benchmark.NASBench201` holds the data, its
latency per device; ``bench.space(device)`` is a :class:`NASBench201Space`,
the :class:`np_lib.protocol.Benchmark` every strategy and
:func:`~np_lib.experiment.run_experiment` take: the complete space as the pool
(a pool position is the official index), the GCN's graphs, the seed-mean
outcomes, NAS-Bench-201's mutation for Regularized Evolution, and
``latency(archs)`` from that device's measured table, so
:class:`~np_lib.pareto.SoftParetoSearch` runs on real accuracy and real
latency. One loaded table serves every device.
"""
from __future__ import annotations

import numpy as np

from ..encoding import GraphBatch
from .cell import to_code
from .encoding import encode
from .space import mutate, sample_indices


class NASBench201Space:
    """The complete NAS-Bench-201 space; ``device`` (one of ``bench.devices``) gives ``latency``.

    Without a device, ``latency`` is NaN, and anything needing latency says so.
    ``evaluate(cells, seed)`` is ``bench.simulate(seed)`` restricted to
    ``cells``: the seed-mean accuracies, the same for every seed, and no
    training time (see ``simulate``).
    """

    def __init__(self, bench, device: str | None = None):
        if device is not None and device not in bench.devices:
            raise ValueError(f"unknown device {device!r}; NAS-Bench-201's latency data has: "
                             f"{', '.join(bench.devices)}")
        self.bench = bench
        self.device = device
        self.name = "nasbench201" if device is None else f"nasbench201-{device}"

    def __repr__(self):
        return f"NASBench201Space(device={self.device!r})"

    @property
    def pool(self) -> np.ndarray:
        """Every cell, in official order."""
        return self.bench.cells

    def sample(self, n: int, seed) -> np.ndarray:
        """``n`` distinct cells drawn uniformly from the 15,625."""
        return self.pool[sample_indices(n, seed, len(self.pool))]

    def index(self, cells) -> np.ndarray:
        """Official indices of cells (every cell is in the pool)."""
        return self.bench.index(cells)

    def encode(self, archs) -> GraphBatch:
        """The graphs the GCN reads (:func:`np_lib.nasbench201.encode`)."""
        return encode(archs)

    def evaluate(self, archs, seed):
        """``bench.simulate(seed)`` restricted to ``archs`` (the whole pool: the simulation as it is)."""
        outcomes = self.bench.simulate(seed)
        if archs is self.pool:
            return outcomes
        return outcomes[self.index(archs)]

    def mutate(self, cell, rng, rate: float | None = None) -> np.ndarray:
        """NAS-Bench-201's mutation of one cell (:func:`np_lib.nasbench201.mutate`): one edge, another op.

        ``rate`` (Regularized Evolution's ``mutation_rate``, for NAS-Bench-101
        the expected number of changes) has no meaning for NAS-Bench-201's
        operator, which always changes exactly one edge: it is ignored.
        """
        return mutate(cell, rng)

    def arch_key(self, cell) -> int:
        """A cell's identity: its base-5 code (every string is its own cell, as NAS-Bench-201 counts them)."""
        return int(to_code(cell)[0])

    def arch_keys(self, cells) -> np.ndarray:
        return to_code(cells)

    def latency(self, archs) -> np.ndarray:
        """Latency (ms) of ``archs`` on ``device``; NaN for every cell when no device was chosen."""
        if self.device is None:
            return np.full(len(archs), np.nan)
        return self.bench.latency(self.device)[self.index(archs)]
