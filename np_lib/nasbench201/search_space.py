"""NAS-Bench-201 behind the :class:`~np_lib.spaces.base.SearchSpace` interface, with one device's latency.

An adapter over a loaded :class:`~np_lib.nasbench201.benchmark.NASBench201`,
as :class:`~np_lib.spaces.nasbench101.NASBench101Space` is for NAS-Bench-101:
architectures are ``(n, 6)`` op-code arrays, the pool is the complete space,
and ``latency`` reads the measured table of the chosen device, so the
soft-Pareto search of section 4.2 runs on real accuracy and real latency.
"""
from __future__ import annotations

import numpy as np

from ..encoding import GraphBatch
from ..spaces.base import Evaluation
from .encoding import encode
from .space import mutate, sample_indices


class NASBench201Space:
    """The complete NAS-Bench-201 space; ``device`` (one of ``bench.devices``) gives ``latency``.

    Without a device, ``latency`` is NaN, and anything needing latency says so.
    ``evaluate(cells, seed)`` is ``bench.simulate(seed)`` restricted to ``cells``:
    the seed-mean accuracies, the same for every seed (see ``simulate``).
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
    def cells(self) -> np.ndarray:
        return self.bench.cells

    def sample(self, n: int, seed) -> np.ndarray:
        """``n`` distinct cells drawn uniformly from the 15,625."""
        return self.cells[sample_indices(n, seed, len(self.cells))]

    def mutate(self, cells, seed) -> np.ndarray:
        """NAS-Bench-201's mutation (:func:`np_lib.nasbench201.space.mutate`)."""
        return mutate(cells, seed)

    def index(self, cells) -> np.ndarray:
        """Pool (= official) indices of cells: every cell is in the pool."""
        return self.bench.index(cells)

    def encode(self, archs) -> GraphBatch:
        return encode(archs)

    def latency(self, archs) -> np.ndarray:
        """Latency (ms) of ``archs`` on ``device``; NaN for every cell when no device was chosen."""
        if self.device is None:
            return np.full(len(archs), np.nan)
        return self.bench.latency(self.device)[self.index(archs)]

    def evaluate(self, archs, seed) -> Evaluation:
        outcomes = self.bench.simulate(int(seed))
        rows = self.index(archs)
        return Evaluation(int(seed), outcomes.validation_accuracy[rows], outcomes.test_accuracy[rows],
                          outcomes.training_time[rows])
