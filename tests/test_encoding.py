"""Graph encoding (Figure 2) and its generic half."""
import numpy as np
import pytest
import torch

from np_lib.encoding import GraphBatch, linear_graphs, one_hot_graphs
from np_lib.nasbench101.cell import Cell, CellArray
from np_lib.nasbench101.encoding import encode

FIG2 = Cell([[0, 1, 1, 0, 0],
             [0, 0, 0, 1, 0],
             [0, 0, 0, 1, 0],
             [0, 0, 0, 0, 1],
             [0, 0, 0, 0, 0]],
            ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3", "output"])


def test_cell_encoding_layout():
    g = encode([FIG2])
    assert g.adjacency.shape == (1, 7, 7) and g.features.shape == (1, 7, 5)
    assert g.mask[0].tolist() == [True] * 5 + [False] * 2
    # one-hot order [input, conv1x1, conv3x3, max-pool, output]: here the identity
    assert torch.equal(g.features[0, :5], torch.eye(5))
    assert g.features[0, 5:].abs().sum() == 0
    assert torch.equal(g.adjacency[0, :5, :5], torch.tensor(FIG2.matrix, dtype=torch.float32))


def test_propagation_matrices_hand_computed():
    a_fwd, a_bwd = encode([FIG2]).propagation_matrices()
    # node 0 has successors 1, 2 plus itself: each weighted 1/3
    assert torch.allclose(a_fwd[0, 0, :3], torch.full((3,), 1 / 3))
    # node 3 has predecessors 1, 2 plus itself in the transposed direction
    assert torch.allclose(a_bwd[0, 3, [1, 2, 3]], torch.full((3,), 1 / 3))
    # rows of real nodes sum to 1, padded rows and columns are zero
    assert torch.allclose(a_fwd[0, :5].sum(-1), torch.ones(5))
    assert a_fwd[0, 5:].abs().sum() == 0 and a_bwd[0, :, 5:].abs().sum() == 0


def test_relabelled_cell_encodes_to_a_permutation():
    order = [0, 2, 1, 3, 4]
    g, h = encode([FIG2]), encode([FIG2.relabel(order)])
    assert torch.equal(h.features[0, :5], g.features[0, order])
    assert torch.equal(h.adjacency[0, :5, :5], g.adjacency[0][order][:, order])


def test_pyg_round_trip():
    cells = CellArray.from_cells([FIG2, Cell([[0, 1], [0, 0]], ["input", "output"])])
    g = encode(cells)
    batch = g.to_pyg()
    assert batch.num_graphs == 2 and batch.x.shape == (7, 5) and batch.edge_index.shape == (2, 6)
    back = GraphBatch.from_pyg(batch, num_nodes=7)
    assert torch.equal(back.adjacency, g.adjacency) and torch.equal(back.features, g.features)
    assert torch.equal(back.mask, g.mask)


def test_linear_graphs():
    g = linear_graphs(np.array([[0, 6, 3]]), num_classes=7)
    assert g.adjacency[0].tolist() == [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    assert g.features[0].argmax(-1).tolist() == [0, 6, 3] and g.mask.all()
    with pytest.raises(ValueError, match="no padding"):
        linear_graphs(np.array([[0, -1]]), 7)


def test_bad_inputs():
    with pytest.raises(ValueError, match="labels must lie"):
        one_hot_graphs(np.zeros((1, 2, 2)), np.array([[0, 5]]), 5)
    with pytest.raises(ValueError, match="no edges"):
        one_hot_graphs(np.array([[[0, 1], [0, 0]]]), np.array([[0, -1]]), 5)
    with pytest.raises(TypeError):
        encode(["not a cell"])


def test_sample_pool_encodes(sample_table):
    df = sample_table
    cells = CellArray.from_strings(df.module_adjacency, df.module_operations, df.module_hash)
    g = encode(cells)
    assert len(g) == 20_001
    assert torch.equal(g.mask.sum(1), torch.from_numpy(cells.num_vertices.astype(np.int64)))
    assert torch.equal(g.features.sum((1, 2)), g.mask.sum(1).float())
