"""NAS-Bench-101 cells as graphs (the paper's Figure 2).

The cell-specific half of the encoding: a pruned cell of ``n`` vertices sits in
the top-left corner of a 7 x 7 adjacency, its output at ``n - 1``, and each node
is a one-hot over ``[input, conv1x1, conv3x3, max-pool, output]`` (section 4.1).
Everything else is the generic :mod:`np_lib.encoding`.
"""
from __future__ import annotations

from collections.abc import Sequence

from ..encoding import GraphBatch, one_hot_graphs
from .cell import OPS, Cell, CellArray


def encode(cells: CellArray | Sequence[Cell]) -> GraphBatch:
    """Encode cells as a padded :class:`~np_lib.encoding.GraphBatch` (V = 7, F = 5)."""
    if not isinstance(cells, CellArray):
        cells = list(cells)
        if not all(isinstance(c, Cell) for c in cells):
            raise TypeError("encode() takes a CellArray or a sequence of Cell objects")
        cells = CellArray.from_cells(cells)
    return one_hot_graphs(cells.matrices, cells.ops, len(OPS))
