"""The network of section 3.2: one layer by hand, masking, pooling, sizes."""
import numpy as np
import pytest
import torch

from np_lib.encoding import linear_graphs, one_hot_graphs
from np_lib.gcn import GCN, BiGraphConv, DropoutMasks, GraphInputs, count_parameters


def chain_graph(num_nodes: int, pooling: str = "slots", length: int = 3) -> GraphInputs:
    """0 -> 1 -> 2 with one-hot features I_3, padded with zero nodes up to ``num_nodes``
    (``length`` 2: 0 -> 1 only)."""
    adjacency = np.zeros((1, num_nodes, num_nodes), np.uint8)
    adjacency[0, 0, 1] = 1
    if length == 3:
        adjacency[0, 1, 2] = 1
    labels = np.full((1, num_nodes), -1)
    labels[0, :length] = [0, 1, 2][:length]
    return GraphInputs.from_graphs(one_hot_graphs(adjacency, labels, 3), pooling)


def test_layer_matches_hand_computation():
    # Â = D⁻¹(A+I) = [[.5 .5 0] [0 .5 .5] [0 0 1]],  Ǎ = D'⁻¹(Aᵀ+I) = [[1 0 0] [.5 .5 0] [0 .5 .5]].
    # With V_0 = I: ReLU(Â W⁺) = [[1.5 0] [1 .5] [0 1]], ReLU(Ǎ W⁻) = [[0 1] [.5 1] [0 .5]].
    layer = BiGraphConv(3, 2)
    with torch.no_grad():
        layer.weight[0] = torch.tensor([[1.0, -1.0], [2.0, 0.0], [0.0, 1.0]])  # W⁺
        layer.weight[1] = torch.tensor([[0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]])  # W⁻
    x = chain_graph(num_nodes=4)  # one padded node
    out = layer(x.features, x.propagation)
    expected = torch.tensor([[[0.75, 0.5], [0.75, 0.75], [0.0, 0.75], [0.0, 0.0]]])
    torch.testing.assert_close(out, expected)


def test_padding_does_not_change_the_mean_pooled_output():
    torch.manual_seed(0)
    net = GCN(3, D=8).eval()
    small, padded = chain_graph(3, "mean"), chain_graph(7, "mean")
    torch.testing.assert_close(net(small), net(padded))


def test_padded_nodes_stay_zero_in_every_layer():
    # What "slots" pooling relies on: padding adds zeros to the sum, only the divisor V counts it.
    torch.manual_seed(0)
    net = GCN(3, D=8).eval()
    x = chain_graph(7)
    v = x.features
    for conv in net.convs:
        v = conv(v, x.propagation)
    assert v[0, 3:].abs().max() == 0 and v[0, :3].abs().max() > 0


def test_mean_pooling_weighs_real_nodes_equally():
    x = chain_graph(5, "mean")
    torch.testing.assert_close(x.pooling, torch.tensor([[[1 / 3, 1 / 3, 1 / 3, 0.0, 0.0]]]))


def test_slot_pooling_divides_by_the_number_of_slots():
    x = chain_graph(5)
    torch.testing.assert_close(x.pooling, torch.tensor([[[1 / 5, 1 / 5, 1 / 5, 0.0, 0.0]]]))


def test_slot_pooling_tells_a_small_graph_from_a_larger_one_with_the_same_mean():
    # Issue 15: averaged over real nodes, the 2-node graph 0 -> 0' and the 4-node graph
    # 0 -> 0' , 0 -> 0' (two copies side by side, same node states) pool to the same vector, so
    # no FC layer can tell them apart; over the 7 slots the small one's is half the larger one's.
    adjacency = np.zeros((2, 7, 7), np.uint8)
    adjacency[0, 0, 1] = adjacency[1, 0, 1] = adjacency[1, 2, 3] = 1
    labels = np.full((2, 7), -1)
    labels[0, :2] = [0, 1]
    labels[1, :4] = [0, 1, 0, 1]
    graphs = one_hot_graphs(adjacency, labels, 3)
    torch.manual_seed(0)
    net = GCN(3, D=8).eval()

    def pooled(pooling):
        x = GraphInputs.from_graphs(graphs, pooling)
        v = x.features
        for conv in net.convs:
            v = conv(v, x.propagation)
        return (x.pooling @ v).squeeze(1)

    mean, slots = pooled("mean"), pooled("slots")
    assert mean.abs().max() > 0
    torch.testing.assert_close(mean[0], mean[1])
    torch.testing.assert_close(slots[0], slots[1] / 2)
    torch.testing.assert_close(slots[1], mean[1] * 4 / 7)


def test_chains_pool_the_same_either_way():
    # No padding, so the chain spaces (and np_lib.chain_fastpath's mean over L) are unaffected.
    graphs = linear_graphs(np.random.default_rng(0).integers(0, 4, size=(3, 6)), 4)
    torch.testing.assert_close(GraphInputs.from_graphs(graphs, "slots").pooling,
                               GraphInputs.from_graphs(graphs, "mean").pooling)


def test_unknown_pooling_is_refused():
    with pytest.raises(ValueError, match="pooling must be one of"):
        chain_graph(3, "max")


def test_a_graph_does_not_see_the_rest_of_its_batch():
    torch.manual_seed(0)
    graphs = linear_graphs(np.random.default_rng(0).integers(0, 4, size=(6, 5)), 4)
    net = GCN(4, D=8).eval()
    x = GraphInputs.from_graphs(graphs)
    together = net(x)
    alone = torch.cat([net(x.index(slice(i, i + 1))) for i in range(len(x))])
    torch.testing.assert_close(together, alone)


@pytest.mark.parametrize("num_features, D, num_layers, fc_sizes", [
    (5, 144, 3, (128,)),        # NAS-Bench-101, section 4.1
    (7, 96, 18, (512, 128)),    # ProxylessNAS, section 4.2
    (5, 4, 1, ()),              # no hidden FC layer
])
def test_count_parameters(num_features, D, num_layers, fc_sizes):
    net = GCN(num_features, D, num_layers, fc_sizes)
    assert count_parameters(num_features, D, num_layers, fc_sizes) == sum(p.numel() for p in net.parameters())


def test_proxylessnas_setting_runs_on_chain_graphs():
    graphs = linear_graphs(np.random.default_rng(0).integers(0, 7, size=(4, 21)), 7)
    net = GCN(7, D=96, num_layers=18, fc_sizes=(512, 128))
    assert net(GraphInputs.from_graphs(graphs)).shape == (4,)


def _paired_difference(net: GCN, x: GraphInputs) -> torch.Tensor:
    """The graph stack's output read as looks-linear pairs: ReLU(z) - ReLU(-z) = z."""
    v = x.features
    for conv in net.convs:
        v = conv(v, x.propagation)
    h = net.D // 2
    return v[..., :h] - v[..., h:2 * h]


def test_looks_linear_stack_is_linear_at_initialisation():
    # Balduzzi et al. (2017): with mirrored weights every layer passes z on as (ReLU(z), ReLU(-z)),
    # so the 18-layer stack is a linear map of real-valued node features; Glorot's is not.
    graphs = linear_graphs(np.random.default_rng(0).integers(0, 7, size=(3, 21)), 7)
    x = GraphInputs.from_graphs(graphs)
    gen = torch.Generator().manual_seed(1)
    a, b = torch.randn(x.features.shape, generator=gen), torch.randn(x.features.shape, generator=gen)

    def with_features(f):
        return GraphInputs(f, x.propagation, x.pooling)

    errors = {}
    for init in ("looks_linear", "glorot"):
        torch.manual_seed(0)
        net = GCN(7, D=16, num_layers=18, fc_sizes=(8,), init=init)
        with torch.no_grad():
            lhs = _paired_difference(net, with_features(a + 2 * b))
            rhs = _paired_difference(net, with_features(a)) + 2 * _paired_difference(net, with_features(b))
        errors[init] = float((lhs - rhs).abs().max() / rhs.abs().max())
    assert errors["looks_linear"] < 1e-4
    assert errors["glorot"] > 0.1


def test_looks_linear_weights_are_mirrored():
    torch.manual_seed(0)
    first, later = BiGraphConv(5, 8, init="looks_linear"), BiGraphConv(8, 8, init="looks_linear", first=False)
    for w in first.weight:
        torch.testing.assert_close(w[:, 4:], -w[:, :4])
    for w in later.weight:
        torch.testing.assert_close(w[:4, :4], w[4:, 4:])
        torch.testing.assert_close(w[:4, 4:], -w[:4, :4])
        torch.testing.assert_close(w[4:, :4], -w[:4, :4])
    # He-normal on the 4 independent inputs of a paired layer: std sqrt(2 / 4)
    torch.testing.assert_close(later.weight[0, :4, :4].std(), torch.tensor((2 / 4) ** 0.5), rtol=0.5, atol=0)
    with pytest.raises(ValueError, match="init must be one of"):
        BiGraphConv(5, 8, init="orthogonal")
    with pytest.raises(ValueError, match="D must be even"):
        GCN(5, D=17, init="looks_linear")


def test_dropout_masks():
    net = GCN(5, D=16, num_layers=2, fc_sizes=(32,))
    masks = DropoutMasks.draw(net, 500, 7, 0.1, np.random.default_rng(0))
    assert masks.graph.shape == (2, 500, 7, 16) and masks.fc[0].shape == (500, 32)
    values = torch.unique(masks.graph)
    assert len(values) == 2 and values[0] == 0
    assert masks.graph.eq(0).float().mean().item() == pytest.approx(0.1, abs=0.005)
    assert masks.graph.mean().item() == pytest.approx(1.0, abs=0.01)  # inverted dropout keeps the mean
    again = DropoutMasks.draw(net, 500, 7, 0.1, np.random.default_rng(0))
    assert torch.equal(masks.graph, again.graph)
