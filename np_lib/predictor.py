"""Scikit-learn-style estimators around the network of :mod:`np_lib.gcn`.

* :class:`NeuralPredictor`: the regressor of sections 3.2 and 4.1, predicting
  validation accuracy through a sigmoid scaled and shifted to [10 %, 100 %].
* :class:`NeuralClassifier`: the same network with a logit output: is the
  accuracy above a threshold (91 % in section 4.1)?
* :class:`TwoStagePredictor`: the cascade of Figure 5.

Cells come as NAS-Bench-101 :class:`~np_lib.nasbench101.cell.Cell` objects, a
:class:`~np_lib.nasbench101.cell.CellArray`, or an already encoded
:class:`~np_lib.encoding.GraphBatch` (any search space); labels as accuracy
fractions in [0, 1].

Defaults (NAS-Bench-101, N = 172), and where each comes from. The paper fixes
the architecture (section 4.1: 3 graph layers of width D, one hidden FC layer of
128, the scaled sigmoid) and leaves the rest to a supplementary we do not have.
From the public PyTorch reimplementation github.com/ultmaster/neuralpredictor.pytorch
(``train.py``, ``model.py``): D = 144, Adam with weight decay 1e-3 (Adam's L2
form), cosine annealing to zero over 300 epochs, batch 10, dropout 0.1 after
every graph layer and the hidden FC layer, Glorot-initialised graph weights.
Measured here (benchmarks/predictor_quality.py; table in benchmarks/README.md,
"Predictor quality": N = 172, 300 epochs, 5 draws of unseen sample cells), the
best of the settings tried:

* ``lr`` 1e-3, not the reimplementation's 1e-4: higher and steadier Kendall tau
  and a better top-10 (also what the notebooks' cross-validation picks);
* ``pooling="slots"``, not the mean over real nodes (:mod:`np_lib.gcn`,
  "Pooling"): with the mean, the 2- and 3-vertex cells (~84 % true) ranked
  1st-3rd of the unseen cells; averaged over the 7 slots they rank hundreds down,
  and the top-10's true accuracy rises;
* ``huber_delta=2.0``: the Huber loss, see "Failed runs" below;
* :class:`TwoStagePredictor`'s ``accuracy_head=True``: the classifier's second
  output orders the cells the first stage filters out (which the regressor,
  trained above 91 % only, orders badly): tau +0.036 [+0.021, +0.051] on the
  NAS-Bench-101 sample (0.694 -> 0.730) and +0.041 [+0.025, +0.057] on
  NAS-Bench-201, the same top-10 on NAS-Bench-101 (no difference shown on
  NAS-Bench-201), no slower to fit;
* :class:`TwoStagePredictor`'s ``ranking="expected"``: the same top-10 as the
  cascade order and a higher tau (with the head: +0.008 [+0.003, +0.013]);
  ``"product"``'s tau is not told apart from it with the head (+0.002
  [-0.008, +0.012]) and was lower without (-0.029 [-0.052, -0.007]).

Where we differ from that code, on purpose:

* the output is the paper's scaled sigmoid (the reimplementation regresses
  standardised accuracies with a linear output);
* a ReLU follows the hidden FC layer (without one the two FC layers collapse
  into a single linear map);
* the last, partial batch of an epoch is kept (18 steps at N = 172, not 17);
* the output bias starts at the training labels' mean (the prior log-odds for
  the classifier), so training does not spend its first epochs just moving the
  prediction from 55 % to 90 %.

Units. The regression loss is computed in accuracy *percent* (the MSE in
percent², the paper's unit, or the Huber loss below). With fractions the loss and its gradients are 10⁴ times smaller
while Adam's L2 term ``weight_decay * w`` is not, so the decay swamps the data
term. Measured at N = 172 (3 random splits, Kendall tau on 2,000 held-out
cells of the NAS-Bench-101 sample): percent units 0.654-0.681; with fraction
units every cell got the same prediction to three decimals. The output-bias start
is worth about 0.15 tau at the same budget (0.500-0.547 without it).

Failed runs. About 0.12 % of NAS-Bench-101 runs failed (< 20 % accuracy where the
cell's other runs reach ~90 %), so one N = 172 draw in five or so trains on one.
Under the MSE that label's ~80-point residual outweighs the rest of the batch
and the draw's tau fell to ~0.5-0.6. The paper's answer is the two-stage filter
(its regressor never sees cells below 91 %); the reimplementation replaces such
labels by the mean, which would also teach the predictor that NAS-Bench-201's
341 disconnected cells (truly at chance, ~10 %) are average. We keep every label
and use the Huber loss in percent points, ``huber_delta`` = 2: the MSE for
residuals up to 2 points (most of them at N = 172), linear beyond, so one
blown label pulls like a 2-point error while a whole group of truly poor cells
still pulls consistently. Measured: on NAS-Bench-101 the draw with a failed run
went from tau 0.607 (MSE) to 0.706, the other four moved by under 0.02; on
NAS-Bench-201 tau rose in every draw (+0.026 [+0.012, +0.039]; delta 5 gained
less) and the disconnected cells stayed at the bottom of the ranking
(benchmarks/README.md, "Predictor quality"). ``huber_delta=None`` is the
paper's plain MSE.
"""
from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from scipy.special import expit
from threadpoolctl import threadpool_limits

from . import chain_fastpath
from .encoding import GraphBatch
# as_graphs and check_labels are also imported from here (np_lib.crossval, np_lib.predictor_comparison).
from .estimator import NeuralEstimator, as_graphs, check_labels  # noqa: F401
from .gcn import GCN, INITS, POOLINGS, GraphInputs
from .nasbench101.cell import CellArray
from .nasbench101.encoding import encode
from .storage import CorruptFileError, read_checked, write_checked
from .training import train
from .validation import check_flag, check_positive

#: Range of the regressor's output, accuracy fractions (section 4.1).
ACCURACY_RANGE = (0.10, 1.00)

#: Graphs per forward pass at prediction time: large enough to amortise
#: per-call overhead, small enough that activations stay in cache (~2 MB at
#: D = 144); the chunk sizes timed are in benchmarks/README.md ("Prediction chunk").
#: Chunking moves predictions by float rounding at most (256 and 1,024 gave
#: bit-identical predictions on the pool).
PREDICT_CHUNK = 256

_FORMAT = 1  # version of the save() file layout
_FILE_KIND = "np_lib-estimator"  # the header of a save() file (np_lib.storage.write_checked)

#: The paper's predictor settings, by space (:meth:`NeuralPredictor.preset`).
PRESETS = {
    "nasbench101": {},  # section 4.1: the defaults
    # The MSE, as notebook 06 cross-validated it: the Huber default was measured on NAS-Bench-101/-201 only.
    "proxylessnas": {"num_layers": 18, "D": 96, "fc_sizes": (512, 128), "init": "looks_linear", "lr": 1e-3,
                     "huber_delta": None},
}


@contextlib.contextmanager
def _seeded(seed: int):
    # Every random choice (init, shuffling, dropout) comes from this seed, and the
    # caller's global torch RNG is left as it was.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def _threads(n: int | None):
    # Training runs its matmuls in NumPy's BLAS, prediction in torch: cap both.
    if n is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)


class _GCNEstimator(NeuralEstimator):
    """Hyper-parameters, input checks, training and persistence shared by the estimators
    (the parameter contract: :class:`np_lib.estimator.Estimator`).

    Parameters
    ----------
    D : int
        Node representation size of every graph layer (section 3.2; 144 for N = 172
        in the reference reimplementation).
    num_layers : int
        Graph convolution layers (3 for NAS-Bench-101, 18 for ProxylessNAS).
    fc_sizes : tuple of int
        Hidden fully connected layers on the pooled representation ((128,) for
        NAS-Bench-101, (512, 128) for ProxylessNAS).
    init : {"glorot", "looks_linear"}
        Initialisation of the graph weights (:class:`~np_lib.gcn.BiGraphConv`).
        ``"glorot"``, the reference reimplementation's, by default. Use
        ``"looks_linear"`` for deep networks such as section 4.2's 18 layers,
        which do not learn from a Glorot start.
    pooling : {"slots", "mean"}
        How node representations become one vector (:mod:`np_lib.gcn`, "Pooling"):
        ``"slots"`` (default) averages over the space's ``V`` node slots so that
        graph size reaches the FC layers; ``"mean"`` is the average over real nodes.
    huber_delta : float or None
        The regressor's loss (:class:`NeuralPredictor`; the classifier's
        cross-entropy ignores it): the Huber loss with this transition, in
        accuracy percent, 2 by default; None for the paper's MSE (module
        docstring, "Failed runs").
    dropout, epochs, batch_size, lr, weight_decay
        Training; sources in the module docstring.
    seed : int
        Seeds initialisation, shuffling and dropout: equal seeds, equal models.
    num_threads : int or None
        Torch CPU threads while predicting; None: torch's own setting (all
        cores). 1 by default because OpenMP threads wait for each other: on a
        shared machine a second thread made predictions several times slower,
        while on an idle one it nearly halved prediction time, so pass None
        there. Training always runs on one thread (torch's and NumPy's BLAS):
        its matmuls are too small to split (benchmarks/README.md, "Threads").
    """

    def __init__(self, *, D: int = 144, num_layers: int = 3, fc_sizes: tuple[int, ...] = (128,),
                 init: str = "glorot", pooling: str = "slots", huber_delta: float | None = 2.0,
                 dropout: float = 0.1, epochs: int = 300, batch_size: int = 10, lr: float = 1e-3,
                 weight_decay: float = 1e-3, seed: int = 0, num_threads: int | None = 1):
        self.D = D
        self.num_layers = num_layers
        self.fc_sizes = tuple(fc_sizes)
        self.init = init
        self.pooling = pooling
        self.huber_delta = huber_delta
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.seed = seed
        self.num_threads = num_threads
        self.net_: GCN | None = None

    # -- parameters -------------------------------------------------------------------------------

    _tuple_params = ("fc_sizes",)

    def _forget(self) -> None:
        self.net_ = None

    @classmethod
    def preset(cls, name: str, **changes):
        """An estimator with a setting of the paper, some parameters changed.

        * ``"nasbench101"``: section 4.1 (the class defaults: 3 graph layers of
          D = 144, one FC layer of 128);
        * ``"proxylessnas"``: section 4.2's selected GCN, "18 Graph Convolutional
          layers with node representation size 96, and with two fully-connected
          layers with hidden sizes 512 and 128", initialised looks-linear (18
          Glorot-initialised layers do not learn) with lr 1e-3 and the plain MSE
          (``huber_delta=None``), as notebook 06 cross-validates it (pooling
          does not matter there: chains have no padding).
        """
        try:
            setting = PRESETS[name]
        except KeyError:
            raise ValueError(f"unknown preset {name!r}; known: {sorted(PRESETS)}") from None
        cls._check_names(changes)
        return cls(**{**setting, **changes})

    def _check_params(self) -> None:
        super()._check_params()  # seed, threads and training (np_lib.estimator)
        for name in ("D", "num_layers"):
            check_positive(getattr(self, name), name)
        for size in self.fc_sizes:
            check_positive(size, "each of fc_sizes")
        if self.init not in INITS:
            raise ValueError(f"init must be one of {INITS}, got {self.init!r}")
        if self.pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, got {self.pooling!r}")
        delta = self.huber_delta
        if delta is not None and (isinstance(delta, bool) or not isinstance(delta, (int, float)) or not delta > 0):
            raise ValueError(f"huber_delta must be a positive number of accuracy percent or None, "
                             f"got {self.huber_delta!r}")

    def _new_net(self, num_features: int, output_bias=0.0, outputs: int = 1) -> GCN:
        return GCN(num_features, D=int(self.D), num_layers=int(self.num_layers),
                   fc_sizes=tuple(int(s) for s in self.fc_sizes), init=self.init, output_bias=output_bias,
                   outputs=outputs)

    @property
    def num_parameters(self) -> int:
        """Trainable parameters of the fitted network."""
        return sum(p.numel() for p in self._fitted().parameters())

    @property
    def num_features(self) -> int:
        """Length of the node one-hot the fitted network reads (5 for NAS-Bench-101, 7 for ProxylessNAS)."""
        return self._fitted().num_features

    # -- fitting and inference --------------------------------------------------------------------

    def _fit_net(self, graphs: GraphBatch, target: np.ndarray, loss_grad, output_bias, outputs: int = 1) -> None:
        # The caller checked the inputs and parameters (Estimator._fit_inputs).
        x = GraphInputs.from_graphs(graphs, self.pooling)
        # One thread whatever num_threads says: a step's matmuls are too small to split, and
        # two pools spinning on 2 cores made steps 9x slower (benchmarks/README.md, "Threads").
        with _seeded(int(self.seed)), _threads(1):
            net = self._new_net(graphs.num_features, output_bias, outputs)
            train(net, x, target.astype(np.float32), loss_grad, np.random.default_rng(int(self.seed)),
                  epochs=int(self.epochs), batch_size=int(self.batch_size), lr=float(self.lr),
                  weight_decay=float(self.weight_decay), dropout=float(self.dropout))
        self.net_ = net

    def _fitted(self) -> GCN:
        if self.net_ is None:
            raise RuntimeError(f"this {type(self).__name__} is not fitted yet; call fit() first")
        return self.net_

    def _logits(self, cells) -> torch.Tensor:
        """The network's output for every cell, in chunks (no Python loop over graphs)."""
        net = self._fitted()
        expected = self.num_features
        out = []
        with torch.inference_mode(), _threads(self.num_threads):
            for graphs in _chunks(cells):
                if graphs.num_features != expected:
                    raise ValueError(f"graphs have {graphs.num_features} node features; "
                                     f"this model was fitted on {expected}")
                out.append(net(GraphInputs.from_graphs(graphs, self.pooling)))
        return torch.cat(out)

    # -- persistence ------------------------------------------------------------------------------

    def _state(self) -> dict:
        net = self._fitted()
        return {"format": _FORMAT, "class": type(self).__name__, "params": self.get_params(),
                "num_features": self.num_features, "weights": net.state_dict()}

    def _restore(self, state: dict) -> None:
        net = self._new_net(state["num_features"], outputs=len(state["weights"]["out.bias"]))
        net.load_state_dict(state["weights"])
        with torch.no_grad():
            # Files from before training flushed subnormals can hold some: they change no
            # prediction but make every one ~3x slower on x86 (np_lib.training, "Subnormal numbers").
            for p in net.parameters():
                p.masked_fill_(p.abs() < torch.finfo(p.dtype).tiny, 0.0)
        net.eval()
        self.net_ = net

    def save(self, path: str | Path) -> Path:
        """Write the fitted model (parameters and weights) to ``path``, atomically, with a checksum
        (:func:`np_lib.storage.write_checked`) that :meth:`load` verifies."""
        buffer = io.BytesIO()
        torch.save(self._state(), buffer)
        return write_checked(path, buffer.getvalue(), _FILE_KIND)

    @classmethod
    def load(cls, path: str | Path):
        """Read a model written by :meth:`save` of the same class.

        The file is verified first: an empty, truncated or altered file (one
        changed byte) is a :class:`~np_lib.storage.CorruptFileError` naming
        it. A saved model cannot be rebuilt, so it is never used unverified.
        """
        payload = read_checked(path, _FILE_KIND)
        try:
            state = torch.load(io.BytesIO(payload), weights_only=True)
        except Exception as e:  # verified bytes that torch cannot read: another torch's format
            raise CorruptFileError(f"{path}: torch cannot read the saved model ({type(e).__name__}: {e})") from None
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError(f"{path} is not a model file written by np_lib's save()")
        if state["class"] != cls.__name__:
            raise ValueError(f"{path} holds a {state['class']}, not a {cls.__name__}")
        return cls._from_state(state)

    #: Parameters a file written before they existed was trained with.
    _OLD_FILE_DEFAULTS = {"pooling": "mean"}  # before the pooling and loss options: the mean over real nodes

    @classmethod
    def _from_state(cls, state: dict):
        est = cls(**{**cls._OLD_FILE_DEFAULTS, **state["params"]})
        est._restore(state)
        return est


def _chunks(cells) -> Iterator[GraphBatch]:
    # A CellArray is encoded chunk by chunk, so the whole space never exists as float tensors.
    if isinstance(cells, CellArray):
        if len(cells) == 0:
            raise ValueError("no cells given: need at least one architecture")
        for start in range(0, len(cells), PREDICT_CHUNK):
            yield encode(cells[start:start + PREDICT_CHUNK])
        return
    graphs = as_graphs(cells)
    for start in range(0, len(graphs), PREDICT_CHUNK):
        yield graphs[start:start + PREDICT_CHUNK]


def _logit(p: float) -> float:
    p = min(max(p, 1e-3), 1 - 1e-3)
    return math.log(p / (1 - p))


def _accuracy_loss_grad(huber_delta: float | None):
    """``loss_grad`` of the accuracy output (``np_lib.training.train``): the MSE, or the Huber
    loss, in percent points of the scaled sigmoid ``low + (high - low) sigmoid(z)``."""
    low, high = ACCURACY_RANGE
    delta = None if huber_delta is None else float(huber_delta)

    def loss_grad(z, t):
        # d/dz of mean((100 (low + (high - low) sigmoid(z)) - t)^2), t in percent; the Huber
        # loss (equal to it for |residual| <= delta) clips the residual's gradient at ±delta.
        s = expit(z)
        residual = 100.0 * (low + (high - low) * s) - t
        if delta is not None:
            residual = np.clip(residual, -delta, delta)
        return (2.0 / len(z)) * residual * (100.0 * (high - low)) * s * (1 - s)

    return loss_grad


def _accuracy_bias(y: np.ndarray) -> float:
    """The accuracy output's starting bias: the training labels' mean (module docstring)."""
    low, high = ACCURACY_RANGE
    return _logit((y.mean() - low) / (high - low))


def _to_accuracy(logits: torch.Tensor) -> np.ndarray:
    low, high = ACCURACY_RANGE
    return (low + (high - low) * torch.sigmoid(logits)).double().numpy()


class NeuralPredictor(_GCNEstimator):
    """The Neural Predictor regressor (sections 3.2 and 4.1): cells -> validation accuracy.

    ``predict`` returns accuracy fractions in [0.10, 1.00]: the network ends in
    ``10 % + 90 % * sigmoid(.)``. Trained in accuracy percent with the Huber loss
    (``huber_delta`` = 2 points), or the paper's MSE with ``huber_delta=None``
    (module docstring, "Units" and "Failed runs"). See :class:`_GCNEstimator`
    for the parameters.

    Example
    -------
    >>> model = NeuralPredictor(seed=0).fit(train_cells, train_accuracy)   # doctest: +SKIP
    >>> top_k = np.argsort(-model.predict(pool))[:K]                        # doctest: +SKIP
    """

    def fit(self, cells, y) -> "NeuralPredictor":
        graphs, y = self._fit_inputs(cells, y)
        self._fit_net(graphs, 100.0 * y, _accuracy_loss_grad(self.huber_delta), output_bias=_accuracy_bias(y))
        return self

    def predict(self, cells) -> np.ndarray:
        """Predicted validation accuracy (fraction) of each cell."""
        return _to_accuracy(self._logits(cells))

    def rank_score(self, cells) -> np.ndarray:
        """Higher is better; for the single-stage regressor simply :meth:`predict`."""
        return self.predict(cells)

    def predict_chains(self, archs, num_classes: int, *, num_threads: int | None = 1, progress: bool = False,
                       desc: str = "predict chains") -> np.ndarray:
        """:meth:`predict` on chain architectures, ``(n, L)`` op indices with one-hots of ``num_classes``.

        The same numbers as ``predict(linear_graphs(archs, num_classes))`` without
        building the graphs (:mod:`np_lib.chain_fastpath`); what chain spaces'
        ``predict`` calls. ``num_threads``: chunks predicted in parallel
        (:func:`~np_lib.chain_fastpath.chain_predict_logits`).
        """
        net = self._fitted()
        if num_classes != self.num_features:
            raise ValueError(f"this model was fitted on {self.num_features} node features; "
                             f"these chains have {num_classes}")
        archs = np.asarray(archs)
        if archs.ndim != 2 or not np.issubdtype(archs.dtype, np.integer):
            raise ValueError(f"chains are (n, L) integer arrays of op indices, got {archs.dtype} of shape {archs.shape}")
        logits = chain_fastpath.chain_predict_logits(net, torch.from_numpy(archs.astype(np.int64)),
                                                     num_threads=num_threads, progress=progress, desc=desc)
        low, high = ACCURACY_RANGE
        return (low + (high - low) * torch.sigmoid(logits)).double().numpy()


class _Thresholded(_GCNEstimator):
    """Adds ``threshold``, the accuracy (fraction) that separates good cells from poor ones."""

    def __init__(self, threshold: float = 0.91, **params):
        super().__init__(**params)
        self.threshold = threshold

    def _check_params(self) -> None:
        super()._check_params()
        if not 0 < self.threshold < 1:
            raise ValueError(f"threshold must be an accuracy fraction in (0, 1), got {self.threshold!r}")


class NeuralClassifier(_Thresholded):
    """First stage of the two-stage predictor (section 4.1, Figure 5): is accuracy > ``threshold``?

    Same network as :class:`NeuralPredictor` with a logit output, trained with
    binary cross-entropy on ``y > threshold``; ``fit`` takes the accuracies
    themselves. ``threshold`` defaults to the paper's 91 %.

    ``accuracy_head=True`` gives the output layer a second unit, trained at the
    same time on the same cells to regress their accuracy (the scaled sigmoid
    and loss of :class:`NeuralPredictor`, ``huber_delta`` included; the two
    losses summed): :meth:`predict_accuracy`. The network and its cost are the
    same but for one output unit (129 weights at the defaults); the logit is
    still :meth:`predict_proba`'s.
    :class:`TwoStagePredictor` uses it to order the cells it filters out, which
    its regressor, trained above the threshold only, cannot.
    """

    def __init__(self, accuracy_head: bool = False, **params):
        super().__init__(**params)
        self.accuracy_head = accuracy_head

    def _check_params(self) -> None:
        super()._check_params()
        check_flag(self.accuracy_head, "accuracy_head")

    def fit(self, cells, y) -> "NeuralClassifier":
        graphs, y = self._fit_inputs(cells, y)
        above = y > self.threshold

        def loss_grad(z, t):
            return (expit(z) - t) / len(z)  # d/dz of the mean binary cross-entropy on logits

        if not self.accuracy_head:
            self._fit_net(graphs, above, loss_grad, output_bias=_logit(above.mean()))
            return self
        accuracy_grad = _accuracy_loss_grad(self.huber_delta)

        def both_grad(z, t):  # columns: the logit, the accuracy (percent)
            return np.stack([loss_grad(z[:, 0], t[:, 0]), accuracy_grad(z[:, 1], t[:, 1])], axis=1)

        self._fit_net(graphs, np.stack([above, 100.0 * y], axis=1), both_grad,
                      output_bias=[_logit(above.mean()), _accuracy_bias(y)], outputs=2)
        return self

    def predict_proba(self, cells) -> np.ndarray:
        """Estimated probability that each cell's accuracy is above ``threshold``."""
        return self._proba_and_accuracy(cells)[0]

    def predict(self, cells) -> np.ndarray:
        """True for cells classified above ``threshold`` (probability >= 0.5)."""
        return self.predict_proba(cells) >= 0.5

    def predict_accuracy(self, cells) -> np.ndarray:
        """The accuracy head's prediction (fraction) for each cell (``accuracy_head=True`` only)."""
        accuracy = self._proba_and_accuracy(cells)[1]
        if accuracy is None:
            raise ValueError("this NeuralClassifier was fitted without accuracy_head=True: it predicts no accuracy")
        return accuracy

    def _proba_and_accuracy(self, cells) -> tuple[np.ndarray, np.ndarray | None]:
        """Both outputs from one forward pass: the probability, and the accuracy head's
        prediction or None for a network without one."""
        logits = self._logits(cells)
        if logits.ndim == 1:
            return torch.sigmoid(logits).double().numpy(), None
        return torch.sigmoid(logits[:, 0]).double().numpy(), _to_accuracy(logits[:, 1])


#: Ways of ordering cells by a two-stage predictor's outputs (:class:`TwoStagePredictor`).
RANKINGS = ("cascade", "product", "expected")


def two_stage_score(ranking: str, accuracy: np.ndarray, proba: np.ndarray, threshold: float,
                    lower: np.ndarray | None = None) -> np.ndarray:
    """The :meth:`TwoStagePredictor.rank_score` of cells whose regressor predicts ``accuracy``
    and whose classifier gives probability ``proba`` of being above ``threshold``; ``lower``
    is the accuracy the first stage's head predicts (``accuracy_head``), or None for the
    regressor's own (how ``"expected"`` values a filtered-out cell)."""
    accuracy, proba = np.asarray(accuracy, dtype=float), np.asarray(proba, dtype=float)
    lower = accuracy if lower is None else np.asarray(lower, dtype=float)
    if ranking == "cascade":
        return np.where(proba >= 0.5, accuracy, proba - 1.0)
    if ranking == "product":
        return accuracy * proba
    if ranking == "expected":
        return proba * accuracy + (1 - proba) * np.minimum(lower, threshold)
    raise ValueError(f"ranking must be one of {RANKINGS}, got {ranking!r}")


class TwoStagePredictor(_Thresholded):
    """The cascade of section 4.1 / Figure 5: filter with a classifier, rank with a regressor.

    ``fit`` trains a :class:`NeuralClassifier` on all cells and a
    :class:`NeuralPredictor` on the training cells above ``threshold`` only, so
    the regressor can spend its capacity on the narrow range that matters. Both
    stages share every hyper-parameter (the paper: "Both stages share the same
    GCN architecture but have different output layers").

    ``accuracy_head=True`` (the default) gives the classifier a second output
    unit that regresses every training cell's accuracy (NeuralClassifier's
    ``accuracy_head``): the accuracy of the cells the first stage filters out.
    The paper says nothing of how those are ordered; a search trains them
    late, but they are a large share of the space (39 % of the NAS-Bench-101
    sample is at or below 91 %), and the regressor, which never saw one, orders
    them badly. The head's accuracy enters :meth:`rank_score` (``"expected"``) only;
    :meth:`predict` stays the cascade's. Trained with the logit (the losses
    summed), the head moves the probabilities a little too. Measured
    (benchmarks/README.md, "Predictor quality"): Kendall tau on unseen cells
    rises with the head, while the top of the ranking and the fit time stay
    the same; ``False`` is the classifier alone, the filtered cells then
    valued by the regressor's accuracy capped at ``threshold``.

    Outputs, for a cell the classifier keeps / filters out:

    * :meth:`keep`: True / False;
    * :meth:`predict`: the regressor's accuracy / the same capped at
      ``threshold`` (the classifier's verdict is "at most 91 %"; the paper's
      cascade, whose MSE on cells above 91 % section 4.1 reports);
    * :meth:`rank_score`: the order a search trains cells in, by ``ranking``
      (:data:`RANKINGS`, :func:`two_stage_score`).

    ``ranking`` (the paper does not say how the two stages' outputs are
    combined into one order):

    * ``"cascade"``: every kept cell above every filtered one; kept cells by the
      regressor's accuracy, filtered ones by the classifier's probability
      (score: the accuracy in [0.1, 1] / the probability minus 1, in [-1, -0.5));
    * ``"product"``: the regressor's accuracy times the classifier's probability;
    * ``"expected"``: the expected accuracy under the classifier,
      ``p r + (1 - p) min(a, threshold)`` (``p`` the probability, ``r`` the
      regressor's accuracy, ``a`` the head's, or ``r`` without it): a kept
      cell's :meth:`predict` when ``p = 1``, so a false positive the
      classifier is unsure of no longer outranks a sure one by its regressor
      score alone; a filtered one's head accuracy (capped) when ``p = 0``.

    All other parameters are both stages' (:class:`_GCNEstimator`).
    """

    classifier_: NeuralClassifier | None = None
    regressor_: NeuralPredictor | None = None

    #: Files from before ``accuracy_head`` hold a classifier without one.
    _OLD_FILE_DEFAULTS = {**_Thresholded._OLD_FILE_DEFAULTS, "accuracy_head": False}

    def __init__(self, ranking: str = "expected", accuracy_head: bool = True, **params):
        super().__init__(**params)
        self.ranking = ranking
        self.accuracy_head = accuracy_head

    def _check_params(self) -> None:
        super()._check_params()
        if self.ranking not in RANKINGS:
            raise ValueError(f"ranking must be one of {RANKINGS}, got {self.ranking!r}")
        check_flag(self.accuracy_head, "accuracy_head")

    def _forget(self) -> None:
        self.classifier_ = self.regressor_ = None

    def fit(self, cells, y) -> "TwoStagePredictor":
        graphs, y = self._fit_inputs(cells, y)
        above = y > self.threshold
        if above.sum() < 2:
            raise ValueError(f"only {above.sum()} training cell(s) above the threshold {self.threshold:g}: "
                             f"the regressor needs at least 2")
        params = self.get_params()
        del params["ranking"]  # the order is this cascade's, not a stage's
        self.classifier_ = NeuralClassifier(**params).fit(graphs, y)
        del params["threshold"], params["accuracy_head"]
        self.regressor_ = NeuralPredictor(**params).fit(graphs[above], y[above])
        return self

    def _stages(self) -> tuple[NeuralClassifier, NeuralPredictor]:
        if self.classifier_ is None or self.regressor_ is None:
            raise RuntimeError("this TwoStagePredictor is not fitted yet; call fit() first")
        return self.classifier_, self.regressor_

    @property
    def num_parameters(self) -> int:
        """Trainable parameters of both stages together."""
        classifier, regressor = self._stages()
        return classifier.num_parameters + regressor.num_parameters

    def predict_proba(self, cells) -> np.ndarray:
        """The classifier's probability that each cell is above ``threshold``."""
        return self._stages()[0].predict_proba(cells)

    def keep(self, cells) -> np.ndarray:
        """True for cells the first stage lets through (predicted above ``threshold``)."""
        return self.predict_proba(cells) >= 0.5

    def predict(self, cells) -> np.ndarray:
        """Predicted accuracy: the regressor's, capped at ``threshold`` for filtered cells."""
        accuracy, proba, _ = self.outputs(cells)
        return np.where(proba >= 0.5, accuracy, np.minimum(accuracy, self.threshold))

    def rank_score(self, cells) -> np.ndarray:
        """Higher is better: the order ``ranking`` gives (class docstring)."""
        accuracy, proba, lower = self.outputs(cells)
        return two_stage_score(self.ranking, accuracy, proba, self.threshold, lower)

    def outputs(self, cells) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each stage's output: the regressor's accuracy, the classifier's probability of being
        above ``threshold``, and the accuracy of its head (the regressor's without one)."""
        classifier, regressor = self._stages()
        if not isinstance(cells, CellArray):  # encode once for both stages
            cells = as_graphs(cells)
        accuracy = regressor.predict(cells)
        proba, lower = classifier._proba_and_accuracy(cells)
        return accuracy, proba, accuracy if lower is None else lower

    def _state(self) -> dict:
        classifier, regressor = self._stages()
        return {"format": _FORMAT, "class": type(self).__name__, "params": self.get_params(),
                "classifier": classifier._state(), "regressor": regressor._state()}

    def _restore(self, state: dict) -> None:
        self.classifier_ = NeuralClassifier._from_state(state["classifier"])
        self.regressor_ = NeuralPredictor._from_state(state["regressor"])
