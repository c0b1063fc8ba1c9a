"""The NAS-Bench-101 search space: sampling, mutation and full enumeration.

* :func:`random_cell` is NAS-Bench-101's own sampler (``random_spec`` in its
  examples): a random 7-vertex upper-triangular matrix and random ops, rejected
  until valid. It is what NAS-Bench-101's random search and Regularized
  Evolution start from, but it is *not* uniform over unique cells (cells with
  many isomorphic matrices are drawn more often).
* :func:`sample_cells` draws uniformly over unique cells of a pool (the
  enumerated space or a benchmark's cells): what "N random architectures"
  means when the space is a finite table.
* :func:`mutate` is NAS-Bench-101's mutation operator (edge flips, op changes).
* :func:`enumerate_cells` lists every unique cell: 423,624 (Ying et al., 2019).
"""
from __future__ import annotations

import itertools
import multiprocessing
import os
import warnings
import zipfile
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
from tqdm.auto import tqdm

from ..storage import CacheRebuiltWarning, cache_dir, cache_problem, sealed_cache
from ..validation import as_rng, check_count
from ..workers import spawn_problem, watch_parent
from .cell import (HASH_LABEL, INPUT, INTERIOR_OPS, MAX_EDGES, MAX_VERTICES, OP_INDEX, OUTPUT,
                   Cell, CellArray, InvalidCellError, _hash_lists)

#: Number of unique cells in NAS-Bench-101 (Ying et al., 2019, section 2.2).
NUM_CELLS = 423_624

_INTERIOR = np.array([OP_INDEX[o] for o in INTERIOR_OPS], np.int8)
_CACHE_NAME = "nasbench101_cells_v1.npz"
#: What the cache is made from: this enumeration (bump the version when it changes).
_CACHE_SOURCE = {"what": "enumerate_cells", "version": 1, "num_cells": NUM_CELLS}


def random_cell(seed) -> Cell:
    """NAS-Bench-101's rejection sampler: each of the 21 possible edges with
    probability 1/2 and a uniform op per interior vertex, redrawn until the cell
    is valid. ``seed`` is an int or a ``numpy.random.Generator``."""
    rng = as_rng(seed)
    while True:
        matrix = np.triu(rng.integers(0, 2, size=(MAX_VERTICES, MAX_VERTICES)), 1)
        ops = [INPUT, *rng.choice(INTERIOR_OPS, size=MAX_VERTICES - 2).tolist(), OUTPUT]
        try:
            return Cell(matrix, ops)
        except InvalidCellError:
            continue


def sample_cells(pool: CellArray, n: int, seed) -> np.ndarray:
    """Indices of ``n`` distinct cells drawn uniformly from ``pool`` (no replacement)."""
    n = check_count(n)
    if n > len(pool):
        raise ValueError(f"cannot draw {n} distinct cells from a pool of {len(pool)}")
    return as_rng(seed).choice(len(pool), size=n, replace=False)


def _embed7(cell: Cell, rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    """The 7-vertex matrix and ops the mutation works on.

    NAS-Bench-101 mutates the *original* 7-vertex spec. A cell read from a data
    file is stored pruned (possibly fewer vertices), so pad it back to 7 with
    isolated interior vertices holding random ops: pruning removes them again,
    and an edge flip can bring them into the graph, as in the original space.
    """
    matrix, ops = cell.original_matrix, list(cell.original_ops)
    k = len(ops)
    if k == MAX_VERTICES:
        return matrix.copy(), ops
    full = np.zeros((MAX_VERTICES, MAX_VERTICES), np.uint8)
    out = MAX_VERTICES - 1
    full[:k - 1, :k - 1] = matrix[:k - 1, :k - 1]
    full[:k - 1, out] = matrix[:k - 1, k - 1]
    new_ops = ops[:-1] + rng.choice(_INTERIOR, size=MAX_VERTICES - k).tolist() + [ops[-1]]
    return full, new_ops


def mutate(cell: Cell, seed, mutation_rate: float = 1.0) -> Cell:
    """NAS-Bench-101's mutation operator (its Regularized Evolution example).

    Each of the 21 upper-triangular entries flips with probability
    ``mutation_rate / 7`` and each interior op is resampled (to a different op)
    with probability ``mutation_rate / 5``; repeated until the result is a valid
    cell. The child may equal the parent (e.g. a flip on a pruned vertex).
    """
    if mutation_rate <= 0:
        raise ValueError("mutation_rate must be positive")
    rng = as_rng(seed)
    base_matrix, base_ops = _embed7(cell, rng)
    edge_p, op_p = mutation_rate / MAX_VERTICES, mutation_rate / (MAX_VERTICES - 2)
    iu = np.triu_indices(MAX_VERTICES, 1)
    while True:
        matrix = base_matrix.copy()
        flips = rng.random(len(iu[0])) < edge_p
        matrix[iu[0][flips], iu[1][flips]] ^= 1
        ops = list(base_ops)
        for v in range(1, MAX_VERTICES - 1):
            if rng.random() < op_p:
                ops[v] = int(rng.choice(_INTERIOR[_INTERIOR != ops[v]]))
        try:
            return Cell(matrix, ops)
        except InvalidCellError:
            continue


# --- enumeration -----------------------------------------------------------

def _full_dags(n: int) -> np.ndarray:
    """All n-vertex upper-triangular 0/1 matrices with <= 9 edges in which every
    vertex lies on an input->output path (i.e. already pruned), vectorised."""
    iu = np.triu_indices(n, 1)
    m = len(iu[0])
    bits = ((np.arange(2 ** m, dtype=np.int64)[:, None] >> np.arange(m)) & 1).astype(bool)
    bits = bits[bits.sum(axis=1) <= MAX_EDGES]
    mats = np.zeros((len(bits), n, n), bool)
    mats[:, iu[0], iu[1]] = bits
    from_in = np.zeros((len(mats), n), bool)
    from_in[:, 0] = True
    for j in range(1, n):  # topological order: j is reachable if a reachable i < j points to it
        from_in[:, j] = (from_in[:, :j] & mats[:, :j, j]).any(axis=1)
    to_out = np.zeros((len(mats), n), bool)
    to_out[:, n - 1] = True
    for i in range(n - 2, -1, -1):
        to_out[:, i] = (to_out[:, i + 1:] & mats[:, i, i + 1:]).any(axis=1)
    return mats[(from_in & to_out).all(axis=1)]


def _unique_labelled(n: int) -> tuple[np.ndarray, np.ndarray]:
    """One representative per isomorphism class of labelled n-vertex cells.

    Isomorphisms fix the input and output, so they are the (n-2)! permutations
    of interior vertices. First the unlabelled graphs are grouped by a canonical
    code (the smallest bit-code over all permutations); then, per class, the 3^(n-2)
    op labellings are reduced to orbits under the class's automorphism group.
    Returns matrices (c, n, n) and interior labels (c, n-2) in 0..2.
    """
    mats = _full_dags(n)
    perms = np.array([(0, *p, n - 1) for p in itertools.permutations(range(1, n - 1))], np.int64)
    weights = np.int64(1) << np.arange(n * n, dtype=np.int64)
    # codes[g, p]: bit-code of graph g with vertices reordered by permutation p
    flat_index = (perms[:, :, None] * n + perms[:, None, :]).reshape(len(perms), n * n)
    flat = mats.reshape(len(mats), n * n)
    codes = np.stack([flat[:, fi].astype(np.int64) @ weights for fi in flat_index], axis=1)
    canonical = codes.min(axis=1)
    _, first = np.unique(canonical, return_index=True)
    labellings = np.array(list(itertools.product(range(3), repeat=n - 2)), np.int64).reshape(3 ** (n - 2), n - 2)
    label_weights = 3 ** np.arange(n - 2, dtype=np.int64)
    out_mats, out_labels = [], []
    for g in first:
        autos = perms[codes[g] == codes[g, 0], 1:-1] - 1  # automorphisms, on interior positions
        orbit_codes = np.stack([labellings[:, a] @ label_weights for a in autos], axis=1).min(axis=1)
        reps = labellings[np.unique(orbit_codes, return_index=True)[1]]
        out_mats.append(np.broadcast_to(mats[g], (len(reps), n, n)))
        out_labels.append(reps)
    return np.concatenate(out_mats), np.concatenate(out_labels)


def _hash_chunk(args) -> list[str]:
    mats, labels = args
    n = mats.shape[1]
    out = []
    for m, lab in zip(mats.tolist(), labels.tolist()):
        ins = [[w for w in range(n) if m[w][v]] for v in range(n)]
        outs = [[w for w in range(n) if m[v][w]] for v in range(n)]
        out.append(_hash_lists(ins, outs, lab))
    return out


def _hash_in_workers(chunks, workers: int, bar) -> list[str]:
    """The chunks' hashes from ``workers`` spawned processes, or ``[]`` (with a warning) where they cannot run.

    Never hangs (issue 14, item 5): a main script that spawned workers cannot
    re-import (one read from standard input) is detected before any start, and
    workers that die anyway break the ``ProcessPoolExecutor`` (a
    ``multiprocessing.Pool`` would replace them forever); either way the caller
    hashes in this process instead, at the same result.
    """
    problem = spawn_problem()
    if problem is None:
        hashes: list[str] = []
        try:
            with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                     initializer=watch_parent, initargs=(os.getpid(),)) as pool:
                for part in pool.map(_hash_chunk, chunks):
                    hashes.extend(part)
                    bar.update(len(part))
            return hashes
        except BrokenProcessPool as e:
            problem = f"its worker processes died ({e})"
            bar.reset()
    warnings.warn(f"enumerate_cells: {problem}; hashing in this one process instead (about a minute "
                  "for the whole space)", RuntimeWarning, stacklevel=4)
    return []


def _enumerate(progress: bool, workers: int, max_vertices: int = MAX_VERTICES) -> CellArray:
    """The unique cells of 2..``max_vertices`` vertices, sorted by hash (smaller ``max_vertices``: tests)."""
    mats7, ops7, hash_labels = [], [], []
    for n in range(2, max_vertices + 1):
        mats, interior = _unique_labelled(n)
        padded = np.zeros((len(mats), MAX_VERTICES, MAX_VERTICES), np.uint8)
        padded[:, :n, :n] = mats
        ops = np.full((len(mats), MAX_VERTICES), -1, np.int8)
        ops[:, 0], ops[:, n - 1] = OP_INDEX[INPUT], OP_INDEX[OUTPUT]
        ops[:, 1:n - 1] = _INTERIOR[interior]
        mats7.append(padded)
        ops7.append(ops)
        hash_labels.append((mats.astype(np.uint8),
                            np.asarray(HASH_LABEL, np.int64)[ops[:, :n].astype(np.int64)]))
    chunks = [(m[i:i + 4096], lab[i:i + 4096]) for m, lab in hash_labels for i in range(0, len(m), 4096)]
    total = sum(len(c[0]) for c in chunks)
    hashes = []
    with tqdm(total=total, desc="hashing NAS-Bench-101 cells", unit="cell", disable=not progress) as bar:
        if workers > 1:
            hashes = _hash_in_workers(chunks, workers, bar)
        if not hashes:
            for chunk in chunks:
                hashes.extend(_hash_chunk(chunk))
                bar.update(len(chunk[0]))
    cells = CellArray(np.concatenate(mats7), np.concatenate(ops7), hashes)
    order = np.argsort(cells.hashes, kind="stable")  # a canonical order: by module hash
    return cells[order]


def enumerate_cells(cache: bool = True, progress: bool = True, workers: int | None = None) -> CellArray:
    """Every unique NAS-Bench-101 cell (423,624), sorted by module hash.

    Generated here, not read from NAS-Bench-101: all pruned DAGs of 2..7
    vertices with at most 9 edges, every op labelling, one representative per
    isomorphism class, each with its official module hash. The first call takes
    about a minute (the md5 hashing dominates; it runs on ``workers`` processes,
    default all cores, or in this one, with a warning, where spawned workers
    cannot start, e.g. from a script on standard input) and caches the result in :func:`np_lib.storage.cache_dir`;
    later calls load the cache in well under two seconds. The cache is sealed
    (:func:`np_lib.storage.cache_problem`): a truncated or corrupt one is
    rebuilt with a warning, and a valid one is used even from a read-only
    cache directory.
    """
    path = cache_dir(writable=False) / _CACHE_NAME if cache else None
    if path is not None:
        problem = cache_problem(path, _CACHE_SOURCE)
        if problem is None:
            try:
                with np.load(path) as f:
                    return CellArray(f["matrices"], f["ops"], f["hashes"].astype("<U32"))
            except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:  # sealed yet unreadable
                problem = f"it cannot be read ({e})"
        if problem != "there is none":
            warnings.warn(f"the enumerated-space cache {path} is not usable ({problem}); "
                          "enumerating the space again (about a minute)", CacheRebuiltWarning, stacklevel=2)
    cells = _enumerate(progress, workers or os.cpu_count() or 1)
    if len(cells) != NUM_CELLS or len(np.unique(cells.hashes)) != NUM_CELLS:
        raise RuntimeError(f"enumeration produced {len(cells)} cells with {len(np.unique(cells.hashes))} "
                           f"distinct hashes; NAS-Bench-101 has {NUM_CELLS}")
    if path is not None:
        try:
            cache_dir()  # creates it, or says clearly that it is not writable
            with sealed_cache(path, _CACHE_SOURCE) as tmp:
                with open(tmp, "wb") as f:
                    np.savez(f, matrices=cells.matrices, ops=cells.ops, hashes=cells.hashes.astype("S32"))
        except PermissionError as e:
            warnings.warn(f"the enumerated space is not cached: {e}", CacheRebuiltWarning, stacklevel=2)
    return cells
