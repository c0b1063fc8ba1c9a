"""NAS-Bench-101 cells: validation, pruning and the official module hash.

A cell is a DAG of at most 7 vertices and 9 edges whose first vertex is the
input, whose last vertex is the output, and whose interior vertices each hold
one of three operations (Ying et al., 2019; Neural Predictor paper, section 4.1).
`Cell` mirrors NAS-Bench-101's ``ModelSpec``: it validates, prunes vertices
that lie on no input->output path, and fingerprints the pruned graph with the
official ``hash_module`` so that isomorphic cells share one hash.
"""
from __future__ import annotations

import hashlib
import itertools

import numpy as np

INPUT = "input"
OUTPUT = "output"
CONV1X1 = "conv1x1-bn-relu"
CONV3X3 = "conv3x3-bn-relu"
MAXPOOL3X3 = "maxpool3x3"

#: Interior operations in NAS-Bench-101's ``available_ops`` order. The official
#: hash labels a vertex by its index in this list, so the order is part of the
#: hash and must not change.
INTERIOR_OPS = (CONV3X3, CONV1X1, MAXPOOL3X3)

#: Node-feature order of the paper's Figure 2: [input, conv1x1, conv3x3, max-pool, output].
#: Cells store ops as indices into this tuple.
OPS = (INPUT, CONV1X1, CONV3X3, MAXPOOL3X3, OUTPUT)
OP_INDEX = {op: i for i, op in enumerate(OPS)}

MAX_VERTICES = 7
MAX_EDGES = 9

# Official hash label of each index of OPS: input -1, output -2, interior ops
# by their position in INTERIOR_OPS.
HASH_LABEL = (-1, INTERIOR_OPS.index(CONV1X1), INTERIOR_OPS.index(CONV3X3),
               INTERIOR_OPS.index(MAXPOOL3X3), -2)


class InvalidCellError(ValueError):
    """A matrix/ops pair that is not a NAS-Bench-101 cell; the message says why."""


def module_hash(matrix, labels) -> str:
    """NAS-Bench-101's ``hash_module``: an iterated md5 graph fingerprint.

    ``matrix`` is the pruned adjacency (rows = sources), ``labels`` the official
    per-vertex labels (-1 input, -2 output, index into ``INTERIOR_OPS``).
    Each vertex starts from md5 of ``(out_degree, in_degree, label)``; then, as
    many times as there are vertices, its hash becomes md5 of its sorted
    in-neighbour hashes, '|', sorted out-neighbour hashes, '|', its own hash.
    The fingerprint is md5 of the sorted final hashes. Isomorphic graphs get the
    same fingerprint; the relabelling-invariance is what makes it a cell identity.
    """
    rows = np.asarray(matrix).tolist()
    n = len(rows)
    ins = [[w for w in range(n) if rows[w][v]] for v in range(n)]
    outs = [[w for w in range(n) if rows[v][w]] for v in range(n)]
    return _hash_lists(ins, outs, [int(x) for x in labels])


def _hash_lists(ins, outs, labels) -> str:
    # The hot loop of enumerate_cells (423,624 calls): plain lists, no numpy.
    md5 = hashlib.md5
    vs = range(len(labels))
    h = [md5(str((len(outs[v]), len(ins[v]), labels[v])).encode()).hexdigest() for v in vs]
    for _ in vs:
        h = [md5(("".join(sorted([h[w] for w in ins[v]])) + "|"
                  + "".join(sorted([h[w] for w in outs[v]])) + "|" + h[v]).encode()).hexdigest()
             for v in vs]
    return md5(str(sorted(h)).encode()).hexdigest()


def _reachable(matrix: np.ndarray, start: int, forward: bool) -> set[int]:
    adj = matrix if forward else matrix.T
    seen, stack = {start}, [start]
    while stack:
        v = stack.pop()
        for w in np.flatnonzero(adj[v]):
            if int(w) not in seen:
                seen.add(int(w))
                stack.append(int(w))
    return seen


def _op_indices(ops) -> list[int]:
    """Accept op names (official strings) or indices into ``OPS``."""
    out = []
    for i, op in enumerate(ops):
        if isinstance(op, (int, np.integer)) and not isinstance(op, bool):
            if not 0 <= op < len(OPS):
                raise InvalidCellError(f"op index {op} at vertex {i} is outside 0..{len(OPS) - 1} ({OPS})")
            out.append(int(op))
        elif op in OP_INDEX:
            out.append(OP_INDEX[op])
        else:
            raise InvalidCellError(f"unknown op {op!r} at vertex {i}; allowed: {', '.join(OPS)}")
    return out


class Cell:
    """A validated, pruned NAS-Bench-101 cell (like NAS-Bench-101's ``ModelSpec``).

    Parameters
    ----------
    matrix : array-like, n x n, 0/1
        Adjacency matrix, ``matrix[i, j] = 1`` for an edge i -> j. Must be
        strictly upper-triangular (a DAG in topological order).
    ops : sequence of str or int
        One op per vertex: official names (``'input'``, ``'conv3x3-bn-relu'``,
        ``'conv1x1-bn-relu'``, ``'maxpool3x3'``, ``'output'``) or indices into
        :data:`OPS`.

    The constructor prunes vertices not on an input->output path; ``matrix``
    and ``ops`` are the pruned graph, ``original_matrix``/``original_ops`` what
    was given (the mutation operator works on the original, as in NAS-Bench-101).
    The 9-edge limit applies to the pruned graph, as in ``NASBench.is_valid``.

    Raises
    ------
    InvalidCellError
        With a message naming the problem.
    """

    __slots__ = ("original_matrix", "original_ops", "matrix", "ops", "_hash")

    def __init__(self, matrix, ops):
        try:
            raw = np.asarray(matrix)
        except (TypeError, ValueError) as e:
            raise InvalidCellError(f"matrix is not a 0/1 array: {e}") from None
        # Only real numbers: a complex (or text) matrix would otherwise be cast, its imaginary part dropped.
        if raw.dtype.kind not in "biuf":
            raise InvalidCellError(f"matrix must hold 0/1 numbers, got an array of dtype {raw.dtype}")
        m = raw.astype(float)
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise InvalidCellError(f"matrix must be square, got shape {m.shape}")
        if not np.isin(m, (0, 1)).all():
            raise InvalidCellError("matrix entries must be 0 or 1")
        m = m.astype(np.uint8)
        n = m.shape[0]
        if n < 2:
            raise InvalidCellError(f"a cell needs at least an input and an output vertex, got {n} vertices")
        if n > MAX_VERTICES:
            raise InvalidCellError(f"{n} vertices; NAS-Bench-101 allows at most {MAX_VERTICES}")
        if np.tril(m).any():
            raise InvalidCellError("matrix is not strictly upper-triangular: edges must go from a "
                                   "lower to a higher vertex index (a cycle or self-loop otherwise)")
        if isinstance(ops, (str, bytes)) or not hasattr(ops, "__iter__"):
            raise InvalidCellError(f"ops must be a sequence of {n} op names or indices (one per vertex), "
                                   f"got {ops!r}")
        ops = list(ops)
        if len(ops) != n:
            raise InvalidCellError(f"{len(ops)} ops for {n} vertices")
        op_idx = _op_indices(ops)
        if op_idx[0] != OP_INDEX[INPUT] or op_idx[-1] != OP_INDEX[OUTPUT]:
            raise InvalidCellError(f"first op must be 'input' and last 'output', got {OPS[op_idx[0]]!r} "
                                   f"and {OPS[op_idx[-1]]!r}")
        if any(o in (OP_INDEX[INPUT], OP_INDEX[OUTPUT]) for o in op_idx[1:-1]):
            raise InvalidCellError("'input'/'output' may only be the first/last op")
        self.original_matrix = m
        self.original_ops = tuple(op_idx)
        from_input = _reachable(m, 0, forward=True)
        if n - 1 not in from_input:
            raise InvalidCellError("no path from the input to the output vertex")
        keep = sorted(from_input & _reachable(m, n - 1, forward=False))
        self.matrix = m[np.ix_(keep, keep)]
        self.matrix.setflags(write=False)
        self.original_matrix.setflags(write=False)
        self.ops = tuple(op_idx[i] for i in keep)
        edges = int(self.matrix.sum())
        if edges > MAX_EDGES:
            raise InvalidCellError(f"{edges} edges after pruning; NAS-Bench-101 allows at most {MAX_EDGES}")
        self._hash = None

    @classmethod
    def _trusted(cls, matrix: np.ndarray, ops, hash_: str | None = None) -> "Cell":
        """Build from an already pruned, valid graph (enumeration, data files) without re-checking."""
        cell = object.__new__(cls)
        cell.original_matrix = cell.matrix = matrix
        cell.original_ops = cell.ops = tuple(int(o) for o in ops)
        cell._hash = hash_
        return cell

    @property
    def num_vertices(self) -> int:
        return len(self.ops)

    @property
    def num_edges(self) -> int:
        return int(self.matrix.sum())

    @property
    def op_names(self) -> list[str]:
        return [OPS[o] for o in self.ops]

    @property
    def hash(self) -> str:
        """The official NAS-Bench-101 module hash of the pruned cell (32 hex chars)."""
        if self._hash is None:
            self._hash = module_hash(self.matrix, [HASH_LABEL[o] for o in self.ops])
        return self._hash

    def vertex_orders(self) -> list[list[int]]:
        """Every numbering of this cell's vertices that :meth:`relabel` accepts (identity first):
        input first, output last, every edge still from a lower to a higher number."""
        n = self.num_vertices
        orders = ([0, *p, n - 1] for p in itertools.permutations(range(1, n - 1)))
        return [o for o in orders if not np.tril(self.matrix[np.ix_(o, o)]).any()]

    def relabel(self, order) -> "Cell":
        """The same cell with its vertices listed in ``order`` (a permutation).

        ``order`` must keep the input first, the output last and the result
        upper-triangular; it is the tool for checking that the hash and the
        predictor do not depend on vertex numbering.
        """
        order = list(order)
        if sorted(order) != list(range(self.num_vertices)):
            raise ValueError(f"order must be a permutation of 0..{self.num_vertices - 1}")
        return Cell(self.matrix[np.ix_(order, order)], [self.ops[i] for i in order])

    def __eq__(self, other):
        return isinstance(other, Cell) and self.hash == other.hash

    def __hash__(self):
        return hash(self.hash)

    def __repr__(self):
        rows = "".join(map(str, self.matrix.ravel()))
        return f"Cell(matrix='{rows}' ({self.num_vertices}x{self.num_vertices}), ops={self.op_names})"


class CellArray:
    """Many pruned cells as padded arrays: the form pools, benchmarks and encoders share.

    ``matrices`` is ``(n, 7, 7)`` uint8 with each pruned adjacency in the top-left
    corner; ``ops`` is ``(n, 7)`` int8 of indices into :data:`OPS`, -1 for padding
    (the output is the last real vertex, at ``num_vertices - 1``); ``hashes`` the
    official module hashes. Arrays, not lists of ``Cell``: 423,624 cells fit in
    about 25 MB and encode without a Python loop.
    """

    def __init__(self, matrices, ops, hashes):
        self.matrices = np.ascontiguousarray(matrices, dtype=np.uint8)
        self.ops = np.ascontiguousarray(ops, dtype=np.int8)
        self.hashes = np.asarray(hashes, dtype="<U32")
        n = len(self.hashes)
        if self.matrices.shape != (n, MAX_VERTICES, MAX_VERTICES) or self.ops.shape != (n, MAX_VERTICES):
            raise ValueError(f"inconsistent shapes: matrices {self.matrices.shape}, ops {self.ops.shape}, "
                             f"{n} hashes; expected ({n}, 7, 7) and ({n}, 7)")
        self.num_vertices = (self.ops >= 0).sum(axis=1).astype(np.int8)
        self._index = None

    @classmethod
    def from_cells(cls, cells) -> "CellArray":
        cells = list(cells)
        mats = np.zeros((len(cells), MAX_VERTICES, MAX_VERTICES), np.uint8)
        ops = np.full((len(cells), MAX_VERTICES), -1, np.int8)
        for i, c in enumerate(cells):
            k = c.num_vertices
            mats[i, :k, :k] = c.matrix
            ops[i, :k] = c.ops
        return cls(mats, ops, [c.hash for c in cells])

    @classmethod
    def from_strings(cls, adjacency, operations, hashes) -> "CellArray":
        """Parse NAS-Bench-101's text form: row-major '0'/'1' adjacency strings and
        comma-separated op names, as in the official records and the sample CSV.
        The rows must already be pruned (both sources store pruned cells)."""
        adj = np.asarray(list(adjacency), dtype=str)
        n = len(adj)
        mats = np.zeros((n, MAX_VERTICES, MAX_VERTICES), np.uint8)
        lengths = np.char.str_len(adj) if n else np.zeros(0, int)
        sizes = np.zeros(n, np.int64)
        for k in range(2, MAX_VERTICES + 1):  # vectorised per matrix size, not per row
            sel = lengths == k * k
            if sel.any():
                flat = np.frombuffer("".join(adj[sel]).encode("ascii"), np.uint8).reshape(-1, k, k)
                mats[sel, :k, :k] = flat - ord("0")
                sizes[sel] = k
        if (sizes == 0).any():
            i = int(np.flatnonzero(sizes == 0)[0])
            raise ValueError(f"row {i}: adjacency string of length {lengths[i]} is not an n x n matrix, 2 <= n <= 7")
        if mats.max(initial=0) > 1:
            raise ValueError("adjacency strings may contain only '0' and '1'")
        names, inverse = np.unique(np.asarray(list(operations), dtype=str), return_inverse=True)
        table = np.full((len(names), MAX_VERTICES), -1, np.int8)
        for j, o in enumerate(names):
            parts = o.split(",")
            try:
                table[j, :len(parts)] = [OP_INDEX[x] for x in parts]
            except KeyError as e:
                raise ValueError(f"unknown op {e.args[0]!r} in {o!r}") from None
            except ValueError:
                raise ValueError(f"{len(parts)} ops in {o!r}; at most {MAX_VERTICES}") from None
        ops = table[inverse.reshape(-1)]
        mismatch = (ops >= 0).sum(axis=1) != sizes
        if mismatch.any():
            i = int(np.flatnonzero(mismatch)[0])
            raise ValueError(f"row {i}: {(ops[i] >= 0).sum()} ops for a {sizes[i]}-vertex matrix")
        return cls(mats, ops, hashes)

    def __len__(self) -> int:
        return len(self.hashes)

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            k = int(self.num_vertices[key])
            return Cell._trusted(self.matrices[key, :k, :k], self.ops[key, :k], str(self.hashes[key]))
        return CellArray(self.matrices[key], self.ops[key], self.hashes[key])

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def index(self, hashes) -> np.ndarray:
        """Positions of the given module hashes; ``KeyError`` names the first missing one."""
        if self._index is None:
            self._index = {h: i for i, h in enumerate(self.hashes.tolist())}
        single = isinstance(hashes, str)
        out = []
        for h in [hashes] if single else hashes:
            try:
                out.append(self._index[h])
            except KeyError:
                raise KeyError(f"cell hash {h} is not in this pool") from None
        return out[0] if single else np.asarray(out, dtype=np.int64)

    def __repr__(self):
        return f"CellArray({len(self)} cells)"
