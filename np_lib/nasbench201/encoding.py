"""NAS-Bench-201 cells as the graphs the GCN reads (the paper's Figure 2, for ops on edges).

The Neural Predictor's GCN reads graphs whose *nodes* carry operations
(section 3.2), while NAS-Bench-201 puts operations on *edges*. The common
conversion (issue 13 calls it the standard one) turns every edge into a node:

* node ``input``, one node per edge op, node ``output``;
* edge-node ``a`` feeds edge-node ``b`` when ``a``'s target cell node is
  ``b``'s source; edges out of cell node 0 are fed by ``input``, edges into
  cell node 3 feed ``output``;
* ``none`` edges carry nothing: their nodes are removed, and so is every node
  then cut off from an input -> output path (it cannot affect the output).

The remaining nodes keep the order input, edge-nodes in arch-string edge
order (a topological order), output, and sit in the top-left corner of an
8 x 8 adjacency (V = 8: input + 6 edges + output), as NAS-Bench-101's pruned
cells do in their 7 x 7. Node features are one-hot over :data:`GRAPH_OPS`.

**Disconnected cells** (no input -> output path, 341 of 15,625): they become
``input`` and ``output`` with no edge between them, the only edgeless graph
the conversion produces. That is what such a cell computes (its output is
zeros: NAS-Bench-201 records chance accuracy for all of them), and it is a
graph like any other, so a predictor trained on some of them scores the rest
alike, without a special case.

The generic half (padding, one-hot features, the ``GraphBatch``) is
:func:`np_lib.encoding.one_hot_graphs`, the same as for NAS-Bench-101.
"""
from __future__ import annotations

import numpy as np

from ..encoding import GraphBatch, one_hot_graphs
from .cell import EDGES, NONE, NUM_EDGES, NUM_NODES, OPS, check_cells

#: Node labels of the graph: input, the 4 ops that carry data, output.
GRAPH_OPS = ("input",) + tuple(op for op in OPS if op != "none") + ("output",)
#: Nodes of the unpruned graph: input, one per edge, output.
MAX_NODES = NUM_EDGES + 2
_INPUT, _OUTPUT = 0, MAX_NODES - 1


def _template() -> np.ndarray:
    """The 8 x 8 adjacency of the unpruned edge-node graph (every edge live)."""
    a = np.zeros((MAX_NODES, MAX_NODES), np.uint8)
    for e, (source, target) in enumerate(EDGES):
        if source == 0:
            a[_INPUT, 1 + e] = 1
        if target == NUM_NODES - 1:
            a[1 + e, _OUTPUT] = 1
        for f, (next_source, _) in enumerate(EDGES):
            if next_source == target:
                a[1 + e, 1 + f] = 1
    return a


TEMPLATE = _template()


def graphs(cells) -> tuple[np.ndarray, np.ndarray]:
    """``(adjacency (n, 8, 8) uint8, labels (n, 8) int8)`` of the pruned graphs; label -1 pads.

    Vectorised over cells: the whole space converts in one pass of array operations.
    """
    cells = check_cells(cells)
    n = len(cells)
    live = np.ones((n, MAX_NODES), bool)
    live[:, 1:-1] = cells != NONE
    adjacency = TEMPLATE[None] & live[:, :, None] & live[:, None, :]
    # Reachability along the edge-node graph; nodes are in topological order, so one sweep each way.
    forward = np.zeros((n, MAX_NODES), bool)
    forward[:, _INPUT] = True
    for v in range(1, MAX_NODES):
        forward[:, v] = (forward[:, :v] & adjacency[:, :v, v].astype(bool)).any(axis=1)
    backward = np.zeros((n, MAX_NODES), bool)
    backward[:, _OUTPUT] = True
    for v in range(MAX_NODES - 2, -1, -1):
        backward[:, v] = (backward[:, v + 1:] & adjacency[:, v, v + 1:].astype(bool)).any(axis=1)
    keep = forward & backward
    keep[:, [_INPUT, _OUTPUT]] = True  # a disconnected cell keeps both ends and no edge
    adjacency = adjacency & keep[:, :, None] & keep[:, None, :]
    labels = np.empty((n, MAX_NODES), np.int8)
    labels[:, _INPUT] = GRAPH_OPS.index("input")
    labels[:, 1:-1] = cells  # OPS[1:5] are GRAPH_OPS[1:5]; "none" nodes (code 0) are dropped below
    labels[:, _OUTPUT] = GRAPH_OPS.index("output")
    # Move kept nodes to the front, in their order (a stable sort of "dropped" flags).
    order = np.argsort(~keep, axis=1, kind="stable")
    rows = np.arange(n)[:, None]
    adjacency = adjacency[rows[:, :, None], order[:, :, None], order[:, None, :]]
    kept = np.take_along_axis(keep, order, axis=1)
    labels = np.where(kept, np.take_along_axis(labels, order, axis=1), -1).astype(np.int8)
    return adjacency.astype(np.uint8), labels


def encode(cells) -> GraphBatch:
    """Encode cells as a padded :class:`~np_lib.encoding.GraphBatch` (V = 8, F = 6)."""
    return one_hot_graphs(*graphs(cells), len(GRAPH_OPS))
