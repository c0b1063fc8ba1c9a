"""Other predictors, behind the Neural Predictor's estimator API: does the GCN matter?

The paper (section 3.2) argues for a graph convolutional network without comparing it
with a simpler predictor. The estimators here answer that question (notebook 10) on the
same inputs (np_lib's encoding, :func:`np_lib.estimator.as_graphs`: NAS-Bench-101
``Cell``/``CellArray`` or any space's :class:`~np_lib.encoding.GraphBatch`), the same
labels (accuracy fractions, :func:`np_lib.estimator.check_labels`) and the same parameter
contract (:class:`np_lib.estimator.Estimator`):

* :class:`MLPPredictor`: a multilayer perceptron on the flattened adjacency matrix and
  the flattened one-hot operations (:func:`flat_features`), the "adjacency one-hot"
  encoding of White et al., "A Study on Encodings for Neural Architecture Search"
  (NeurIPS 2020);
* :class:`BoostedTreesPredictor`: gradient-boosted regression trees on the same
  features (scikit-learn's ``HistGradientBoostingRegressor``);
* :class:`GINPredictor`: a graph isomorphism network (Xu et al., ICLR 2019) built from
  torch-geometric's ``GINConv`` layers with a sum readout.

Defaults. The two neural baselines copy :class:`~np_lib.predictor.NeuralPredictor`'s
defaults (read from it, so they follow it when its defaults change): the same width
``D``, depth, FC head, scaled-sigmoid output (section 4.1), MSE in accuracy percent²,
output bias at the labels' mean, Adam with L2 weight decay, cosine annealing to zero,
batch size, dropout and epochs. The comparison then changes one thing, the layer that
reads the architecture. The trees use scikit-learn's defaults except where they do not
fit N = 43-1,000 training cells (:class:`BoostedTreesPredictor`).

What is not here: ``save``/``load`` (the GCN estimators' persistence); these are baselines
for a comparison, fitted and scored in one run.
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch import nn
from threadpoolctl import threadpool_limits

from .encoding import GraphBatch
from .estimator import Estimator, NeuralEstimator, as_graphs
from .training import BETAS, EPS, flush_subnormals
from .predictor import ACCURACY_RANGE, NeuralPredictor, _logit
from .validation import check_positive

#: The GCN regressor's defaults, which the neural baselines share (module docstring).
_GCN = NeuralPredictor().get_params()


def flat_features(graphs: GraphBatch) -> np.ndarray:
    """``(B, V·V + V·F)`` float32: each graph's adjacency matrix and node one-hots, flattened.

    Padded node slots are all zero in both parts, so a smaller cell is a vector with
    zeros where its missing nodes would be (:mod:`np_lib.encoding`).
    """
    b = len(graphs)
    return torch.cat([graphs.adjacency.reshape(b, -1), graphs.features.reshape(b, -1)], dim=1).numpy()


# --- the estimator API shared with np_lib.predictor ------------------------------------------------

class _Baseline(Estimator):
    """What the baselines add to :class:`~np_lib.estimator.Estimator`: the training graphs' shape,
    checked again at prediction time."""

    #: Set by fit: the (node slots, one-hot length) of the training graphs.
    shape_: tuple[int, int] | None = None

    def _forget(self) -> None:
        self.shape_ = None

    def _fitted_graphs(self, cells) -> GraphBatch:
        """``cells`` encoded, after checking the model is fitted and the graphs match its training graphs."""
        if self.shape_ is None:
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet; call fit() first")
        graphs = as_graphs(cells)
        v, f = self.shape_
        if graphs.num_features != f:
            raise ValueError(f"graphs have {graphs.num_features} node features; this model was fitted on {f}")
        if self._fixed_nodes and graphs.num_nodes != v:
            raise ValueError(f"graphs have {graphs.num_nodes} node slots; this model was fitted on {v} "
                             f"(its flattened features have one position per slot)")
        return graphs

    #: Whether the input length depends on the node count (flattened features) or not (a GNN).
    _fixed_nodes = True

    def rank_score(self, cells) -> np.ndarray:
        """Higher is better: the predicted accuracy, as for :class:`~np_lib.predictor.NeuralPredictor`."""
        return self.predict(cells)


@contextlib.contextmanager
def _threads(n: int | None):
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n):
            yield
    finally:
        torch.set_num_threads(before)


# --- neural baselines: one training loop --------------------------------------------------------------

class _ScaledSigmoidHead(nn.Module):
    """FC layers with ReLU and dropout, then ``10 % + 90 % · sigmoid`` (section 4.1's output)."""

    def __init__(self, width: int, fc_sizes, dropout: float, output_bias: float):
        super().__init__()
        layers, last = [], width
        for size in fc_sizes:
            layers += [nn.Linear(last, size), nn.ReLU(), nn.Dropout(dropout)]
            last = size
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Linear(last, 1)
        with torch.no_grad():
            self.out.bias.fill_(output_bias)

    def forward(self, h):
        low, high = ACCURACY_RANGE
        return low + (high - low) * torch.sigmoid(self.out(self.hidden(h)).squeeze(-1))


def _output_bias(y: np.ndarray) -> float:
    # The prior log-odds of the labels' mean in the output range: training starts at the mean.
    low, high = ACCURACY_RANGE
    return _logit((float(y.mean()) - low) / (high - low))


class _NeuralBaseline(_Baseline, NeuralEstimator):
    """Training shared by the MLP and the GIN: :class:`~np_lib.predictor.NeuralPredictor`'s recipe,
    its training parameters and their defaults (a subclass adds its network's parameters and
    passes these on as ``**params``)."""

    net_: nn.Module | None = None

    def __init__(self, *, dropout: float = _GCN["dropout"], epochs: int = _GCN["epochs"],
                 batch_size: int = _GCN["batch_size"], lr: float = _GCN["lr"],
                 weight_decay: float = _GCN["weight_decay"], seed: int = 0, num_threads: int | None = 1):
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed
        self.num_threads = num_threads

    def _forget(self) -> None:
        super()._forget()
        self.net_ = None

    def _train(self, net: nn.Module, inputs, n: int, y: np.ndarray) -> None:
        """np_lib.training's recipe through autograd: Adam (L2 weight decay, fused kernel), a
        cosine schedule to zero stepped once per epoch, shuffled mini-batches (the last,
        partial one kept), MSE in accuracy percent² (np_lib.predictor, "Units"), subnormal
        floats flushed (np_lib.training, "Subnormal numbers")."""
        target = torch.from_numpy(100.0 * y).float()
        rng = np.random.default_rng(int(self.seed))
        opt = torch.optim.Adam(net.parameters(), lr=float(self.lr), betas=BETAS, eps=EPS,
                               weight_decay=float(self.weight_decay), fused=True)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=int(self.epochs))
        net.train()
        with flush_subnormals():
            for _ in range(int(self.epochs)):
                order = torch.from_numpy(rng.permutation(n))
                for start in range(0, n, int(self.batch_size)):
                    batch = order[start:start + int(self.batch_size)]
                    loss = torch.mean((100.0 * self._forward(net, inputs, batch) - target[batch]) ** 2)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                sched.step()
        net.eval()

    def fit(self, cells, y):
        graphs, y = self._fit_inputs(cells, y)
        # One thread while training, as the GCN estimators: the steps are too small to split.
        with torch.random.fork_rng(devices=[]), _threads(1):
            torch.manual_seed(int(self.seed))
            inputs = self._inputs(graphs)
            net = self._new_net(graphs, _output_bias(y))
            self._train(net, inputs, len(graphs), y)
        self.net_ = net
        self.shape_ = (graphs.num_nodes, graphs.num_features)
        return self

    def predict(self, cells) -> np.ndarray:
        """Predicted validation accuracy (fraction, in [0.10, 1.00]) of each cell."""
        graphs = self._fitted_graphs(cells)
        with torch.inference_mode(), _threads(self.num_threads):
            inputs = self._inputs(graphs)
            out = [self._forward(self.net_, inputs, torch.arange(s, min(s + 1024, len(graphs))))
                   for s in range(0, len(graphs), 1024)]
        return torch.cat(out).double().numpy()


class MLPPredictor(_NeuralBaseline):
    """A multilayer perceptron on :func:`flat_features`: no graph layer at all.

    Parameters
    ----------
    hidden_sizes : tuple of int
        ReLU layers on the flattened features. Default: ``num_layers`` layers of ``D``
        then the GCN's FC layers, (144, 144, 144, 128), so depth and width match the
        GCN's and only the graph convolution is missing.
    dropout, epochs, batch_size, lr, weight_decay
        Training, NeuralPredictor's defaults (module docstring).
    seed : int
        Seeds initialisation, shuffling and dropout: equal seeds, equal models.
    num_threads : int or None
        Torch threads while predicting (training runs on one).
    """

    _tuple_params = ("hidden_sizes",)

    def __init__(self, hidden_sizes: tuple[int, ...] = (_GCN["D"],) * _GCN["num_layers"] + tuple(_GCN["fc_sizes"]),
                 **params):
        super().__init__(**params)
        self.hidden_sizes = tuple(hidden_sizes)

    def _check_params(self) -> None:
        super()._check_params()
        if not self.hidden_sizes:
            raise ValueError("hidden_sizes must name at least one layer")
        for size in self.hidden_sizes:
            check_positive(size, "each of hidden_sizes")

    def _inputs(self, graphs):
        return torch.from_numpy(flat_features(graphs))

    def _new_net(self, graphs, output_bias):
        return _ScaledSigmoidHead(graphs.num_nodes * (graphs.num_nodes + graphs.num_features),
                                  [int(s) for s in self.hidden_sizes], float(self.dropout), output_bias)

    def _forward(self, net, inputs, batch):
        return net(inputs[batch])


class GINPredictor(_NeuralBaseline):
    """A graph isomorphism network (Xu et al., ICLR 2019) of torch-geometric ``GINConv`` layers.

    Each layer is ``h_v <- MLP((1 + eps) h_v + sum of h_u over in-edges u -> v)`` with a
    learnable ``eps`` (GIN-eps) and a two-layer MLP, messages along the edges (the GCN of
    section 3.2 sends them both ways). The readout is the sum over real nodes, GIN's
    injective readout, then the GCN's FC head and scaled sigmoid.

    Parameters
    ----------
    D, num_layers, fc_sizes
        Width of every GIN layer, their number, the FC head: NeuralPredictor's defaults.
    dropout, epochs, batch_size, lr, weight_decay, seed, num_threads
        As :class:`MLPPredictor`.
    """

    _fixed_nodes = False  # a GNN reads graphs of any node count

    _tuple_params = ("fc_sizes",)

    def __init__(self, D: int = _GCN["D"], num_layers: int = _GCN["num_layers"],
                 fc_sizes: tuple[int, ...] = tuple(_GCN["fc_sizes"]), **params):
        super().__init__(**params)
        self.D = D
        self.num_layers = num_layers
        self.fc_sizes = tuple(fc_sizes)

    def _check_params(self) -> None:
        super()._check_params()
        check_positive(self.D, "D")
        check_positive(self.num_layers, "num_layers")
        for size in self.fc_sizes:
            check_positive(size, "each of fc_sizes")

    def _inputs(self, graphs):
        return _SparseGraphs(graphs)

    def _new_net(self, graphs, output_bias):
        return _GIN(graphs.num_features, int(self.D), int(self.num_layers), [int(s) for s in self.fc_sizes],
                    float(self.dropout), output_bias)

    def _forward(self, net, inputs, batch):
        x, edge_index, graph_of_node = inputs.select(batch)
        return net(x, edge_index, graph_of_node, len(batch))


class _GIN(nn.Module):
    def __init__(self, num_features, D, num_layers, fc_sizes, dropout, output_bias):
        super().__init__()
        from torch_geometric.nn import GINConv

        self.convs = nn.ModuleList()
        last = num_features
        for _ in range(num_layers):
            mlp = nn.Sequential(nn.Linear(last, D), nn.ReLU(), nn.Linear(D, D))
            self.convs.append(GINConv(mlp, train_eps=True))
            last = D
        self.dropout = nn.Dropout(dropout)
        self.head = _ScaledSigmoidHead(D, fc_sizes, dropout, output_bias)

    def forward(self, x, edge_index, graph_of_node, num_graphs):
        from torch_geometric.nn import global_add_pool

        for conv in self.convs:
            x = self.dropout(torch.relu(conv(x, edge_index)))
        return self.head(global_add_pool(x, graph_of_node, size=num_graphs))


class _SparseGraphs:
    """A :class:`GraphBatch` as torch-geometric's node list and ``edge_index`` (padding dropped),
    with vectorised selection of a mini-batch of graphs (no Python loop over graphs)."""

    def __init__(self, graphs: GraphBatch):
        mask = graphs.mask
        self.x = graphs.features[mask]
        self.nodes = mask.sum(1)
        self.node_start = torch.cumsum(self.nodes, 0) - self.nodes
        # Position of each real node slot in the node list.
        slot = (torch.cumsum(mask.reshape(-1).long(), 0) - 1).reshape(mask.shape)
        b, i, j = (graphs.adjacency * mask[:, :, None] * mask[:, None, :]).nonzero(as_tuple=True)
        self.edges = torch.stack([slot[b, i], slot[b, j]])   # sorted by graph: nonzero is row-major
        self.num_edges = torch.bincount(b, minlength=len(graphs))
        self.edge_start = torch.cumsum(self.num_edges, 0) - self.num_edges

    def select(self, batch: torch.Tensor):
        """Node features, ``edge_index`` and node -> graph (0..len(batch)-1) of graphs ``batch``."""
        nodes, node_start = self.nodes[batch], self.node_start[batch]
        new_start = torch.cumsum(nodes, 0) - nodes
        graph_of_node = torch.repeat_interleave(torch.arange(len(batch)), nodes)
        within = torch.arange(int(nodes.sum())) - new_start[graph_of_node]
        x = self.x[node_start[graph_of_node] + within]
        edges = self.num_edges[batch]
        graph_of_edge = torch.repeat_interleave(torch.arange(len(batch)), edges)
        within_e = torch.arange(int(edges.sum())) - (torch.cumsum(edges, 0) - edges)[graph_of_edge]
        old = self.edges[:, self.edge_start[batch][graph_of_edge] + within_e]
        shift = new_start[graph_of_edge] - node_start[graph_of_edge]
        return x, old + shift, graph_of_node


# --- gradient-boosted trees -------------------------------------------------------------------------------

class BoostedTreesPredictor(_Baseline):
    """Gradient-boosted regression trees (scikit-learn ``HistGradientBoostingRegressor``) on
    :func:`flat_features`, fitted to accuracy in percent, predictions returned as fractions.

    Parameters (scikit-learn's defaults unless said)
    ----------
    max_iter, learning_rate, max_leaf_nodes, l2_regularization
        Boosting rounds, shrinkage, leaves per tree, L2 penalty on leaf values (100, 0.1,
        31, 0: scikit-learn's).
    min_samples_leaf : int
        5, not scikit-learn's 20: at N = 43 training cells 20 allows two leaves per tree.
    max_features : float
        Share of features each split considers, 0.9 (scikit-learn: 1.0), the column
        subsampling of LightGBM's ``feature_fraction`` as gradient-boosting baselines of
        NAS predictors use it; it is also the model's only random choice, so ``seed``
        changes the model as it does for the other estimators.
    seed : int
        ``random_state`` of the feature subsampling.
    num_threads : int or None
        OpenMP threads of fit and predict; None: scikit-learn's default (all cores).

    Early stopping is off (scikit-learn turns it on above 10,000 cells, holding out 10 %
    of them): every N gets the same rounds, and every training cell is used.
    """

    model_ = None

    def __init__(self, max_iter: int = 100, learning_rate: float = 0.1, max_leaf_nodes: int = 31,
                 min_samples_leaf: int = 5, l2_regularization: float = 0.0, max_features: float = 0.9,
                 seed: int = 0, num_threads: int | None = 1):
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_features = max_features
        self.seed = seed
        self.num_threads = num_threads

    def _forget(self) -> None:
        super()._forget()
        self.model_ = None

    def _check_params(self) -> None:
        super()._check_params()
        for name in ("max_iter", "min_samples_leaf"):
            check_positive(getattr(self, name), name)
        if not (isinstance(self.max_leaf_nodes, (int, np.integer)) and self.max_leaf_nodes >= 2):
            raise ValueError(f"max_leaf_nodes must be an integer >= 2, got {self.max_leaf_nodes!r}")
        if not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate!r}")
        if not self.l2_regularization >= 0:
            raise ValueError(f"l2_regularization must be >= 0, got {self.l2_regularization!r}")
        if not 0 < self.max_features <= 1:
            raise ValueError(f"max_features must be in (0, 1], got {self.max_features!r}")

    def fit(self, cells, y) -> "BoostedTreesPredictor":
        from sklearn.ensemble import HistGradientBoostingRegressor

        graphs, y = self._fit_inputs(cells, y)
        model = HistGradientBoostingRegressor(
            max_iter=int(self.max_iter), learning_rate=float(self.learning_rate),
            max_leaf_nodes=int(self.max_leaf_nodes), min_samples_leaf=int(self.min_samples_leaf),
            l2_regularization=float(self.l2_regularization), max_features=float(self.max_features),
            early_stopping=False, random_state=int(self.seed))
        with _threads(self.num_threads):
            model.fit(flat_features(graphs), 100.0 * y)
        self.model_ = model
        self.shape_ = (graphs.num_nodes, graphs.num_features)
        return self

    def predict(self, cells) -> np.ndarray:
        """Predicted validation accuracy (fraction) of each cell; trees do not extrapolate, so it
        lies within the training labels' range."""
        graphs = self._fitted_graphs(cells)
        with _threads(self.num_threads):
            return self.model_.predict(flat_features(graphs)).astype(np.float64) / 100.0
