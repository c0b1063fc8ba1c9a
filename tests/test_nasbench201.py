"""NAS-Bench-201's space: arch strings, connectivity, sampling, mutation, and the graph the GCN reads.

No data needed; the benchmark's files are tested in test_nasbench201_benchmark.py.
"""
from __future__ import annotations

import numpy as np
import pytest

import np_lib.nasbench201 as nb
from np_lib.nasbench201.cell import EDGES, NUM_EDGES

RESNET = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"


# --- cells and strings ---------------------------------------------------------------------------

def test_parse_and_format_round_trip_every_cell():
    cells = nb.all_cells()
    assert cells.shape == (15_625, 6) and len(np.unique(nb.to_code(cells))) == 15_625
    strings = nb.format_many(cells)
    assert len(set(strings)) == 15_625
    np.testing.assert_array_equal(nb.parse_many(strings), cells)
    np.testing.assert_array_equal(nb.from_code(nb.to_code(cells)), cells)
    assert nb.format_cell(nb.parse(RESNET)) == RESNET
    np.testing.assert_array_equal(nb.parse(RESNET), [3, 0, 3, 1, 0, 1])


@pytest.mark.parametrize("string, message", [
    ("", "expected 3 nodes"),
    ("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|", "expected 3 nodes"),
    ("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|conv~2|", "unknown operation 'conv'"),
    ("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|", "node 3 must have 3"),
    ("|nor_conv_3x3~0|+|none~1|nor_conv_3x3~0|+|skip_connect~0|none~1|skip_connect~2|", "must come from node 0"),
    ("nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|", "start and end with '|'"),
    (RESNET + " ", "must start and end"),
    (RESNET.upper(), "unknown operation"),
])
def test_malformed_strings_are_rejected_with_the_reason(string, message):
    with pytest.raises(nb.InvalidArchString, match=message):
        nb.parse(string)


def test_parse_many_names_the_bad_string_and_non_strings_are_type_errors():
    with pytest.raises(nb.InvalidArchString, match="string 1"):
        nb.parse_many([RESNET, "|none~0|"])
    with pytest.raises(TypeError):
        nb.parse(3)


def test_bad_op_codes_are_rejected():
    with pytest.raises(ValueError, match="op codes must lie in"):
        nb.format_cell([0, 1, 2, 3, 4, 5])
    with pytest.raises(ValueError, match="rows of 6"):
        nb.encode(np.zeros((2, 5), int))
    with pytest.raises(TypeError):
        nb.to_code(np.zeros(6, float))


def test_connectivity():
    assert nb.is_connected(nb.parse(RESNET)).tolist() == [True]
    # node 3 fed only by node 1, which nothing feeds: no path
    assert nb.is_connected(nb.parse("|none~0|+|none~0|none~1|+|none~0|nor_conv_3x3~1|none~2|")).tolist() == [False]
    # the only path is 0 -> 1 -> 2 -> 3
    assert nb.is_connected(nb.parse("|skip_connect~0|+|none~0|skip_connect~1|+|none~0|none~1|skip_connect~2|"))[0]
    assert (~nb.is_connected(nb.all_cells())).sum() == 341  # NAS-Bench-201's count (data README)


# --- sampling and mutation -----------------------------------------------------------------------

def test_random_cells_are_seeded_and_uniform():
    a, b = nb.random_cells(156_250, 7), nb.random_cells(156_250, 7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, nb.random_cells(156_250, 8))
    # every cell ~10 times: a chi-square test of uniformity over the 15,625 (df 15,624, sd ~177)
    counts = np.bincount(nb.to_code(a), minlength=15_625)
    chi2 = ((counts - 10.0) ** 2 / 10.0).sum()
    assert abs(chi2 - 15_624) < 5 * np.sqrt(2 * 15_624)
    # and per edge, each op a fifth (sd of a share ~0.001)
    shares = np.stack([np.bincount(a[:, e], minlength=5) for e in range(NUM_EDGES)]) / len(a)
    np.testing.assert_allclose(shares, 0.2, atol=0.005)


def test_sample_indices_are_distinct_and_seeded():
    idx = nb.sample_indices(15_625, 0)
    assert sorted(idx) == list(range(15_625))
    np.testing.assert_array_equal(nb.sample_indices(100, 3), nb.sample_indices(100, 3))
    with pytest.raises(ValueError, match="distinct"):
        nb.sample_indices(15_626, 0)


def test_mutation_changes_exactly_one_edge_as_nas_bench_201_does():
    parents = nb.random_cells(90_000, 0)
    children = nb.mutate(parents, 1)
    changed = children != parents
    assert (changed.sum(axis=1) == 1).all()          # one edge, always to a different op
    np.testing.assert_array_equal(nb.mutate(parents, 1), children)
    # mutate_arch_func picks a node (1/3 each), then one of its edges: 1/3, 1/6, 1/6, 1/9, 1/9, 1/9
    edge_share = changed.mean(axis=0)
    np.testing.assert_allclose(edge_share, [1 / 3, 1 / 6, 1 / 6, 1 / 9, 1 / 9, 1 / 9], atol=0.006)
    # the new op is uniform over the 4 others: (new - old) mod 5 in 1..4 equally often
    rows, edges = np.nonzero(changed)
    shift = (children[rows, edges].astype(int) - parents[rows, edges]) % 5
    np.testing.assert_allclose(np.bincount(shift, minlength=5)[1:] / len(shift), 0.25, atol=0.006)
    one = nb.mutate(nb.parse(RESNET), 5)
    assert one.shape == (6,) and (one != nb.parse(RESNET)).sum() == 1


# --- the graph the GCN reads ---------------------------------------------------------------------

def _graph(string):
    adjacency, labels = nb.graphs(nb.parse(string))
    n = int((labels[0] >= 0).sum())
    assert not adjacency[0, n:].any() and not adjacency[0, :, n:].any()  # padding has no edges
    return [nb.GRAPH_OPS[k] for k in labels[0, :n]], sorted(map(tuple, np.argwhere(adjacency[0, :n, :n])))


def test_resnet_cell_graph_drops_none_edges():
    # live edges e0 (0->1 conv3x3), e2 (1->2 conv3x3), e3 (0->3 skip), e5 (2->3 skip)
    ops, edges = _graph(RESNET)
    assert ops == ["input", "nor_conv_3x3", "nor_conv_3x3", "skip_connect", "skip_connect", "output"]
    assert edges == [(0, 1), (0, 3), (1, 2), (2, 4), (3, 5), (4, 5)]


def test_nodes_cut_off_from_the_path_are_removed():
    # e0 conv3x3 leads nowhere (e2, e4 are none); e5 conv1x1 gets nothing (e1, e2 are none): only 0 -skip-> 3
    ops, edges = _graph("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_1x1~2|")
    assert ops == ["input", "skip_connect", "output"]
    assert edges == [(0, 1), (1, 2)]


def test_full_cell_graph_is_the_eight_node_template():
    ops, edges = _graph("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_3x3~0|skip_connect~1|"
                        "avg_pool_3x3~2|")
    assert ops == ["input", "avg_pool_3x3", "nor_conv_1x1", "skip_connect", "nor_conv_3x3", "skip_connect",
                   "avg_pool_3x3", "output"]
    # node v >= 1 is edge v - 1; edge (j -> i) feeds every edge out of i, or the output when i = 3
    expected = [(0, 1), (0, 2), (0, 4)]
    for e, (_, target) in enumerate(EDGES):
        expected += [(1 + e, 7)] if target == 3 else [(1 + e, 1 + f) for f, (s, _) in enumerate(EDGES) if s == target]
    assert edges == sorted(expected)


@pytest.mark.parametrize("string", ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                                    "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|none~2|"])
def test_disconnected_cells_are_input_and_output_without_an_edge(string):
    assert _graph(string) == (["input", "output"], [])


def test_encode_is_the_shared_graph_batch_for_the_whole_space():
    cells = nb.all_cells()
    graphs = nb.encode(cells)
    assert (len(graphs), graphs.num_nodes, graphs.num_features) == (15_625, 8, len(nb.GRAPH_OPS))
    sizes = graphs.mask.sum(dim=1).numpy()
    connected = nb.is_connected(cells)
    assert (sizes[~connected] == 2).all() and (sizes[connected] >= 3).all()
    # an edge-less graph only for disconnected cells
    has_edges = graphs.adjacency.sum(dim=(1, 2)).numpy() > 0
    np.testing.assert_array_equal(has_edges, connected)
    # every node row is one-hot, padding all-zero
    np.testing.assert_array_equal(graphs.features.sum(dim=2).numpy(), graphs.mask.numpy().astype(np.float32))


def test_draw_the_cell_and_its_graph():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2)
    nb.draw_cell(nb.parse(RESNET), ax=left)
    nb.draw_graph(nb.parse(RESNET), ax=right)
    assert len(left.patches) == 6 and left.get_title() == RESNET   # every edge, `none` ones dashed
    assert len(right.patches) == 6                                  # the graph's 6 edges
    assert sorted(t.get_text() for t in right.texts)[:2] == ["0\ninput", "1\nconv3x3"]
    plt.close(fig)
