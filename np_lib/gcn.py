"""The Neural Predictor's network (section 3.2): bidirectional graph convolutions,
a pooled average of the nodes, then fully connected layers down to one number.

Pooling (:data:`POOLINGS`). The paper takes "the average over node representations
from the final graph convolutional layer" (section 3.2). Over a graph's *real*
nodes, that average makes the 2-vertex NAS-Bench-101 cell (input -> output, ~84 %
true) look like any other graph of input and output features, and both estimators ranked it first among 10,000
unseen cells (issue 15). By default we therefore average over the space's ``V``
node slots, padding included (``"slots"``: the sum over real nodes divided by
``V``, 7 for NAS-Bench-101): still a mean of fixed width, but a 2-node cell's pooled
vector is 2/7 the size of a full cell's with the same node states, so graph size
reaches the FC layers. Where a space has no padding (the chain spaces) the two are the
same numbers. ``"mean"`` is the over-real-nodes mean.
Measured in benchmarks/README.md ("Predictor quality").

Why not torch-geometric's ``DenseGCNConv`` (which fits 7-node dense batches):

* it normalises symmetrically, ``D^-1/2 (A + I) D^-1/2`` with out-degrees on
  both sides, whereas the paper ("add an identity matrix to A ... and normalize
  it using the node degree") and the reference reimplementation average each
  node with its neighbours, ``D^-1 (A + I)``, separately for ``A`` and ``Aᵀ``;
* it rebuilds the normalised matrix in every call (twice per layer per step)
  although the graphs never change during training.

The layer here is a plain batched matmul on propagation matrices computed once
per dataset (:meth:`GraphInputs.from_graphs`), both directions in one ``bmm``:
forward + backward on a training batch took half the time of a pair of
``DenseGCNConv``, prediction chunks the same (benchmarks/README.md, "Graph layer").

This module predicts. Training computes the same forward pass and its gradient
by hand in NumPy (:mod:`np_lib.training`), which is faster on 10-graph batches
than autograd; tests/test_training.py holds the two to float rounding.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .encoding import GraphBatch


@dataclass(frozen=True)
class GraphInputs:
    """What the network reads: built once per dataset, then only indexed.

    ``features`` ``(B, V, F)``: one-hot node operations (``V_0`` of section 3.2).
    ``propagation`` ``(B, 2V, V)``: ``Â = D⁻¹(A + I)`` stacked above
    ``Ǎ = D'⁻¹(Aᵀ + I)``; padded nodes have all-zero rows and columns.
    ``pooling`` ``(B, 1, V)``: the pooling weights, 0 on padding and on real nodes
    ``1 / V`` (``"slots"``, the default) or ``1 / #real nodes`` (``"mean"``), so
    ``pooling @ V`` is the pooled representation (module docstring, "Pooling").
    """

    features: torch.Tensor
    propagation: torch.Tensor
    pooling: torch.Tensor

    @classmethod
    def from_graphs(cls, graphs: GraphBatch, pooling: str = "slots") -> "GraphInputs":
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {pooling!r}")
        forward, backward = graphs.propagation_matrices()
        mask = graphs.mask.to(forward.dtype)
        slots = mask.sum(dim=1, keepdim=True).clamp_min(1.0) if pooling == "mean" else mask.shape[1]
        pooling = mask / slots
        return cls(graphs.features.float(), torch.cat([forward, backward], dim=1).float(),
                   pooling.unsqueeze(1).float())

    def index(self, index) -> "GraphInputs":
        """Rows ``index`` of every tensor (a slice gives views, a tensor copies)."""
        return GraphInputs(self.features[index], self.propagation[index], self.pooling[index])

    def __len__(self) -> int:
        return self.features.shape[0]


@dataclass(frozen=True)
class DropoutMasks:
    """Dropout for one pass over a dataset, drawn in one go (inverted dropout: 0 or 1/(1-p)).

    ``graph`` ``(L, B, V, D)`` multiplies the output of each graph layer,
    ``fc`` ``(B, h)`` that of each hidden FC layer. Why not ``F.dropout`` per
    step: its Bernoulli sampler cost a tenth of a training step, about ten times
    what one epoch of 16-bit integers from NumPy costs per step
    (benchmarks/README.md, "Dropout masks"). The price: ``p`` is rounded to
    a multiple of 2⁻¹⁶ (0.1 becomes 0.100006).
    """

    graph: torch.Tensor
    fc: tuple[torch.Tensor, ...]

    @classmethod
    def draw(cls, net: "GCN", num_graphs: int, num_nodes: int, p: float,
             rng: np.random.Generator) -> "DropoutMasks":
        keep, scale = cls.draw_keep(net, num_graphs, num_nodes, p, rng)
        graph, *fc = (torch.from_numpy(k).to(torch.float32).mul_(scale) for k in keep)
        return cls(graph, tuple(fc))

    @staticmethod
    def draw_keep(net: "GCN", num_graphs: int, num_nodes: int, p: float,
                  rng: np.random.Generator) -> tuple[list[np.ndarray], float]:
        """The boolean keep-masks behind :meth:`draw` (graph layers first, then each FC
        layer), and the scale ``1/(1-p)`` that kept units are multiplied by."""
        dropped = round(p * 2**16)
        shapes = [(len(net.convs), num_graphs, num_nodes, net.D)] + [(num_graphs, size) for size in net.fc_sizes]
        keep = [rng.integers(0, 2**16, size=shape, dtype=np.uint16) >= dropped for shape in shapes]
        return keep, 2**16 / (2**16 - dropped)

    def index(self, index) -> "DropoutMasks":
        return DropoutMasks(self.graph[:, index], tuple(m[index] for m in self.fc))


#: How node representations are averaged into one vector (module docstring, "Pooling").
POOLINGS = ("slots", "mean")

#: Initialisations of the graph weights: see :class:`BiGraphConv`.
INITS = ("glorot", "looks_linear")


class BiGraphConv(nn.Module):
    """One bidirectional graph convolution (section 3.2):

    ``V_{l+1} = ½ ReLU(Â V_l W⁺) + ½ ReLU(Ǎ V_l W⁻)``.

    ``W⁺`` and ``W⁻`` are stored as one ``(2, D_l, D_{l+1})`` parameter so both
    directions are one batched matmul. No bias, as in equation (1): this also
    keeps padded nodes (zero propagation rows) at exactly zero in every layer,
    which is how they are masked out.

    ``init`` (the paper does not say how it initialises):

    * ``"glorot"``: Glorot-uniform per direction, as the reference
      reimplementation; right for the 3-layer NAS-Bench-101 network.
    * ``"looks_linear"``: the mirrored initialisation of Balduzzi et al. (2017,
      "The Shattered Gradients Problem"): output columns come in pairs
      ``(z, -z)``, so ``ReLU(z) - ReLU(-z) = z`` and the next layer (weights
      ``[[M, -M], [-M, M]]``, ``first=False``) sees a linear function of its
      input. At initialisation the whole graph stack is then a linear map, and
      training starts from there. Needed for the paper's 18-layer ProxylessNAS
      network (section 4.2): with Glorot every chain's pooled vector is the same
      after 18 layers (cosine 1.000 between graphs; the positive means of the two
      ReLUs add up while their fluctuations average out), weight decay then
      drives the stack to zero, and the model predicts the mean (validation
      R² -0.02 on 79/40 splits of OFA chains, 0.33 with looks-linear; the 3-layer
      network reached 0.29). D must be even.
    """

    def __init__(self, in_features: int, out_features: int, init: str = "glorot", first: bool = True):
        super().__init__()
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {init!r}")
        self.weight = nn.Parameter(torch.empty(2, in_features, out_features))
        with torch.no_grad():
            for w in self.weight:  # each direction on its own
                if init == "glorot":
                    nn.init.xavier_uniform_(w)
                else:
                    w.copy_(_looks_linear(in_features, out_features, first))

    def forward(self, v: torch.Tensor, propagation: torch.Tensor) -> torch.Tensor:
        b, n, d = v.shape
        # Propagate first (a 7x7 product on D_l columns), then one (2, B*V, D_l) x (2, D_l, D_{l+1})
        # bmm for both directions.
        u = (propagation @ v).view(b, 2, n, d).transpose(0, 1).reshape(2, b * n, d)
        return torch.relu(torch.bmm(u, self.weight)).mean(dim=0).view(b, n, -1)


def _looks_linear(d_in: int, d_out: int, first: bool) -> torch.Tensor:
    """One direction's ``(d_in, d_out)`` looks-linear weights (:class:`BiGraphConv`).

    Columns ``k`` and ``h + k`` (``h = d_out / 2``) are ``m`` and ``-m``. For a
    layer after the first, input features ``k`` and ``h + k`` are the pair
    ``ReLU(z), ReLU(-z)`` of the previous layer, so the rows are ``[M; -M]``:
    together the weights read ``[[M, -M], [-M, M]]`` with ``M`` He-normal on the
    ``d_in / 2`` independent inputs. The first layer's input (one-hot operations)
    is not paired: ``[M, -M]`` with ``M`` He-normal on all ``d_in`` rows.
    """
    if d_out % 2 or (not first and d_in % 2):
        raise ValueError(f"looks_linear initialisation pairs features: D must be even, got {d_out}")
    pairs_in = d_in if first else d_in // 2
    m = torch.randn(pairs_in, d_out // 2) * math.sqrt(2.0 / pairs_in)
    if first:
        return torch.cat([m, -m], dim=1)
    return torch.cat([torch.cat([m, -m], 1), torch.cat([-m, m], 1)], 0)


class GCN(nn.Module):
    """Section 3.2's predictor network; returns one pre-activation value per graph
    (``outputs`` of them, shape ``(n, outputs)``, when ``outputs`` > 1).

    ``num_layers`` bidirectional layers of width ``D``, the pooling that the
    :class:`GraphInputs` carry (module docstring, "Pooling"), then ``fc_sizes``
    hidden fully connected layers (ReLU) and a linear output.
    NAS-Bench-101 (section 4.1): 3 layers, ``fc_sizes=(128,)``; ProxylessNAS
    (section 4.2): 18 layers, D = 96, ``fc_sizes=(512, 128)``. The caller turns
    the output into an accuracy (scaled sigmoid) or uses it as a classifier logit.
    ``init`` initialises the graph weights (:class:`BiGraphConv`); the FC layers
    keep PyTorch's default; ``output_bias`` starts the output's bias (the
    estimators start it at the labels' mean, :mod:`np_lib.predictor`): one value,
    or one per output. ``outputs`` > 1 gives the output layer more units on the
    same network (the two-stage predictor's first stage: a logit and an accuracy).

    Dropout, when training, comes in as :class:`DropoutMasks` on the output of
    every graph layer and every hidden FC layer; without masks there is none.
    """

    def __init__(self, num_features: int, D: int = 144, num_layers: int = 3,
                 fc_sizes: tuple[int, ...] = (128,), init: str = "glorot", output_bias=0.0, outputs: int = 1):
        super().__init__()
        self.D = D
        self.fc_sizes = tuple(fc_sizes)
        self.convs = nn.ModuleList(BiGraphConv(num_features if i == 0 else D, D, init=init, first=i == 0)
                                   for i in range(num_layers))
        widths = (D,) + self.fc_sizes
        self.fcs = nn.ModuleList(nn.Linear(i, o) for i, o in zip(widths[:-1], widths[1:]))
        self.out = nn.Linear(widths[-1], outputs)
        with torch.no_grad():  # after every draw above, so the initial weights do not depend on it
            if np.ndim(output_bias) == 0:
                self.out.bias.fill_(output_bias)
            else:
                self.out.bias.copy_(torch.as_tensor(output_bias, dtype=self.out.bias.dtype))

    @property
    def num_features(self) -> int:
        """Length of the node one-hot the first graph layer reads."""
        return self.convs[0].weight.shape[1]

    def forward(self, x: GraphInputs, masks: DropoutMasks | None = None) -> torch.Tensor:
        v = x.features
        for i, conv in enumerate(self.convs):
            v = conv(v, x.propagation)
            if masks is not None:
                v = v * masks.graph[i]
        h = (x.pooling @ v).squeeze(1)
        for i, fc in enumerate(self.fcs):
            h = torch.relu(fc(h))
            if masks is not None:
                h = h * masks.fc[i]
        out = self.out(h)
        return out.squeeze(-1) if out.shape[-1] == 1 else out


def count_parameters(num_features: int, D: int, num_layers: int, fc_sizes: tuple[int, ...]) -> int:
    """Trainable parameters of ``GCN(num_features, D, num_layers, fc_sizes)``, without building it."""
    graph = 2 * num_features * D + 2 * D * D * (num_layers - 1)
    widths = (D,) + tuple(fc_sizes) + (1,)
    return graph + sum(i * o + o for i, o in zip(widths[:-1], widths[1:]))
