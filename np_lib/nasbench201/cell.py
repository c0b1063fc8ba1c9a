"""NAS-Bench-201 cells (Dong & Yang, ICLR 2020, section 2.1) and their arch strings.

A cell is a DAG on 4 nodes (0 is the cell's input, 3 its output) with all 6
forward edges ``j -> i`` (``j < i``); each edge carries one of 5 operations
(:data:`OPS`), so the space has ``5 ** 6 = 15,625`` cells. A node sums what
its incoming edges compute.

Here a cell is a row of 6 op codes (indices into :data:`OPS`) in the edge order
of the arch string (:data:`EDGES`), and many cells are an ``(n, 6)`` int8
array: every operation on the whole space is then one NumPy expression.
The string format is NAS-Bench-201's own, node by node::

    |nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|
     node 1 <- 0     node 2 <- 0, 1          node 3 <- 0, 1, 2

``op~j`` is the edge from node ``j``. The *code* of a cell (:func:`to_code`) is
its 6 op codes read as a base-5 number, 0..15,624; it is NOT NAS-Bench-201's
official index, whose order is the benchmark's own and comes with the data
(:meth:`np_lib.nasbench201.NASBench201.index`).
"""
from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

#: The candidate operations of an edge, in NAS-Bench-201's order (``none`` cuts the edge).
OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
OP_INDEX = {op: i for i, op in enumerate(OPS)}
NONE = OP_INDEX["none"]
NUM_NODES = 4
#: ``(source, target)`` of each edge, in the arch string's order.
EDGES = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
NUM_EDGES = len(EDGES)
#: Number of cells in the space: every assignment of an op to each edge.
NUM_CELLS = len(OPS) ** NUM_EDGES

_STRING = re.compile(r"\|({ops})~0\|\+\|({ops})~0\|({ops})~1\|\+\|({ops})~0\|({ops})~1\|({ops})~2\|"
                     .format(ops="|".join(OPS)))
_POWERS = len(OPS) ** np.arange(NUM_EDGES - 1, -1, -1)


class InvalidArchString(ValueError):
    """An arch string that is not a NAS-Bench-201 cell."""


def check_cells(cells) -> np.ndarray:
    """``cells`` as an ``(n, 6)`` int8 array of op codes (one cell may be given as 6 codes)."""
    array = np.asarray(cells)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != NUM_EDGES:
        raise ValueError(f"NAS-Bench-201 cells are rows of {NUM_EDGES} op codes, got shape {np.shape(cells)}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"op codes must be integers, got dtype {array.dtype}")
    if array.size and (array.min() < 0 or array.max() >= len(OPS)):
        bad = np.argwhere((array < 0) | (array >= len(OPS)))[0]
        raise ValueError(f"op codes must lie in [0, {len(OPS)}): cell {bad[0]}, edge {bad[1]} has "
                         f"{array[tuple(bad)]}")
    return array.astype(np.int8, copy=False)


def parse(string: str) -> np.ndarray:
    """The 6 op codes of one arch string; :class:`InvalidArchString` says what is wrong."""
    if not isinstance(string, str):
        raise TypeError(f"an arch string must be a str, got {type(string).__name__}")
    match = _STRING.fullmatch(string)
    if match is None:
        raise InvalidArchString(_diagnose(string))
    return np.array([OP_INDEX[op] for op in match.groups()], np.int8)


def _diagnose(string: str) -> str:
    """Why ``string`` is not a NAS-Bench-201 arch string (for the error message)."""
    example = format_cell(np.array([3, 0, 3, 1, 0, 1]))
    nodes = string.split("+")
    if len(nodes) != NUM_NODES - 1:
        return (f"{string!r}: expected {NUM_NODES - 1} nodes separated by '+', got {len(nodes)}; "
                f"the format is e.g. {example!r}")
    for i, node in enumerate(nodes, start=1):
        if not (node.startswith("|") and node.endswith("|")) or len(node) < 2:
            return f"{string!r}: node {i} ({node!r}) must start and end with '|'"
        edges = node[1:-1].split("|")
        if len(edges) != i:
            return f"{string!r}: node {i} must have {i} incoming edge(s), got {len(edges)} ({node!r})"
        for j, edge in enumerate(edges):
            op, _, source = edge.partition("~")
            if op not in OP_INDEX:
                return f"{string!r}: unknown operation {op!r} on node {i}; known: {', '.join(OPS)}"
            if source != str(j):
                return f"{string!r}: node {i}'s edge {j + 1} must come from node {j} ('{op}~{j}'), got {edge!r}"
    return f"{string!r} is not a NAS-Bench-201 arch string; the format is e.g. {example!r}"


def parse_many(strings: Iterable[str]) -> np.ndarray:
    """``(n, 6)`` op codes of many arch strings (the first malformed one raises)."""
    strings = list(strings)
    out = np.empty((len(strings), NUM_EDGES), np.int8)
    for i, s in enumerate(strings):
        try:
            out[i] = parse(s)
        except InvalidArchString as e:
            raise InvalidArchString(f"string {i}: {e}") from None
    return out


def format_cell(cell) -> str:
    """The arch string of one cell (6 op codes)."""
    (row,) = check_cells(cell)
    names = [OPS[k] for k in row]
    return "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|".format(*names)


def format_many(cells) -> np.ndarray:
    """Arch strings of ``(n, 6)`` cells, as an object array."""
    cells = check_cells(cells)
    names = np.array(OPS, dtype=object)[cells]
    return np.array(["|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|".format(*row) for row in names], dtype=object)


def to_code(cells) -> np.ndarray:
    """Each cell's base-5 code, 0..15,624 (first edge most significant); int64 array."""
    return check_cells(cells).astype(np.int64) @ _POWERS


def from_code(codes) -> np.ndarray:
    """Inverse of :func:`to_code`: ``(n, 6)`` op codes."""
    codes = np.asarray(codes, dtype=np.int64).reshape(-1)
    if codes.size and (codes.min() < 0 or codes.max() >= NUM_CELLS):
        raise ValueError(f"codes must lie in [0, {NUM_CELLS})")
    return ((codes[:, None] // _POWERS) % len(OPS)).astype(np.int8)


def all_cells() -> np.ndarray:
    """All 15,625 cells, in code order (:func:`to_code` of row ``i`` is ``i``)."""
    return from_code(np.arange(NUM_CELLS))


def reachability(cells) -> tuple[np.ndarray, np.ndarray]:
    """``(from_input, to_output)``: ``(n, 4)`` bool, node reachable from node 0 / reaching node 3.

    Only edges whose op is not ``none`` carry data. Nodes are in topological
    order, so one pass each way suffices (vectorised over cells).
    """
    live = check_cells(cells) != NONE
    n = len(live)
    forward = np.zeros((n, NUM_NODES), bool)
    forward[:, 0] = True
    backward = np.zeros((n, NUM_NODES), bool)
    backward[:, NUM_NODES - 1] = True
    for e, (j, i) in enumerate(EDGES):  # EDGES is sorted by target: sources are final when read
        forward[:, i] |= forward[:, j] & live[:, e]
    for e, (j, i) in reversed(list(enumerate(EDGES))):  # sorted by target, so reversed targets come first
        backward[:, j] |= backward[:, i] & live[:, e]
    return forward, backward


def is_connected(cells) -> np.ndarray:
    """Whether data flows from the input node to the output node (a path of non-``none`` edges).

    341 of the 15,625 cells have no such path: their output is all zeros and
    their accuracy is chance (NAS-Bench-201 records 9.71 % validation accuracy
    for each).
    """
    return reachability(cells)[0][:, NUM_NODES - 1]
