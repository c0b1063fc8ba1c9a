"""Training the network of :mod:`np_lib.gcn`: minibatch Adam, gradients written out by hand.

The loop is the reference reimplementation's (Adam in its L2 form, a cosine
schedule to zero stepped once per epoch, shuffled minibatches, dropout after
every graph layer and every hidden FC layer). It computes the forward pass of
:meth:`np_lib.gcn.GCN.forward` and its gradient in NumPy (the graph layers'
large matmuls by ``torch.bmm``, :func:`_bmm`), then updates the weights with
torch's fused Adam kernel, the one ``torch.optim.Adam(fused=True)``
runs; the trained weights go back into the ``GCN``, which predicts.

Why not autograd. A training step at the NAS-Bench-101 defaults (10 graphs of 7
nodes, D = 144) is ~35 MFLOP of small matmuls, and a fit is 5,400 of them.
Through torch's autograd and ``Optimizer.step`` most of a step's time was
per-op overhead (~150 small ops, the optimiser's Python); NumPy ops on arrays
this small are several times cheaper, and the gradient of this network is
short to write. Figures: benchmarks/README.md ("Training step"), README "Speed".
Gradients equal autograd's to float rounding (tests/test_training.py), and so
do the trained weights after a few epochs.

Subnormal numbers. Weight decay drives the weights of units that get no data
gradient towards zero, and after ~100 epochs at the defaults hundreds of them
(906 of 103,073 at N = 172) are subnormal floats (below 1.2e-38), which x86
CPUs multiply through a slow microcode path: late epochs' steps were half as
slow again, and the fitted network predicted 3x slower. Training therefore runs
with subnormals flushed to zero (:func:`flush_subnormals`), which made a fit
about a third faster, and no subnormal weight is left (benchmarks/README.md,
"Subnormal numbers"). Results move at rounding level only. A tiny value cannot change a sum
of normal-sized ones, so the default fit at N = 172 predicted 2,000 unseen
cells bit-identically; but a pre-activation that is itself subnormal is now 0,
its ReLU then passes no gradient, and some fits differ from before in the last
bits and, through training, in the third decimal of a score (notebook 02's
cross-validated MSE: 0.932 before, 0.928 after).

The layer of section 3.2, per direction ``k`` (``Â`` for ``k = 0``, ``Ǎ`` for
``k = 1``) and with ``m`` the layer's dropout mask (1 without dropout)::

    U_k = Â_k V            Z_k = U_k W_k          V' = m ⊙ ½ (ReLU(Z_0) + ReLU(Z_1))

so with ``S_k = ½ m ⊙ [Z_k > 0]``, ``V' = Σ_k S_k ⊙ Z_k`` and, for an upstream
gradient ``G`` of ``V'``: ``∂Z_k = S_k ⊙ G``, ``∂W_k = U_kᵀ ∂Z_k``,
``∂V = Σ_k Â_kᵀ (∂Z_k W_kᵀ)``.
"""
from __future__ import annotations

import contextlib
import math

import numpy as np
import torch

from .gcn import GCN, DropoutMasks, GraphInputs

#: Adam's constants (torch's defaults, as in the reference reimplementation).
BETAS = (0.9, 0.999)
EPS = 1e-8


@contextlib.contextmanager
def flush_subnormals():
    """Compute with subnormal floats flushed to zero in this thread, then restore its setting.

    ``torch.set_flush_denormal`` sets the CPU's flush-to-zero and
    denormals-are-zero flags for the calling thread, which is where training's
    NumPy ops, its matmuls and torch's fused Adam all run (the estimators cap
    torch and NumPy's BLAS at one thread while training). Where the CPU has no
    such flags it does nothing.
    """
    before = subnormals_flushed()
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(before)


def subnormals_flushed() -> bool:
    """Whether this thread currently flushes subnormal results to zero (torch has no getter)."""
    tiny = np.float32(np.finfo(np.float32).tiny)  # the smallest normal float32
    return bool(tiny * np.float32(0.5) == 0)


@flush_subnormals()  # module docstring: "Subnormal numbers"
def train(net: GCN, x: GraphInputs, target: np.ndarray, loss_grad, rng: np.random.Generator, *,
          epochs: int, batch_size: int, lr: float, weight_decay: float, dropout: float) -> None:
    """Fit ``net`` in place.

    ``loss_grad(z, t)`` returns the gradient of the batch's mean loss with respect
    to the network outputs ``z`` (float32 arrays of the batch size; ``(b, outputs)``
    and a target of as many columns for a network of several outputs). ``rng``
    shuffles and draws dropout (an epoch's order, then its masks, as
    :class:`~np_lib.gcn.DropoutMasks` draws them); the caller seeds torch for the
    initialisation. The inputs are gathered once per epoch in shuffled order and
    each step slices them.
    """
    params = _FlatParameters(net)
    num_graphs, num_nodes = len(x), x.features.shape[1]
    propagation = x.propagation.numpy()
    # The first layer's input is the fixed one-hot features, so its propagated input never changes.
    first_input = propagation @ x.features.numpy()
    pooling = x.pooling.numpy()[:, 0]
    half = np.float32(0.5)
    no_dropout = [half] * len(params.conv)
    for epoch in range(epochs):
        lr_epoch = lr * (1 + math.cos(math.pi * epoch / epochs)) / 2  # CosineAnnealingLR(T_max=epochs)
        order = rng.permutation(num_graphs)
        p_epoch, u_epoch, pool_epoch, t_epoch = (a[order] for a in (propagation, first_input, pooling, target))
        if dropout > 0:
            (graph_keep, *fc_keep), scale = DropoutMasks.draw_keep(net, num_graphs, num_nodes, dropout, rng)
            # The values DropoutMasks.draw gives, with the layer's ½ folded into the graph masks
            # (one multiply fewer per layer and step); exact, since ½ is a power of two.
            scale = np.float32(scale)
            graph_masks = graph_keep * (scale * half)
            fc_masks = [k * scale for k in fc_keep]
        for start in range(0, num_graphs, batch_size):
            step = slice(start, start + batch_size)
            graph_scale = graph_masks[:, step] if dropout > 0 else no_dropout
            fc_scale = [m[step] for m in fc_masks] if dropout > 0 else None
            z, cache = _forward(params, p_epoch[step], u_epoch[step], pool_epoch[step], graph_scale, fc_scale)
            _backward(params, cache, loss_grad(z, t_epoch[step]))
            params.adam_step(lr_epoch, weight_decay)
    params.write_back(net)
    net.eval()


class _FlatParameters:
    """The network's weights as NumPy views into one flat array, their gradients likewise.

    One flat array lets one fused Adam call update every weight (a sixth of the
    time ``Optimizer.step`` around it took: benchmarks/README.md, "Training step").
    """

    def __init__(self, net: GCN):
        tensors = [p.detach() for p in net.parameters()]
        self.flat = torch.nn.utils.parameters_to_vector(tensors).float()
        self.grad = torch.zeros_like(self.flat)
        self.exp_avg, self.exp_avg_sq = torch.zeros_like(self.flat), torch.zeros_like(self.flat)
        self.step = torch.zeros(())
        values, grads, offset = [], [], 0
        flat, grad = self.flat.numpy(), self.grad.numpy()
        for t in tensors:
            part = slice(offset, offset + t.numel())
            values.append(flat[part].reshape(t.shape))
            grads.append(grad[part].reshape(t.shape))
            offset += t.numel()
        # net.parameters() order: the graph layers' (2, D_in, D_out) weights, then each FC layer's
        # weight and bias, then the output layer's.
        layers = len(net.convs)
        self.conv, self.conv_grad = values[:layers], grads[:layers]
        self.fc = list(zip(values[layers::2], values[layers + 1::2]))
        self.fc_grad = list(zip(grads[layers::2], grads[layers + 1::2]))
        self.out, self.out_grad = self.fc.pop(), self.fc_grad.pop()

    def adam_step(self, lr: float, weight_decay: float) -> None:
        # What torch.optim.Adam(fused=True) does per step, on one tensor: count, then the fused kernel.
        self.step += 1
        torch._fused_adam_([self.flat], [self.grad], [self.exp_avg], [self.exp_avg_sq], [], [self.step],
                           lr=lr, beta1=BETAS[0], beta2=BETAS[1], weight_decay=weight_decay, eps=EPS,
                           amsgrad=False, maximize=False)

    def write_back(self, net: GCN) -> None:
        with torch.no_grad():
            offset = 0
            for p in net.parameters():
                p.copy_(self.flat[offset:offset + p.numel()].view_as(p))
                offset += p.numel()


def _forward(params: _FlatParameters, propagation, first_input, pooling, graph_scale, fc_scale):
    """The network's outputs for one batch, and what the backward pass needs."""
    b, two_n, _ = propagation.shape
    n = two_n // 2
    conv_cache, v = [], None
    for layer, w in enumerate(params.conv):
        u = first_input if layer == 0 else propagation @ v  # (b, 2n, D_in): both directions stacked
        # Direction-major (2, b*n, D_in), so that one batched matmul applies W_0 and W_1.
        u = u.reshape(b, 2, n, -1).swapaxes(0, 1).reshape(2, b * n, -1)
        z = _bmm(u, w)
        scale = graph_scale[layer]  # ½ x the dropout mask, (b, n, D_out), or just ½
        s = (z > 0) * (scale.reshape(b * n, -1) if np.ndim(scale) else scale)
        v = (s[0] * z[0] + s[1] * z[1]).reshape(b, n, -1)
        conv_cache.append((u, s))
    h = np.einsum("bn,bnd->bd", pooling, v)
    fc_cache = [h]
    for i, (w, bias) in enumerate(params.fc):
        h = np.maximum(h @ w.T + bias, 0)
        if fc_scale is not None:
            h = h * fc_scale[i]
        fc_cache.append(h)
    w, bias = params.out
    z = h @ w[0] + bias[0] if len(w) == 1 else h @ w.T + bias  # (b,), or (b, outputs)
    return z, (propagation, pooling, conv_cache, fc_cache, fc_scale)


def _backward(params: _FlatParameters, cache, grad_z: np.ndarray) -> None:
    """Write the gradient of the loss into ``params``' gradient views (module docstring)."""
    propagation, pooling, conv_cache, fc_cache, fc_scale = cache
    b, two_n, _ = propagation.shape
    n = two_n // 2
    (w_out, _), (grad_w_out, grad_b_out) = params.out, params.out_grad
    if grad_z.ndim == 1:
        grad_w_out[0] = grad_z @ fc_cache[-1]
        grad_b_out[0] = grad_z.sum()
        g = grad_z[:, None] * w_out[0]
    else:  # several outputs (np_lib.gcn.GCN's ``outputs``): grad_z is (b, outputs)
        np.matmul(grad_z.T, fc_cache[-1], out=grad_w_out)
        grad_z.sum(axis=0, out=grad_b_out)
        g = grad_z @ w_out
    for i in reversed(range(len(params.fc))):
        if fc_scale is not None:
            g = g * fc_scale[i]
        g = g * (fc_cache[i + 1] > 0)  # the ReLU's gradient (a dropped unit is 0 either way)
        (w, _), (grad_w, grad_b) = params.fc[i], params.fc_grad[i]
        np.matmul(g.T, fc_cache[i], out=grad_w)
        g.sum(axis=0, out=grad_b)
        g = g @ w
    g = (pooling[:, :, None] * g[:, None, :]).reshape(b * n, -1)  # the pooling's weights, per node
    for layer in reversed(range(len(params.conv))):
        u, s = conv_cache[layer]
        grad_z_layer = s * g  # (2, b*n, D_out)
        _bmm(u.swapaxes(1, 2), grad_z_layer, out=params.conv_grad[layer])
        if layer:
            grad_u = _bmm(grad_z_layer, params.conv[layer].swapaxes(1, 2))
            grad_u = grad_u.reshape(2, b, n, -1).swapaxes(0, 1).reshape(b, two_n, -1)
            g = (propagation.swapaxes(1, 2) @ grad_u).reshape(b * n, -1)


def _bmm(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``np.matmul(a, b, out=out)`` for the graph layers' (2, m, k) x (2, k, n) stacks, by torch.

    Zero-copy either way; torch's bmm does these shapes faster than NumPy's
    OpenBLAS (one thread; benchmarks/README.md, "Training step").
    """
    if out is None:
        return torch.bmm(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    torch.bmm(torch.from_numpy(a), torch.from_numpy(b), out=torch.from_numpy(out))
    return out
