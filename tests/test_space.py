"""Sampling, mutation and enumeration of the NAS-Bench-101 space."""
import itertools

import numpy as np
import pytest

from np_lib.nasbench101.cell import INTERIOR_OPS, Cell, InvalidCellError
from np_lib.nasbench101.space import (NUM_CELLS, _unique_labelled, enumerate_cells, mutate, random_cell,
                                      sample_cells)


def test_random_cell_is_valid_and_seeded():
    a = [random_cell(np.random.default_rng(3)).hash for _ in range(3)]
    assert len(set(a)) == 1
    rng = np.random.default_rng(0)
    cells = [random_cell(rng) for _ in range(50)]
    assert len({c.hash for c in cells}) > 25  # biased towards small cells, so some repeats
    assert all(c.original_matrix.shape == (7, 7) and c.num_edges <= 9 for c in cells)


def test_sample_cells_uniform_without_replacement():
    class Pool:
        def __len__(self):
            return 100
    idx = sample_cells(Pool(), 100, seed=1)
    assert sorted(idx) == list(range(100))
    assert np.array_equal(sample_cells(Pool(), 10, 5), sample_cells(Pool(), 10, 5))
    with pytest.raises(ValueError, match="cannot draw"):
        sample_cells(Pool(), 101, 0)


def test_mutation_is_seeded_valid_and_local():
    parent = random_cell(7)
    children = [mutate(parent, seed) for seed in range(200)]
    assert mutate(parent, 11).hash == children[11].hash
    assert all(isinstance(c, Cell) for c in children)
    changed = sum(c.hash != parent.hash for c in children)
    assert 0.3 * len(children) < changed < len(children)  # mostly changes, sometimes a no-op
    # a higher rate changes more often
    wild = sum(mutate(parent, s, mutation_rate=5.0).hash != parent.hash for s in range(200))
    assert wild > changed
    with pytest.raises(ValueError):
        mutate(parent, 0, mutation_rate=0)


def test_mutation_of_a_small_pruned_cell_reaches_7_vertices():
    small = Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"])
    sizes = {mutate(small, s, mutation_rate=3.0).num_vertices for s in range(300)}
    assert max(sizes) >= 5 and min(sizes) <= 3


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_canonical_enumeration_matches_brute_force(n):
    """Brute force: every n-vertex matrix x every labelling, pruned and hashed."""
    iu = np.triu_indices(n, 1)
    brute = set()
    for bits in itertools.product((0, 1), repeat=len(iu[0])):
        m = np.zeros((n, n), int)
        m[iu] = bits
        for labels in itertools.product(INTERIOR_OPS, repeat=n - 2):
            try:
                cell = Cell(m, ["input", *labels, "output"])
            except InvalidCellError:
                continue
            if cell.num_vertices == n:
                brute.add(cell.hash)
    mats, labels = _unique_labelled(n)
    fast = {Cell(m, ["input", *[INTERIOR_OPS[i] for i in lab], "output"]).hash for m, lab in zip(mats, labels)}
    assert len(mats) == len(fast) == len(brute)
    assert fast == brute


def test_enumerate_cells_is_the_whole_space(sample_table):
    cells = enumerate_cells()
    assert len(cells) == NUM_CELLS == 423_624
    assert len(np.unique(cells.hashes)) == NUM_CELLS
    assert set(sample_table.module_hash) <= set(cells.hashes.tolist())
    # spot check: stored hashes are the official ones and stored graphs are already pruned
    for i in np.random.default_rng(0).choice(len(cells), 300, replace=False):
        c = cells[int(i)]
        rebuilt = Cell(c.matrix, c.ops)
        assert rebuilt.hash == cells.hashes[i] and rebuilt.num_vertices == c.num_vertices
    # the sample is a uniform 4.7% draw, so vertex-count shares agree with the whole space
    share7 = (cells.num_vertices == 7).mean()
    assert abs(share7 - 16_947 / 20_001) < 0.01
    again = enumerate_cells()  # from the cache
    assert np.array_equal(again.hashes, cells.hashes) and np.array_equal(again.matrices, cells.matrices)
