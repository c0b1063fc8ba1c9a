"""Layer-wise ("chain") search spaces: every architecture is one op choice per layer.

Section 4.2: "The ProxylessNAS search space is just a linear graph, and the node
representation at the input is nothing more than a one hot vector". A
:class:`ChainSpace` stores a batch of architectures as an ``(n, L)`` int8 array
of op indices (into ``op_names``); layer ``l`` may take the ops
``allowed[l]``. Latency is additive, as in the ProxylessNAS and Once-for-All
lookup tables: ``fixed_cost + sum_l layer_cost[l, op_l]``.

Prediction on chain graphs has a fast path (:func:`chain_logits`): on a chain,
the GCN's propagation matrices are two-row moving averages, so a layer is one
dense ``(n, D) @ (D, 2D)`` matmul and a few shifted adds instead of a batched
``(2L x L) @ (L x D)`` product per graph. It computes exactly what :class:`np_lib.gcn.GCN` computes
(tests/test_spaces.py compares them) in about half the CPU time
(benchmarks/chain_speed.py). Both are bound by the same matmuls: 18 layers x 22
nodes x 96 x 192 multiply-adds per ProxylessNAS model. On large batches the
first two layers come from a :class:`WindowTable` instead, computed once for
every window of five ops.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from scipy.special import ndtri
from tqdm.auto import tqdm

from ..encoding import GraphBatch, linear_graphs
from .base import as_rng, check_count, sample_in_band

#: Architectures per forward pass of the chain fast path. 128 chains of ~22 nodes keep a
#: layer's activations (~2 MB) in the L2 and L3 caches, where the (n, 96) x (96, 192)
#: matmul runs ~25 % faster than on 1,024 chains (~17 MB). One thread, 18 layers, D = 96,
#: per 112,000 ProxylessNAS models (two runs each): 16 chains 44 s, 64: 29-35 s,
#: 128: 27-31 s, 256: 34-38 s, 1,024: 40-41 s.
CHAIN_CHUNK = 128


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
        """Predicted accuracy of each architecture; the fast chain path for a fitted ``NeuralPredictor``.

        ``num_threads``: chunks predicted in parallel, each on one torch thread
        (None: as many as torch's thread setting). Torch releases the GIL inside
        its ops, so the threads run together, and each synchronises once per
        chunk instead of once per op as torch's own threads do: 112,000 models,
        18 layers, 2 threads, interleaved runs: 14.9-17.8 s (29-34 s of CPU)
        against 16.5-20.3 s (33-40 s) with torch's 2 threads. One by default, as
        everywhere in np_lib: on a shared machine a second thread can wait on
        the other job. Every chunk is computed the same way, so the predictions do
        not depend on ``num_threads``.
        """
        from ..predictor import ACCURACY_RANGE, PREDICT_CHUNK, NeuralPredictor

        archs = self.check(archs)
        bar = dict(desc=f"predict {self.name}", unit="chunk", disable=not progress)
        if type(model) is not NeuralPredictor:  # anything else: its own predict on encoded chunks
            out = [np.asarray(model.predict(self.encode(archs[s:s + PREDICT_CHUNK])), float)
                   for s in tqdm(range(0, len(archs), PREDICT_CHUNK), **bar)]
            return np.concatenate(out) if out else np.zeros(0)
        if num_threads is not None and (not isinstance(num_threads, (int, np.integer)) or num_threads < 1):
            raise ValueError(f"num_threads must be a positive integer or None, got {num_threads!r}")
        net = model._fitted()
        if net.convs[0].weight.shape[1] != self.num_classes:
            raise ValueError(f"this model was fitted on {net.convs[0].weight.shape[1]} node features; "
                             f"{self.name} has {self.num_classes}")
        low, high = ACCURACY_RANGE
        labels = torch.from_numpy(archs.astype(np.int64))
        chunks = range(0, len(archs), CHAIN_CHUNK)
        # The deepest window table (at most 2 layers) that is small beside the rows it stands for.
        depth = max(d for d in (0, 1, 2) if d == 0 or (d < len(net.convs) and
                    8 * (self.num_classes + 1) ** (2 * d + 1) <= labels.numel()))
        with torch.inference_mode():
            table = window_table(net, self.num_classes, depth)

        def chunk_logits(start):
            with torch.inference_mode():  # thread-local: entered in the worker
                return chain_logits(net, labels[start:start + CHAIN_CHUNK], table)

        before = torch.get_num_threads()
        try:
            torch.set_num_threads(1)
            with ThreadPoolExecutor(before if num_threads is None else int(num_threads)) as pool:
                logits = list(tqdm(pool.map(chunk_logits, chunks), total=len(chunks), **bar))
        finally:
            torch.set_num_threads(before)
        logits = torch.cat(logits) if logits else torch.zeros(0)
        return (low + (high - low) * torch.sigmoid(logits)).double().numpy()


def chain_logits(net, labels: torch.Tensor, table: "WindowTable | None" = None) -> torch.Tensor:
    """``net(GraphInputs.from_graphs(linear_graphs(labels)))`` for a :class:`~np_lib.gcn.GCN`, faster.

    On a chain ``0 -> 1 -> ... -> L-1`` the propagation matrices of section
    3.2 are ``(ÂX)_i = (X_i + X_{i+1}) / 2`` (the last node: ``X_{L-1}``) and
    ``(ǍX)_i = (X_{i-1} + X_i) / 2`` (the first: ``X_0``). With ``G = V W`` and
    the pair sums ``S⁺_i = G⁺_i + G⁺_{i+1}`` (last: ``2 G⁺_{L-1}``), ``S⁻``
    likewise, a layer is ``½ ReLU(S⁺/2) + ½ ReLU(S⁻/2) = ¼ (ReLU(S⁺) + ReLU(S⁻))``.
    We carry ``4 V`` and fold the ¼ into the next layer's weights (ReLU commutes
    with positive scaling), which saves a pass over the activations per layer.
    The first ``table.depth`` layers come from a :class:`WindowTable` (by default
    none: the first layer's input is one-hot, so its ``V W`` is a row lookup).
    """
    b, length = labels.shape
    n = b * length
    table = table or window_table(net, net.convs[0].weight.shape[1], depth=0)
    g = table.g[table.codes(labels)].view(n, -1)
    v = None
    for layer in range(table.depth, len(net.convs)):
        if v is not None:
            g = v @ _stacked_weights(net, layer)
        v = _pair_layer(g, b, length)
    h = v.view(b, length, -1).mean(dim=1) * 0.25
    for fc in net.fcs:
        h = torch.relu(fc(h))
    return net.out(h).squeeze(-1)


def _stacked_weights(net, layer: int) -> torch.Tensor:
    # Both directions' weights side by side: one (n, D) x (D, 2D) product instead of two (D, D)
    # ones, 5-10 % less CPU time (D = 96, 1,024 chains). After the first layer the ¼ of the
    # previous layer is folded in (chain_logits).
    return torch.cat(tuple(net.convs[layer].weight * (1.0 if layer == 0 else 0.25)), dim=1)


def _pair_layer(g: torch.Tensor, b: int, length: int) -> torch.Tensor:
    """``4 V`` of a layer from its ``G = V W`` on ``b`` chains of ``length`` nodes (chain_logits)."""
    n, d = g.shape[0], g.shape[1] // 2
    g_forward, g_backward = g[:, :d], g[:, d:]
    s_forward, s_backward = torch.empty(n, d), torch.empty(n, d)
    # Flattened over the batch: a pair that straddles two graphs is overwritten by the boundary rows.
    torch.add(g_forward[:-1], g_forward[1:], out=s_forward[:-1])
    torch.mul(g_forward.view(b, length, d)[:, -1], 2.0, out=s_forward.view(b, length, d)[:, -1])
    torch.add(g_backward[1:], g_backward[:-1], out=s_backward[1:])
    torch.mul(g_backward.view(b, length, d)[:, 0], 2.0, out=s_backward.view(b, length, d)[:, 0])
    return s_forward.relu_().add_(s_backward.relu_())


@dataclass(frozen=True)
class WindowTable:
    """The first ``depth`` layers of a chain GCN, computed once for every possible window.

    After ``k`` layers a node's representation depends only on the ops within
    ``k`` steps of it and on where the chain ends within that reach. With
    ``base = F + 1`` symbols (the ``F`` ops and "no node" past an end), the
    windows of ``2 depth + 1`` symbols number ``base ** (2 depth + 1)`` (32,768 for
    ProxylessNAS's 7 ops at depth 2) however many chains there are, and ``g`` holds
    layer ``depth + 1``'s ``V W`` for each window's centre node. Predicting 112,000
    chains of 22 nodes then skips ``depth`` of the 18 layers' matmuls (~11 % of the
    time at depth 2) for a table built in milliseconds. The numbers are those of
    the layer-by-layer computation: the same operations on the same values.
    """

    depth: int
    base: int
    g: torch.Tensor

    def codes(self, labels: torch.Tensor) -> torch.Tensor:
        """Each node's window as an index into ``g``: ``(b, L)`` ops -> ``(b, L)`` codes."""
        b, length = labels.shape
        width = 2 * self.depth + 1
        padded = torch.full((b, length + width - 1), self.base - 1, dtype=torch.int64)
        padded[:, self.depth:self.depth + length] = labels
        codes = torch.zeros(b, length, dtype=torch.int64)
        for j in range(width):
            codes.mul_(self.base).add_(padded[:, j:j + length])
        return codes


def window_table(net, num_classes: int, depth: int) -> WindowTable:
    """The :class:`WindowTable` of ``net``'s first ``depth`` layers (``depth`` < its layer count)."""
    if not 0 <= depth < len(net.convs):
        raise ValueError(f"depth must lie in [0, {len(net.convs)}), got {depth}")
    base = num_classes + 1
    weights = _stacked_weights(net, 0)
    g = torch.cat([weights, torch.zeros(1, weights.shape[1])])  # "no node": never a window's centre
    for layer in range(1, depth + 1):
        width = 2 * layer + 1  # g is indexed by windows of width - 2 symbols
        codes = torch.arange(base ** width)
        centre = codes // base % base ** (width - 2)
        right = torch.where(codes // base ** (layer - 1) % base == num_classes, centre, codes % base ** (width - 2))
        left = torch.where(codes // base ** (layer + 1) % base == num_classes, centre, codes // base ** 2)
        d = g.shape[1] // 2
        # The pair sums of _pair_layer; at an end the missing neighbour is the node itself (2 G).
        s_forward = g[centre, :d] + g[right, :d]
        s_backward = g[centre, d:] + g[left, d:]
        g = s_forward.relu_().add_(s_backward.relu_()) @ _stacked_weights(net, layer)
    return WindowTable(depth, base, g)


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
