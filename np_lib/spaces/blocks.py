"""Structured chain spaces: a chain declared block by block.

Mobile search spaces are not "every layer chooses independently". ProxylessNAS
(section 4.2): "The first layer of a block is always present", the others may
be skipped; Once-for-All: a stage has depth 2, 3 or 4, so its skips are a
suffix; MnasNet-style spaces: all the layers of a block share one choice. A
:class:`Block` says that for a run of consecutive layers:

* ``choices``: the ops its layers may take (one tuple for all, or one per layer);
* ``max_depth`` / ``min_depth``: how many of its layers are present; the
  absent ones are the space's ``skip`` op and come last ("skips only at a
  block's end");
* ``shared``: whether its present layers all take the same op.

:class:`BlockChainSpace` then counts the distinct models exactly (``size``),
samples uniformly over them (``sample``: a depth with probability proportional
to the models of that depth, then ops), and ``check`` rejects any model outside
the declaration. Independent layers (the plain :class:`ChainSpace`) are blocks
of one layer, ``min_depth = 1``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..validation import as_rng, check_count, check_positive
from .chain import ChainSpace


@dataclass(frozen=True)
class Block:
    """A run of ``max_depth`` layers of a chain (module docstring)."""

    choices: tuple
    max_depth: int = 1
    min_depth: int | None = None
    shared: bool = False

    def __post_init__(self):
        check_positive(self.max_depth, "max_depth")
        low = self.max_depth if self.min_depth is None else check_count(self.min_depth, "min_depth")
        if low > self.max_depth:
            raise ValueError(f"min_depth {low} exceeds max_depth {self.max_depth}")
        object.__setattr__(self, "min_depth", low)
        per_layer = self.choices and all(isinstance(c, (tuple, list, np.ndarray)) for c in self.choices)
        layers = tuple(tuple(int(op) for op in c) for c in self.choices) if per_layer \
            else (tuple(int(op) for op in self.choices),) * self.max_depth
        if len(layers) != self.max_depth or not all(layers):
            raise ValueError(f"a block of {self.max_depth} layers needs choices for each (got {len(layers)}, "
                             f"some empty: {not all(layers)})")
        if self.shared and len(set(layers)) > 1:
            raise ValueError("a block whose layers share one choice needs the same choices at every layer")
        if any(len(set(c)) != len(c) for c in layers):
            raise ValueError(f"choices repeat an op: {layers}")
        object.__setattr__(self, "choices", layers)

    def count(self, depth: int) -> int:
        """Distinct op assignments with ``depth`` layers present."""
        if self.shared:
            return len(self.choices[0]) if depth else 1
        return math.prod(len(c) for c in self.choices[:depth])

    @property
    def size(self) -> int:
        return sum(self.count(d) for d in range(self.min_depth, self.max_depth + 1))


class BlockChainSpace(ChainSpace):
    """A :class:`ChainSpace` declared from :class:`Block` s (module docstring).

    ``skip``: the op code of an absent layer (needed when a block may be
    shorter than its ``max_depth``); ``layer_cost`` / ``fixed_cost`` as for
    :class:`ChainSpace` (skipped layers usually cost 0).
    """

    def __init__(self, op_names, blocks, *, skip: int | None = None, layer_cost=None, fixed_cost: float = 0.0):
        self.blocks = tuple(blocks)
        if not self.blocks:
            raise ValueError("a chain needs at least one block")
        if skip is None and any(b.min_depth < b.max_depth for b in self.blocks):
            raise ValueError("blocks of variable depth need a skip op for their absent layers")
        self.skip = None if skip is None else int(skip)
        allowed = np.zeros((sum(b.max_depth for b in self.blocks), len(op_names)), bool)
        self._starts = np.cumsum([0] + [b.max_depth for b in self.blocks])
        for block, start in zip(self.blocks, self._starts):
            for i, ops in enumerate(block.choices):
                if self.skip in ops:
                    raise ValueError(f"the skip op {self.skip} cannot be a choice: absent layers come from depths")
                allowed[start + i, list(ops)] = True
                if i >= block.min_depth:
                    allowed[start + i, self.skip] = True
        super().__init__(op_names, allowed, layer_cost, fixed_cost)
        # One-layer blocks without sharing: every layer independent, uniform per layer is uniform
        # over models, and ChainSpace's per-layer sampler (its random stream) applies as it is.
        self._independent = all(b.max_depth == 1 and not b.shared for b in self.blocks)

    @property
    def size(self) -> int:
        """Number of distinct architectures: the product of the blocks' counts (an exact int)."""
        return math.prod(b.size for b in self.blocks)

    def sample(self, n: int, seed) -> np.ndarray:
        """``n`` architectures uniform over the space's distinct models."""
        if self._independent:
            return super().sample(n, seed)
        n = check_count(n)
        rng = as_rng(seed)
        archs = np.empty((n, self.num_layers), np.int8)
        for block, start in zip(self.blocks, self._starts):
            depths = np.arange(block.min_depth, block.max_depth + 1)
            weights = np.array([block.count(d) for d in depths], float)
            depth = rng.choice(depths, size=n, p=weights / weights.sum())
            for i, ops in enumerate(block.choices):
                if block.shared and i > 0:
                    archs[:, start + i] = archs[:, start]
                else:
                    archs[:, start + i] = np.asarray(ops, np.int8)[rng.integers(0, len(ops), size=n)]
                archs[depth <= i, start + i] = self.skip if self.skip is not None else 0
        return archs

    def check(self, archs) -> np.ndarray:
        """``archs`` as ``(n, L)`` ops of the declared space, or a ValueError naming a bad one."""
        archs = super().check(archs)
        if self._independent:  # one-layer blocks: ChainSpace's allowed ops say it all
            return archs
        # Depths below min_depth cannot pass ChainSpace's check: the skip op is not allowed on
        # those layers. What is left: no present layer after a skipped one within a block, and
        # one op per shared block.
        skipped = archs == self.skip if self.skip is not None else np.zeros(archs.shape, bool)
        late = skipped[:, :-1] & ~skipped[:, 1:]
        late[:, self._starts[1:-1] - 1] = False  # a skip at a block's end, then the next block
        if late.any():
            i, layer = map(int, np.argwhere(late)[0])
            b = int(np.searchsorted(self._starts, layer, side="right")) - 1
            raise ValueError(f"architecture {i}: block {b} (layers {self._starts[b]}-{self._starts[b + 1] - 1}) "
                             f"skips a layer before a present one: a block's skips come at its end")
        for b, (block, start) in enumerate(zip(self.blocks, self._starts)):
            if block.shared and block.max_depth > 1:
                part, gone = archs[:, start:start + block.max_depth], skipped[:, start:start + block.max_depth]
                differ = ~gone[:, 1:] & (part[:, 1:] != part[:, :1])
                if differ.any():
                    i = int(np.flatnonzero(differ.any(axis=1))[0])
                    raise ValueError(f"architecture {i}: the layers of block {b} must share one op, got "
                                     f"{part[i][~gone[i]].tolist()}")
        return archs

    def mutate(self, arch, rng: np.random.Generator, rate: float = 1.0) -> np.ndarray:
        """:meth:`ChainSpace.mutate`'s per-layer op change, redrawn until the mutant is in the declared
        space (a change can put a skip before a present layer, or split a shared block); after 100
        invalid draws the parent itself, which Regularized Evolution redraws (``distinct_child``)."""
        for _ in range(100):
            child = super().mutate(arch, rng, rate)
            try:
                return self.check(child[None])[0]
            except ValueError:
                continue
        return np.array(arch, dtype=np.int8).reshape(self.num_layers)
