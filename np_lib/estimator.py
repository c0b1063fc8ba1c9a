"""The estimator API every predictor here keeps: what it accepts and how its parameters behave.

The paper's predictor (section 3.2) is fitted on N trained architectures and asked for
the accuracy of many others; :mod:`np_lib.predictor` (the GCN estimators) and
:mod:`np_lib.baselines` (the predictors notebook 10 compares with it) share one contract,
kept here once:

* inputs: :func:`as_graphs` (NAS-Bench-101 ``Cell``/``CellArray`` or any space's
  :class:`~np_lib.encoding.GraphBatch`) and :func:`check_labels` (accuracy fractions);
* parameters, in the style of scikit-learn's ``BaseEstimator``: :class:`Estimator` reads
  them from ``__init__``'s signature and gives ``get_params``, ``set_params``, ``clone``
  and a ``repr`` that evaluates back to an equal estimator;
* the checks of the parameters every estimator has (``seed``, ``num_threads``) and, in
  :class:`NeuralEstimator`, those of mini-batch training (epochs, batch size, dropout,
  learning rate, weight decay).

tests/test_conformance.py checks every estimator against this contract.
"""
from __future__ import annotations

import inspect

import numpy as np

from .encoding import GraphBatch
from .nasbench101.cell import Cell
from .nasbench101.encoding import encode
from .validation import check_positive, check_seed


def as_graphs(cells) -> GraphBatch:
    """Encode ``cells`` (``Cell``, sequence of ``Cell``, ``CellArray`` or ``GraphBatch``); reject empty input."""
    if isinstance(cells, GraphBatch):
        graphs = cells
    elif isinstance(cells, Cell):
        graphs = encode([cells])
    elif isinstance(cells, np.ndarray):
        # A space's own array form (chain op indices, pool rows): only the space knows its graphs.
        raise TypeError(f"got a {cells.dtype} array of shape {cells.shape}: encode a space's architectures "
                        f"first, model.fit(space.encode(archs), y) (any search space's GraphBatch is accepted)")
    elif isinstance(cells, (str, bytes)) or not hasattr(cells, "__iter__"):
        raise TypeError(f"expected a GraphBatch (space.encode(archs), any search space), NAS-Bench-101 Cells "
                        f"or a CellArray, got {type(cells).__name__}")
    else:
        graphs = encode(cells)
    if len(graphs) == 0:
        raise ValueError("no cells given: need at least one architecture")
    return graphs


def check_labels(y, n: int) -> np.ndarray:
    """``y`` as a float array of ``n`` accuracy fractions, or a ``ValueError`` saying what is wrong."""
    try:
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        raise TypeError("labels must be numbers (accuracy fractions)") from None
    if y.ndim != 1:
        raise ValueError(f"labels must be one accuracy per cell (1-D), got shape {y.shape}")
    if len(y) != n:
        raise ValueError(f"{n} cells but {len(y)} labels")
    bad = ~np.isfinite(y)
    if bad.any():
        raise ValueError(f"{bad.sum()} labels are NaN or infinite (first at position "
                         f"{int(np.flatnonzero(bad)[0])}); drop those cells before fitting")
    if y.min() < 0 or y.max() > 1:
        hint = "; percentages? divide by 100" if y.max() <= 100 else ""
        raise ValueError(f"labels must be accuracy fractions in [0, 1], got [{y.min():g}, {y.max():g}]{hint}")
    return y


class Estimator:
    """Parameters read from ``__init__`` (as scikit-learn's ``BaseEstimator``), clone, input checks.

    A subclass's ``__init__`` stores each parameter under its own name and does nothing
    else; one that ends in ``**params`` passes them to its base class's ``__init__``,
    whose parameters are then the subclass's too. A subclass drops its fitted state in
    ``_forget`` (called by :meth:`set_params`) and checks its parameters in
    ``_check_params``, calling ``super()._check_params()`` first.
    """

    #: Parameters kept as tuples: ``set_params`` turns a list into one, as ``__init__`` does.
    _tuple_params: tuple[str, ...] = ()

    @classmethod
    def _param_names(cls) -> tuple[str, ...]:
        """The keyword parameters of ``__init__``, read from its signature, following
        ``**params`` up to the base class."""
        names = []
        for klass in cls.__mro__:
            if "__init__" not in vars(klass):
                continue
            params = inspect.signature(klass.__init__).parameters.values()
            names += [p.name for p in params if p.name != "self" and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
                      and p.name not in names]
            if not any(p.kind is p.VAR_KEYWORD for p in params):
                break
        return tuple(names)

    def get_params(self) -> dict:
        """Every constructor parameter and its value (``type(self)(**get_params())`` is an unfitted copy)."""
        return {name: getattr(self, name) for name in self._param_names()}

    @classmethod
    def _check_names(cls, names) -> None:
        unknown = set(names) - set(cls._param_names())
        if unknown:
            raise TypeError(f"unknown parameter(s) {sorted(unknown)}; known: {list(cls._param_names())}")

    def set_params(self, **changes):
        """Change some parameters in place (the fitted model, if any, is dropped); returns self."""
        self._check_names(changes)
        for name, value in changes.items():
            setattr(self, name, tuple(value) if name in self._tuple_params else value)
        self._forget()
        return self

    def clone(self, **changes):
        """A new, unfitted estimator with these parameters, some changed."""
        self._check_names(changes)
        return type(self)(**{**self.get_params(), **changes})

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"

    def _forget(self) -> None:
        """Drop the fitted model (each subclass its own attributes)."""

    def _check_params(self) -> None:
        check_seed(self.seed)
        if self.num_threads is not None:
            check_positive(self.num_threads, "num_threads")

    def _fit_inputs(self, cells, y) -> tuple[GraphBatch, np.ndarray]:
        """``fit``'s inputs encoded and checked, then the parameters: errors in that order."""
        graphs = as_graphs(cells)
        y = check_labels(y, len(graphs))
        self._check_params()
        return graphs, y


class NeuralEstimator(Estimator):
    """An estimator that trains a network by mini-batch gradient descent: checks ``epochs``,
    ``batch_size``, ``dropout``, ``lr`` and ``weight_decay`` besides :class:`Estimator`'s."""

    def _check_params(self) -> None:
        super()._check_params()
        for name in ("epochs", "batch_size"):
            check_positive(getattr(self, name), name)
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr!r}")
        if not self.weight_decay >= 0:
            raise ValueError(f"weight_decay must be >= 0, got {self.weight_decay!r}")
