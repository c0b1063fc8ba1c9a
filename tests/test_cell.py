"""Cell validation, pruning and the official NAS-Bench-101 hash."""
import itertools

import numpy as np
import pytest

from np_lib.nasbench101.cell import (CONV1X1, CONV3X3, INPUT, MAXPOOL3X3, OUTPUT, Cell, CellArray,
                                     InvalidCellError)

# The example from NAS-Bench-101's README (an Inception-like module).
INCEPTION = ([[0, 1, 1, 1, 0, 1, 0],
              [0, 0, 0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0, 0, 1],
              [0, 0, 0, 0, 1, 0, 0],
              [0, 0, 0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0, 0, 0]],
             [INPUT, CONV1X1, CONV3X3, CONV3X3, CONV3X3, MAXPOOL3X3, OUTPUT])


def test_valid_cell_properties():
    cell = Cell(*INCEPTION)
    assert cell.num_vertices == 7 and cell.num_edges == 9
    assert cell.op_names == INCEPTION[1]
    assert len(cell.hash) == 32 and int(cell.hash, 16) >= 0


@pytest.mark.parametrize("matrix, ops, message", [
    ([[0, 1], [0, 0], [0, 0]], [INPUT, OUTPUT], "square"),
    ([[0, 2], [0, 0]], [INPUT, OUTPUT], "0 or 1"),
    ([[0, 1], [1, 0]], [INPUT, OUTPUT], "upper-triangular"),
    ([[1, 1], [0, 0]], [INPUT, OUTPUT], "upper-triangular"),
    (np.triu(np.ones((8, 8), int), 1), [INPUT] + [CONV3X3] * 6 + [OUTPUT], "at most 7"),
    (np.triu(np.ones((7, 7), int), 1), [INPUT] + [CONV3X3] * 5 + [OUTPUT], "edges"),
    ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [INPUT, "conv5x5", OUTPUT], "unknown op"),
    ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [CONV3X3, CONV3X3, OUTPUT], "first op"),
    ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [INPUT, CONV3X3, CONV3X3], "last"),
    ([[0, 1, 0], [0, 0, 0], [0, 0, 0]], [INPUT, CONV3X3, OUTPUT], "no path"),
    ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [INPUT, CONV3X3], "2 ops for 3"),
])
def test_invalid_cells_name_the_problem(matrix, ops, message):
    with pytest.raises(InvalidCellError, match=message):
        Cell(matrix, ops)
    assert issubclass(InvalidCellError, ValueError)


def test_pruning_removes_dangling_vertices():
    # vertex 2 has no path to the output; vertex 3 is unreachable from the input
    matrix = [[0, 1, 1, 0, 0],
              [0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0],
              [0, 0, 0, 0, 1],
              [0, 0, 0, 0, 0]]
    cell = Cell(matrix, [INPUT, CONV1X1, CONV3X3, MAXPOOL3X3, OUTPUT])
    assert cell.num_vertices == 3
    assert cell.matrix.tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert cell.op_names == [INPUT, CONV1X1, OUTPUT]
    assert cell.original_matrix.shape == (5, 5)
    assert cell == Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [INPUT, CONV1X1, OUTPUT])


def test_edge_limit_applies_after_pruning():
    # 10 edges in the original, but pruning a dead-end vertex leaves 9: valid, as in NASBench.is_valid
    m = np.zeros((7, 7), int)
    for s, d in [(0, 1), (0, 2), (0, 3), (1, 6), (2, 6), (3, 6), (1, 2), (2, 3), (4, 6), (0, 5)]:
        m[s, d] = 1
    cell = Cell(m, [INPUT] + [CONV3X3] * 5 + [OUTPUT])
    assert cell.num_edges <= 9 and cell.num_vertices == 5


def test_hash_invariant_to_interior_relabelling():
    cell = Cell(*INCEPTION)
    orders = cell.vertex_orders()
    # brute force: every interior permutation that keeps the matrix upper-triangular
    brute = [[0, *p, 6] for p in itertools.permutations(range(1, 6))
             if not np.tril(cell.matrix[np.ix_([0, *p, 6], [0, *p, 6])]).any()]
    assert orders == brute and orders[0] == list(range(7)) and len(orders) > 1
    assert {cell.relabel(o).hash for o in orders} == {cell.hash}


def test_hash_distinguishes_ops_and_edges():
    cell = Cell(*INCEPTION)
    ops = list(INCEPTION[1])
    ops[1] = MAXPOOL3X3
    assert Cell(INCEPTION[0], ops).hash != cell.hash
    m = np.array(INCEPTION[0])
    m[0, 1] = 0
    assert Cell(m, INCEPTION[1]).hash != cell.hash


def test_hash_matches_every_sample_row(sample_table):
    df = sample_table
    cells = CellArray.from_strings(df.module_adjacency, df.module_operations, df.module_hash)
    mismatches = [i for i in range(len(cells))
                  if Cell(cells[i].matrix, cells[i].ops).hash != df.module_hash.iat[i]]
    assert len(df) == 20_001
    assert mismatches == []


def test_cellarray_round_trip_and_errors():
    cells = [Cell(*INCEPTION), Cell([[0, 1], [0, 0]], [INPUT, OUTPUT])]
    arr = CellArray.from_cells(cells)
    assert list(arr.num_vertices) == [7, 2]
    assert arr[1] == cells[1] and arr[0].op_names == INCEPTION[1]
    assert arr.index(cells[1].hash) == 1
    assert list(arr.index([c.hash for c in cells])) == [0, 1]
    with pytest.raises(KeyError, match="not in this pool"):
        arr.index("0" * 32)
    text = CellArray.from_strings(["0100", "001001000"], ["input,output", "input,maxpool3x3,output"], ["a", "b"])
    assert text[1].op_names == [INPUT, MAXPOOL3X3, OUTPUT]
    with pytest.raises(ValueError, match="not an n x n"):
        CellArray.from_strings(["010"], ["input,output"], ["a"])
    with pytest.raises(ValueError, match="unknown op"):
        CellArray.from_strings(["0100"], ["input,conv9x9"], ["a"])
    with pytest.raises(ValueError, match="ops for a 2-vertex"):
        CellArray.from_strings(["0100"], ["input,conv3x3-bn-relu,output"], ["a"])
