"""The hand-written training step (np_lib.training) against autograd and torch.optim.Adam."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from np_lib.encoding import linear_graphs, one_hot_graphs
from np_lib.gcn import GCN, DropoutMasks, GraphInputs
from np_lib.training import _FlatParameters, _backward, _forward, subnormals_flushed, train

SETTINGS = {
    "nasbench101": dict(D=16, num_layers=3, fc_sizes=(8,)),
    "deep_looks_linear": dict(D=12, num_layers=5, fc_sizes=(10, 6), init="looks_linear"),
    "one_layer_no_fc": dict(D=8, num_layers=1, fc_sizes=()),
}


def random_graphs(n: int, seed: int, pooling: str = "slots") -> GraphInputs:
    """Random DAGs of 3 to 7 nodes (zero-padded to 7) with 4 one-hot node types."""
    rng = np.random.default_rng(seed)
    adjacency = np.triu(rng.integers(0, 2, (n, 7, 7)), 1).astype(np.uint8)
    sizes = rng.integers(3, 8, n)
    labels = rng.integers(0, 4, (n, 7))
    for i, size in enumerate(sizes):
        adjacency[i, size:] = adjacency[i, :, size:] = 0
        labels[i, size:] = -1
    return GraphInputs.from_graphs(one_hot_graphs(adjacency, labels, 4), pooling)


def mse_percent(z):
    return 100.0 * (0.1 + 0.9 * torch.sigmoid(z))


def mse_percent_grad(z, t):
    s = 1 / (1 + np.exp(-z))
    return (2.0 / len(z)) * (100.0 * (0.1 + 0.9 * s) - t) * 90.0 * s * (1 - s)


def forward_by_hand(net, x, masks):
    """np_lib.training's forward pass of ``net`` on ``x`` with dropout ``masks`` (or None):
    the flat parameters, the outputs and the cache the backward pass reads."""
    params = _FlatParameters(net)
    half = np.float32(0.5)
    graph_scale = masks.graph.numpy() * half if masks is not None else [half] * len(net.convs)
    fc_scale = [m.numpy() for m in masks.fc] if masks is not None else None
    propagation = x.propagation.numpy()
    z, cache = _forward(params, propagation, propagation @ x.features.numpy(), x.pooling.numpy()[:, 0],
                        graph_scale, fc_scale)
    return params, z, cache


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("dropout", [0.0, 0.3])
@pytest.mark.parametrize("pooling", ["slots", "mean"])
def test_gradients_equal_autograd(setting, dropout, pooling):
    torch.manual_seed(1)
    net = GCN(4, **SETTINGS[setting])
    x, target = random_graphs(13, seed=2, pooling=pooling), np.linspace(80, 95, 13, dtype=np.float32)
    rng = np.random.default_rng(3)
    masks = DropoutMasks.draw(net, 13, 7, dropout, rng) if dropout else None

    loss = F.mse_loss(mse_percent(net(x, masks)), torch.from_numpy(target))
    loss.backward()

    params, z, cache = forward_by_hand(net, x, masks)
    torch.testing.assert_close(torch.from_numpy(z), net(x, masks).detach(), rtol=1e-5, atol=1e-5)
    _backward(params, cache, mse_percent_grad(z, target).astype(np.float32))
    ours = torch.from_numpy(params.grad.numpy())
    autograd = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
    assert autograd.abs().max() > 1e-3  # a gradient worth comparing
    torch.testing.assert_close(ours, autograd, rtol=1e-4, atol=1e-6 * autograd.abs().max().item())


def mse_loss(out, target):
    return F.mse_loss(mse_percent(out), target)


def reference_train(net, x, target, rng, *, epochs, batch_size, lr, weight_decay, dropout, loss=mse_loss):
    """The same loop through autograd, torch.optim.Adam and CosineAnnealingLR."""
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    target = torch.from_numpy(target)
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(x)))
        xe, te = x.index(order), target[order]
        masks = DropoutMasks.draw(net, len(x), x.features.shape[1], dropout, rng) if dropout else None
        for start in range(0, len(x), batch_size):
            step = slice(start, start + batch_size)
            opt.zero_grad()
            step_masks = masks.index(step) if masks is not None else None
            loss(net(xe.index(step), step_masks), te[step]).backward()
            opt.step()
        schedule.step()


def train_both(make_net, x, target, seed, loss_grad=mse_percent_grad, loss=mse_loss, **kwargs):
    """The same initial network trained by np_lib.training (``loss_grad``) and by
    reference_train (``loss``, through autograd)."""
    ours, reference = make_net(), make_net()
    train(ours, x, target, loss_grad, np.random.default_rng(seed), **kwargs)
    reference_train(reference, x, target, np.random.default_rng(seed), loss=loss, **kwargs)
    return ours, reference


def flat(net):
    return torch.nn.utils.parameters_to_vector(net.parameters()).detach()


@pytest.mark.parametrize("dropout, pooling", [(0.0, "slots"), (0.1, "slots"), (0.1, "mean")])
def test_training_equals_autograd_adam_and_cosine_schedule(dropout, pooling):
    x, target = random_graphs(23, seed=4, pooling=pooling), np.linspace(80, 95, 23, dtype=np.float32)

    def make_net():
        torch.manual_seed(5)
        return GCN(4, D=16, num_layers=3, fc_sizes=(8,))

    ours, reference = train_both(make_net, x, target, seed=6, epochs=4, batch_size=5, lr=3e-3,
                                 weight_decay=1e-3, dropout=dropout)
    assert (flat(ours) - flat(make_net())).abs().max() > 1e-3  # the weights moved
    torch.testing.assert_close(flat(ours), flat(reference), rtol=1e-4, atol=1e-5)


def two_output_loss(z, target):
    """A logit's mean binary cross-entropy plus an accuracy's MSE in percent (the two-stage
    predictor's first stage with its accuracy head, np_lib.predictor.NeuralClassifier)."""
    return (F.binary_cross_entropy_with_logits(z[:, 0], target[:, 0])
            + F.mse_loss(mse_percent(z[:, 1]), target[:, 1]))


def two_output_grad(z, t):
    bce = (1 / (1 + np.exp(-z[:, 0])) - t[:, 0]) / len(z)
    return np.stack([bce, mse_percent_grad(z[:, 1], t[:, 1])], axis=1).astype(np.float32)


def two_output_target(n):
    accuracy = np.linspace(80, 95, n, dtype=np.float32)
    return np.stack([(accuracy > 88).astype(np.float32), accuracy], axis=1)


@pytest.mark.parametrize("dropout", [0.0, 0.3])
def test_two_outputs_gradients_equal_autograd(dropout):
    torch.manual_seed(1)
    net = GCN(4, D=16, num_layers=3, fc_sizes=(8,), outputs=2, output_bias=[0.5, 1.5])
    torch.testing.assert_close(net.out.bias.detach(), torch.tensor([0.5, 1.5]))
    x, target = random_graphs(13, seed=2), two_output_target(13)
    masks = DropoutMasks.draw(net, 13, 7, dropout, np.random.default_rng(3)) if dropout else None
    out = net(x, masks)
    assert out.shape == (13, 2)
    two_output_loss(out, torch.from_numpy(target)).backward()

    params, z, cache = forward_by_hand(net, x, masks)
    torch.testing.assert_close(torch.from_numpy(z), out.detach(), rtol=1e-5, atol=1e-5)
    _backward(params, cache, two_output_grad(z, target))
    ours = torch.from_numpy(params.grad.numpy())
    autograd = torch.cat([p.grad.reshape(-1) for p in net.parameters()])
    assert autograd.abs().max() > 1e-3
    torch.testing.assert_close(ours, autograd, rtol=1e-4, atol=1e-6 * autograd.abs().max().item())


def test_two_outputs_train_like_autograd_adam():
    x, target = random_graphs(23, seed=4), two_output_target(23)

    def make_net():
        torch.manual_seed(5)
        return GCN(4, D=16, num_layers=3, fc_sizes=(8,), outputs=2)

    ours, reference = train_both(make_net, x, target, seed=6, loss_grad=two_output_grad, loss=two_output_loss,
                                 epochs=4, batch_size=5, lr=3e-3, weight_decay=1e-3, dropout=0.1)
    assert (flat(ours) - flat(make_net())).abs().max() > 1e-3
    torch.testing.assert_close(flat(ours), flat(reference), rtol=1e-4, atol=1e-5)


def test_chain_graphs_train_like_cells():
    # ProxylessNAS-style linear graphs (22 nodes): the same code path, other shapes.
    labels = np.random.default_rng(7).integers(0, 7, (12, 22))
    x = GraphInputs.from_graphs(linear_graphs(labels, 7))
    target = np.linspace(70, 80, 12, dtype=np.float32)

    def make_net():
        torch.manual_seed(8)
        return GCN(7, D=8, num_layers=4, fc_sizes=(6,), init="looks_linear")

    ours, reference = train_both(make_net, x, target, seed=9, epochs=3, batch_size=4, lr=1e-2,
                                 weight_decay=0.0, dropout=0.2)
    torch.testing.assert_close(ours(x), reference(x), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("caller_flushes", [False, True])
def test_training_flushes_subnormals_and_restores_the_callers_setting(caller_flushes):
    # Subnormal weights made late epochs and the fitted model's predictions ~3x slower (module docstring).
    x, target = random_graphs(8, seed=10), np.linspace(80, 95, 8, dtype=np.float32)
    seen = []

    def loss_grad(z, t):
        seen.append(subnormals_flushed())
        return mse_percent_grad(z, t).astype(np.float32)

    torch.manual_seed(11)
    net = GCN(4, D=8, num_layers=2, fc_sizes=(4,))
    torch.set_flush_denormal(caller_flushes)
    try:
        train(net, x, target, loss_grad, np.random.default_rng(12), epochs=2, batch_size=4, lr=1e-3,
              weight_decay=1e-3, dropout=0.0)
        after = subnormals_flushed()
    finally:
        torch.set_flush_denormal(False)
    assert seen == [True] * 4
    assert after == caller_flushes


def test_subnormals_flushed_reads_the_thread_setting():
    assert not subnormals_flushed()
    try:
        torch.set_flush_denormal(True)
        assert subnormals_flushed()
    finally:
        torch.set_flush_denormal(False)
    assert not subnormals_flushed()
