"""Layer-wise ("chain") search spaces: every architecture is one op choice per layer.

Section 4.2: "The ProxylessNAS search space is just a linear graph, and the node
representation at the input is nothing more than a one hot vector". A
:class:`ChainSpace` stores a batch of architectures as an ``(n, L)`` int8 array
of op indices (into ``op_names``); layer ``l`` may take the ops
``allowed[l]``. Latency is additive, as in the ProxylessNAS and Once-for-All
lookup tables: ``fixed_cost + sum_l layer_cost[l, op_l]``.

Prediction on chain graphs has a fast path that belongs to the network
(:mod:`np_lib.chain_fastpath`, reached through
:meth:`~np_lib.predictor.NeuralPredictor.predict_chains`): a space hands over
its op indices and never reads the network's layers.
"""
from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri
from tqdm.auto import tqdm

from ..encoding import GraphBatch, linear_graphs
from ..validation import as_rng, check_count
from .base import sample_in_band


class ChainSpace:
    """A chain of ``L`` layers, layer ``l`` choosing one op among ``op_names[allowed[l]]``.

    ``layer_cost`` ``(L, F)`` is each (layer, op) latency in ms (NaN where not
    allowed) and ``fixed_cost`` the layers every model has (stem, head), or
    ``layer_cost=None`` for a space without latency. Subclasses add the data:
    :class:`~np_lib.spaces.proxylessnas.ProxylessNAS`,
    :class:`~np_lib.spaces.ofa.OFAMobileNetV3`, :class:`~np_lib.spaces.macro.NASBenchMacro`.
    """

    name = "chain"

    def __init__(self, op_names, allowed, layer_cost=None, fixed_cost: float = 0.0):
        self.op_names = tuple(op_names)
        self.allowed = np.asarray(allowed, dtype=bool)
        if self.allowed.ndim != 2 or self.allowed.shape[1] != len(self.op_names):
            raise ValueError(f"allowed must be (layers, {len(self.op_names)} ops), got {self.allowed.shape}")
        if not self.allowed.any(axis=1).all():
            raise ValueError("every layer needs at least one allowed op")
        self.counts = self.allowed.sum(axis=1)
        # choices[l, r]: the r-th allowed op of layer l, so a uniform r in [0, counts[l]) is a uniform op.
        self._choices = np.zeros((self.num_layers, self.counts.max()), np.int8)
        for layer, ops in enumerate(self.allowed):
            self._choices[layer, :ops.sum()] = np.flatnonzero(ops)
        if layer_cost is None:
            layer_cost = np.full(self.allowed.shape, np.nan)
        self.layer_cost = np.where(self.allowed, np.asarray(layer_cost, dtype=float), np.nan)
        if np.isnan(self.layer_cost[self.allowed]).any() and not np.isnan(self.layer_cost).all():
            raise ValueError("layer_cost must give a latency for every allowed (layer, op)")
        self.fixed_cost = float(fixed_cost)

    @property
    def num_layers(self) -> int:
        return self.allowed.shape[0]

    @property
    def num_classes(self) -> int:
        """Length of a node's one-hot (7 for ProxylessNAS, section 4.2)."""
        return len(self.op_names)

    @property
    def size(self) -> int:
        """Number of distinct architectures (an exact Python int)."""
        return math.prod(int(c) for c in self.counts)

    @property
    def has_latency(self) -> bool:
        return not np.isnan(self.layer_cost).all()

    def __repr__(self):
        return f"{type(self).__name__}({self.num_layers} layers, {self.num_classes} ops, {self.size:.3g} models)"

    # -- the SearchSpace protocol -----------------------------------------------------------------

    def sample(self, n: int, seed) -> np.ndarray:
        """``n`` architectures, each layer's op uniform over its allowed ops (so uniform over the space)."""
        n = check_count(n)
        r = as_rng(seed).integers(0, self.counts, size=(n, self.num_layers), dtype=np.int8)
        return self._choices[np.arange(self.num_layers), r]

    def check(self, archs) -> np.ndarray:
        """``archs`` as an ``(n, L)`` integer array of allowed ops, or a ValueError naming a bad one."""
        archs = np.asarray(archs)
        if archs.ndim == 1 and archs.shape[0] == self.num_layers:
            archs = archs[None]
        if archs.ndim != 2 or archs.shape[1] != self.num_layers or not np.issubdtype(archs.dtype, np.integer):
            raise ValueError(f"{self.name} architectures are (n, {self.num_layers}) integer arrays of op "
                             f"indices, got {archs.dtype} of shape {archs.shape}")
        if archs.size and (archs.min() < 0 or archs.max() >= self.num_classes):
            raise ValueError(f"op indices must lie in [0, {self.num_classes}), got [{archs.min()}, {archs.max()}]")
        ok = self.allowed[np.arange(self.num_layers), archs]
        if not ok.all():
            i, layer = map(int, np.argwhere(~ok)[0])
            raise ValueError(f"architecture {i}: op {int(archs[i, layer])} is not allowed at layer {layer} "
                             f"(allowed: {np.flatnonzero(self.allowed[layer]).tolist()})")
        return archs

    def encode(self, archs) -> GraphBatch:
        """Linear graphs, one node per layer with a one-hot of its op (skips stay nodes)."""
        return linear_graphs(self.check(archs), self.num_classes)

    def latency(self, archs) -> np.ndarray:
        """``fixed_cost + sum`` of the layers' table latencies, in ms (NaN without a table)."""
        archs = self.check(archs)
        return self.fixed_cost + self.layer_cost[np.arange(self.num_layers), archs].sum(axis=1)

    def evaluate(self, archs, seed):
        raise NotImplementedError(f"{self.name} has no accuracy data: training its models is the only way "
                                  f"to get accuracies")

    # -- helpers ----------------------------------------------------------------------------------

    def sample_in_band(self, n: int, band, seed, *, progress: bool = True) -> np.ndarray:
        """``n`` models uniform among those whose latency is in ``band`` (:func:`~np_lib.spaces.base.sample_in_band`)."""
        if not self.has_latency:
            raise ValueError(f"{self.name} has no latency table: no latency band can be sampled")
        return sample_in_band(self, n, band, seed, progress=progress)

    def names(self, arch) -> list[str]:
        """The op name of each layer of one architecture."""
        return [self.op_names[int(op)] for op in self.check(arch)[0]]

    def predict(self, model, archs, *, num_threads: int | None = 1, progress: bool = True) -> np.ndarray:
        """Predicted accuracy of each architecture; the chain fast path where ``model`` has one.

        An estimator with ``predict_chains`` (:class:`~np_lib.predictor.NeuralPredictor`)
        gets the op indices and computes the GCN on the chains without building
        graphs (:mod:`np_lib.chain_fastpath`); any other model its own ``predict``
        on encoded chunks. ``num_threads``: see :func:`np_lib.chain_fastpath.chain_predict_logits`.
        """
        archs = self.check(archs)
        if self._chains_are_graphs and hasattr(model, "predict_chains"):
            return model.predict_chains(archs, self.num_classes, num_threads=num_threads, progress=progress,
                                        desc=f"predict {self.name}")
        return self._by_chunks(model.predict, archs, progress)

    def rank_score(self, model, archs, *, progress: bool = True) -> np.ndarray:
        """``model.rank_score`` on ``archs`` (higher is better): the fast path for a regressor, whose
        rank score is its prediction; encoded chunks for any other model (a two-stage cascade)."""
        from ..predictor import NeuralPredictor

        if isinstance(model, NeuralPredictor):
            return self.predict(model, archs, progress=progress)
        return self._by_chunks(model.rank_score, self.check(archs), progress)

    # Every layer is a node of the graph, as the fast path assumes (a pool that drops layers: False).
    _chains_are_graphs = True

    def _by_chunks(self, fn, archs, progress: bool) -> np.ndarray:
        from ..predictor import PREDICT_CHUNK

        out = [np.asarray(fn(self.encode(archs[s:s + PREDICT_CHUNK])), float)
               for s in tqdm(range(0, len(archs), PREDICT_CHUNK), desc=f"predict {self.name}", unit="chunk",
                             disable=not progress)]
        return np.concatenate(out) if out else np.zeros(0)

    # -- Regularized Evolution's part of the protocol (np_lib.protocol.Benchmark) ------------------

    def mutate(self, arch, rng: np.random.Generator, rate: float = 1.0) -> np.ndarray:
        """One mutant of one architecture: NAS-Bench-101's op change read on a chain.

        Each layer that has other allowed ops changes with probability
        ``rate / L`` (NAS-Bench-101: ``rate / 5`` per interior op), to one of
        them drawn uniformly; the mutant may equal the parent, which
        Regularized Evolution redraws (``distinct_child``), and one outside a
        pool is redrawn too.
        """
        arch = np.array(arch, dtype=np.int8).reshape(self.num_layers)
        for layer in np.flatnonzero(rng.random(self.num_layers) < rate / self.num_layers):
            others = np.flatnonzero(self.allowed[layer])
            others = others[others != arch[layer]]
            if len(others):
                arch[layer] = rng.choice(others)
        return arch

    def arch_key(self, arch) -> bytes:
        """Identity of one architecture: its op indices as bytes."""
        return np.asarray(arch, dtype=np.int8).tobytes()

    def arch_keys(self, archs) -> list[bytes]:
        return [row.tobytes() for row in np.asarray(archs, dtype=np.int8)]


def hashed_normal(archs: np.ndarray, seed: int) -> np.ndarray:
    """One standard normal per architecture, a fixed function of (architecture, ``seed``).

    Simulated training noise must not depend on which other models are
    evaluated in the same call, or the same model "trained" with the same seed
    twice would disagree. Each row is hashed with splitmix64 (Steele et al.,
    2014) together with the seed, and the hash is mapped to a normal through the
    inverse CDF. Vectorised: 112,000 models take milliseconds.
    """
    archs = np.asarray(archs)
    with np.errstate(over="ignore"):
        h = _splitmix64(np.full(len(archs), int(seed) % 2 ** 64, dtype=np.uint64))
        for column in archs.T:
            h = _splitmix64(h ^ column.astype(np.uint64))
    uniform = ((h >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0 ** 53
    return ndtri(uniform)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))
