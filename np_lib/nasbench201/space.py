"""The NAS-Bench-201 space as searches use it: uniform sampling and NAS-Bench-201's mutation.

Both follow NAS-Bench-201's own baselines in AutoDL-Projects (Dong & Yang,
ICLR 2020; ``exps/algos/R_EA.py``, ``random_architecture_func`` and
``mutate_arch_func``), vectorised over many cells and driven by an explicit
NumPy seed instead of Python's global ``random``.
"""
from __future__ import annotations

import numpy as np

from ..validation import as_rng, check_count
from .cell import NUM_CELLS, NUM_EDGES, NUM_NODES, OPS, check_cells

#: Index in :data:`~np_lib.nasbench201.cell.EDGES` of node ``i``'s first incoming edge (i = 1, 2, 3).
_FIRST_EDGE = np.array([0, 1, 3])


def random_cells(n: int, seed) -> np.ndarray:
    """``n`` cells drawn independently and uniformly from the 15,625 (with replacement).

    Each edge's op is uniform over the 5, independently: NAS-Bench-201's
    ``random_architecture_func``, and exactly uniform over the space.
    """
    return as_rng(seed).integers(len(OPS), size=(check_count(n), NUM_EDGES), dtype=np.int8)


def sample_indices(n: int, seed, pool_size: int = NUM_CELLS) -> np.ndarray:
    """Indices of ``n`` distinct cells drawn uniformly (no replacement) from a pool of ``pool_size``."""
    if check_count(n) > pool_size:
        raise ValueError(f"cannot draw {n} distinct cells from a pool of {pool_size}")
    return as_rng(seed).choice(pool_size, size=int(n), replace=False)


def mutate(cells, seed) -> np.ndarray:
    """NAS-Bench-201's mutation: one edge's op replaced by a different op, for each cell.

    As ``mutate_arch_func`` in AutoDL-Projects (the operator of NAS-Bench-201's
    Regularized Evolution baseline): pick a node uniformly among the 3
    non-input nodes, one of its incoming edges uniformly, and a new op
    uniformly among the 4 others. So the edge into node 1 is chosen with
    probability 1/3, each of node 2's two with 1/6 and each of node 3's three
    with 1/9: not uniform over edges. Every child differs from its parent in
    exactly one edge (it may still compute the same function, e.g. a change on
    an edge that ``none`` edges cut off; the benchmark counts it as a
    different cell, as NAS-Bench-201 does).

    ``cells``: one cell (6 codes, returns 6 codes) or ``(n, 6)`` (returns
    ``(n, 6)``, each row mutated independently). The input is not modified.
    """
    single = np.ndim(cells) == 1
    parents = check_cells(cells)
    rng = as_rng(seed)
    n = len(parents)
    node = rng.integers(1, NUM_NODES, size=n)                 # target node 1..3
    edge = _FIRST_EDGE[node - 1] + rng.integers(0, node)     # one of its `node` incoming edges
    shift = rng.integers(1, len(OPS), size=n)                  # +1..+4 mod 5: uniform over the other ops
    children = parents.copy()
    rows = np.arange(n)
    children[rows, edge] = (parents[rows, edge] + shift) % len(OPS)
    return children[0] if single else children
