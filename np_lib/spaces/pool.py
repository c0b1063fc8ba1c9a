"""Pool spaces: a finite table of trained models, as a search space.

Section 4.1's protocol on NAS-Bench-101 is a search over a pool of trained
models: the search "trains" a model by looking its accuracy up. A
:class:`PoolSpace` is that for any table of layer-wise models, e.g. your own
runs: each row one trained model, some columns its layers' choices, one its
accuracy, optionally a latency and a final ("test") measure::

    space = PoolSpace.from_dataframe(df, layers=["b1", "b2", "b3"], accuracy="top1",
                                     unit="percent", latency="ms")

It then offers what every space offers (:class:`~np_lib.spaces.base.SearchSpace`):

* ``sample``: distinct rows, uniform without replacement (a pool is finite);
* ``sample_in_band``: the same among the rows in a latency band;
* ``encode``: each row as a chain graph, a node per layer with a one-hot over
  the labels seen (section 4.2: "the node representation at the input is
  nothing more than a one hot vector"); a ``skip`` label drops its layer;
* ``latency``: a per-model column, a callable of the layers, or an additive
  per-(layer, label) table;
* ``evaluate``: lookup. With several accuracy columns (training seeds), the
  validation signal is one of them drawn per model over the whole pool from
  the evaluation seed, as NAS-Bench-101 draws one of its three runs (section
  4.1), and the final measure their mean unless ``test`` names one.

Architectures are ``(n, L)`` int8 arrays of label codes (indices into
``op_names``), as in every chain space, so the chain fast path of the
predictor applies when no layer is dropped.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..encoding import GraphBatch, linear_graphs
from ..validation import as_rng, check_band, check_count
from .base import Evaluation, check_latency, in_band
from .chain import ChainSpace

UNITS = ("fraction", "percent")


class PoolSpace(ChainSpace):
    """A finite pool of trained layer-wise models (module docstring); see :meth:`from_dataframe`.

    ``archs`` ``(n, L)``: label codes per model (distinct rows); ``op_names``: the
    labels the codes index; ``accuracy`` ``(n,)`` or ``(n, R)`` fractions (R training
    seeds); ``test`` ``(n,)`` fractions or None; ``latency``: ``(n,)`` ms per model,
    or ``None`` and an additive ``layer_cost`` ``(L, F)`` + ``fixed_cost`` (as
    :class:`~np_lib.spaces.chain.ChainSpace`), or neither; ``skip``: the code whose
    layers the graphs drop (None: every layer is a node); ``layer_names``: one per layer.
    """

    name = "pool"

    def __init__(self, archs, op_names: Sequence, accuracy, *, test=None, latency=None, layer_cost=None,
                 fixed_cost: float = 0.0, skip: int | None = None, layer_names: Sequence | None = None,
                 name: str | None = None):
        archs = np.asarray(archs)
        if archs.ndim != 2 or not np.issubdtype(archs.dtype, np.integer) or len(archs) == 0:
            raise ValueError(f"archs must be a non-empty (models, layers) integer array, got {archs.dtype} "
                             f"of shape {archs.shape}")
        if len(op_names) > 127:
            raise ValueError(f"at most 127 distinct labels fit the int8 codes, got {len(op_names)}")
        if archs.min() < 0 or archs.max() >= len(op_names):
            raise ValueError(f"label codes must lie in [0, {len(op_names)})")
        self.archs = np.array(archs, dtype=np.int8, order="C")  # C order: latency sums add each row alike
        self.archs.setflags(write=False)
        if name is not None:
            self.name = name
        self.layer_names = tuple(layer_names) if layer_names is not None else tuple(range(archs.shape[1]))
        if len(self.layer_names) != archs.shape[1]:
            raise ValueError(f"{len(self.layer_names)} layer names for {archs.shape[1]} layers")
        n = len(archs)
        self.accuracy = _fractions(accuracy, n, "accuracy", allow_2d=True)
        self.test = _fractions(test, n, "test") if test is not None else None
        self.skip = None if skip is None else int(skip)
        self._keys = _row_keys(self.archs)
        order = np.argsort(self._keys, kind="stable")
        sorted_keys = self._keys[order]
        same = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
        if len(same):
            first, second = sorted(order[[same[0], same[0] + 1]])
            raise ValueError(f"rows {first} and {second} hold the same architecture "
                             f"{[op_names[c] for c in self.archs[first]]}: a pool has one row per model "
                             f"(average or drop the repeats first)")
        self._order, self._sorted_keys = order, sorted_keys
        allowed = np.zeros((archs.shape[1], len(op_names)), bool)
        allowed[np.arange(archs.shape[1])[None, :].repeat(n, 0), self.archs] = True
        super().__init__(op_names, allowed, layer_cost, fixed_cost)
        self.model_latency = None
        if latency is not None:
            if layer_cost is not None:
                raise ValueError("give a per-model latency or an additive layer_cost, not both")
            self.model_latency = check_latency(latency, "latency")
            if len(self.model_latency) != n:
                raise ValueError(f"{n} models but {len(self.model_latency)} latencies")
            self.model_latency.setflags(write=False)

    @classmethod
    def from_dataframe(cls, df, layers: Sequence, accuracy, *, unit: str, latency=None, test=None,
                       skip: Any = None, labels: Sequence | None = None, name: str = "pool") -> "PoolSpace":
        """A pool space from a table with one row per trained model.

        ``layers``: the columns holding each layer's choice, in chain order (any
        hashable labels). ``accuracy``: the column of the search signal, or a list
        of columns (one per training seed). ``unit``: ``"fraction"`` or
        ``"percent"``, for ``accuracy`` and ``test`` alike; checked against the
        values. ``latency``: a column of per-model ms, a callable taking the
        layer columns (a DataFrame) and returning one ms per row, or an additive
        table ``{layer column: {label: ms}}`` (a ``"fixed"`` key adds a constant).
        ``test``: an optional column of a final measure. ``skip``: a label that
        means "no layer here"; its layers are dropped from the graphs.
        ``labels``: the one-hot order of the labels (default: the labels seen,
        sorted where they sort).
        """
        return cls(**dataframe_arguments(df, layers, accuracy, unit=unit, latency=latency, test=test, skip=skip,
                                         labels=labels, name=name))

    # -- the pool ----------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Number of models in the pool."""
        return len(self.archs)

    @property
    def has_latency(self) -> bool:
        return self.model_latency is not None or super().has_latency

    def all(self) -> np.ndarray:
        """Every architecture, in row order."""
        return self.archs

    def rows(self, archs) -> np.ndarray:
        """Row of each architecture in the pool, or a ValueError for one that is not in it."""
        archs = ChainSpace.check(self, archs)
        keys = _row_keys(archs.astype(np.int8))
        at = np.minimum(np.searchsorted(self._sorted_keys, keys), len(self._sorted_keys) - 1)
        found = self._sorted_keys[at] == keys
        if not found.all():
            i = int(np.flatnonzero(~found)[0])
            raise ValueError(f"architecture {i} ({self.names(archs[i])}) is not in the {self.name} pool")
        return self._order[at]

    def check(self, archs) -> np.ndarray:
        """``archs`` as ``(n, L)`` codes of models in the pool, or a ValueError naming a bad one."""
        archs = ChainSpace.check(self, archs)
        self.rows(archs)
        return archs

    def names(self, arch) -> list:
        """The label of each layer of one architecture."""
        return [self.op_names[int(op)] for op in ChainSpace.check(self, arch)[0]]

    # -- the SearchSpace protocol -----------------------------------------------------------------

    def sample(self, n: int, seed) -> np.ndarray:
        """``n`` distinct models, uniform without replacement."""
        n = check_count(n)
        if n > self.size:
            raise ValueError(f"cannot draw {n} distinct models from a pool of {self.size}")
        return self.archs[as_rng(seed).choice(self.size, n, replace=False)]

    def sample_in_band(self, n: int, band, seed, *, progress: bool = True) -> np.ndarray:
        """``n`` distinct models, uniform among the pool's models whose latency is in ``band``."""
        n = check_count(n)
        low, high = check_band(band)
        if not self.has_latency:
            raise ValueError(f"{self.name} has no latency: no latency band can be sampled")
        candidates = np.flatnonzero(in_band(self.latency(self.archs), band))
        if n > len(candidates):
            raise ValueError(f"only {len(candidates)} of {self.size} models lie in the band [{low:g}, {high:g}] "
                             f"ms; cannot draw {n}")
        return self.archs[as_rng(seed).choice(candidates, n, replace=False)]

    def encode(self, archs) -> GraphBatch:
        """Chain graphs, a node per layer with a one-hot of its label (``skip`` layers dropped)."""
        return linear_graphs(self.check(archs), self.num_classes, skip=self.skip)

    def latency(self, archs) -> np.ndarray:
        """Each model's latency in ms: its row of the per-model latency, else the additive table."""
        if self.model_latency is not None:
            return self.model_latency[self.rows(archs)]
        return super().latency(archs)

    def evaluate(self, archs, seed) -> Evaluation:
        """Lookup: validation one accuracy column per model (drawn from ``seed``), test the final measure."""
        rows = self.rows(archs)
        seed = int(seed)
        if self.accuracy.ndim == 1:
            validation = self.accuracy[rows]
            mean = self.accuracy
        else:
            run = np.random.default_rng(seed).integers(self.accuracy.shape[1], size=self.size)[rows]
            validation = self.accuracy[rows, run]
            mean = self.accuracy.mean(axis=1)
        test = (self.test if self.test is not None else mean)[rows]
        return Evaluation(seed, validation, test, np.full(len(rows), np.nan))

    @property
    def _chains_are_graphs(self) -> bool:
        return self.skip is None

    # -- for the search engine (np_lib.protocol.Benchmark) -------------------------------------------

    @property
    def pool(self) -> np.ndarray:
        """Every architecture of the pool, in row order."""
        return self.archs

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r}: {self.size:,} models, {self.num_layers} layers, " \
               f"{self.num_classes} labels)"


def dataframe_arguments(df, layers: Sequence, accuracy, *, unit: str, latency=None, test=None, skip: Any = None,
                        labels: Sequence | None = None, name: str = "pool") -> dict:
    """:class:`PoolSpace`'s constructor arguments from a table (:meth:`PoolSpace.from_dataframe`),
    for subclasses that build the table themselves (:class:`~np_lib.spaces.macro.NASBenchMacro`)."""
    if unit not in UNITS:
        raise ValueError(f"unit must be one of {UNITS} (how accuracy is written), got {unit!r}")
    layers = list(layers)
    if not layers:
        raise ValueError("layers must name at least one column")
    accuracy_columns = [accuracy] if isinstance(accuracy, str) or not isinstance(accuracy, Sequence) \
        else list(accuracy)
    wanted = layers + accuracy_columns + [c for c in (test,) if c is not None] \
        + ([latency] if isinstance(latency, str) else [])
    missing = [c for c in wanted if c not in df.columns]
    if missing:
        raise KeyError(f"columns {missing} not in the table (it has {list(df.columns)})")
    if len(set(layers)) != len(layers):
        raise ValueError(f"layers names a column twice: {layers}")
    choices = df[layers]
    if choices.isna().to_numpy().any():
        row, col = np.argwhere(choices.isna().to_numpy())[0]
        raise ValueError(f"row {row} has no choice for layer {layers[col]!r} (NaN); a missing layer is "
                         f"a label, say which with skip=")
    seen = list(dict.fromkeys(choices.to_numpy().ravel(order="F").tolist()))
    if labels is None:
        try:
            labels = sorted(seen)
        except TypeError:
            labels = seen
    labels = list(labels)
    unknown = [label for label in seen if label not in set(labels)]
    if unknown:
        raise ValueError(f"labels {unknown[:5]} appear in the layers but not in labels=")
    code = {label: i for i, label in enumerate(labels)}
    archs = np.vectorize(code.__getitem__, otypes=[np.int64])(choices.to_numpy())
    if skip is not None and skip not in code:
        raise ValueError(f"skip label {skip!r} is not among the labels {labels}")
    scale = 1.0 if unit == "fraction" else 100.0  # divided, not multiplied by 0.01: x / 100 is exact-rounded
    acc = np.column_stack([_column(df, c, unit) for c in accuracy_columns]) / scale
    kwargs = {}
    if isinstance(latency, str):
        kwargs["latency"] = _column(df, latency, None)
    elif callable(latency):
        kwargs["latency"] = np.asarray(latency(choices), dtype=float)
    elif isinstance(latency, Mapping):
        kwargs["layer_cost"], kwargs["fixed_cost"] = _additive(latency, layers, labels, choices)
    elif latency is not None:
        raise TypeError(f"latency must be a column name, a callable or a {{layer: {{label: ms}}}} table, "
                        f"got {type(latency).__name__}")
    return dict(archs=archs, op_names=labels, accuracy=acc[:, 0] if acc.shape[1] == 1 else acc,
                test=None if test is None else _column(df, test, unit) / scale,
                skip=None if skip is None else code[skip], layer_names=layers, name=name, **kwargs)


def _row_keys(archs: np.ndarray) -> np.ndarray:
    # One fixed-width bytes value per row: compared and sorted as a whole, whatever L and F are.
    return np.ascontiguousarray(archs).view(np.dtype((np.void, archs.shape[1]))).ravel()


def _column(df, column, unit: str | None) -> np.ndarray:
    try:
        values = df[column].to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"column {column!r} must hold numbers") from None
    bad = ~np.isfinite(values)
    if bad.any():
        raise ValueError(f"column {column!r}: {bad.sum()} of {len(values)} values are NaN or infinite (first at "
                         f"row {int(np.flatnonzero(bad)[0])}); drop those models or fill them in")
    if unit == "fraction" and (values.min() < 0 or values.max() > 1):
        raise ValueError(f"column {column!r} holds [{values.min():g}, {values.max():g}], not fractions in "
                         f"[0, 1]" + ("; percent? pass unit='percent'" if values.max() <= 100 else ""))
    if unit == "percent" and (values.min() < 0 or values.max() > 100 or values.max() <= 1):
        raise ValueError(f"column {column!r} holds [{values.min():g}, {values.max():g}], not percentages"
                         + ("; fractions? pass unit='fraction'" if values.max() <= 1 else ""))
    return values


def _fractions(values, n: int, what: str, allow_2d: bool = False) -> np.ndarray:
    values = np.array(values, dtype=float)
    if not (values.ndim == 1 or (allow_2d and values.ndim == 2)) or len(values) != n:
        raise ValueError(f"{what} must have one {'row' if allow_2d else 'value'} per model ({n}), got shape "
                         f"{values.shape}")
    if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
        raise ValueError(f"{what} must be finite fractions in [0, 1]")
    values.setflags(write=False)
    return values


def _additive(table: Mapping, layers: list, labels: list, choices) -> tuple[np.ndarray, float]:
    """``(layer_cost, fixed_cost)`` from ``{layer: {label: ms}, "fixed": ms}``; every label used is priced."""
    unknown = set(table) - set(layers) - {"fixed"}
    if unknown:
        raise ValueError(f"latency table has entries for unknown layers {sorted(map(str, unknown))}")
    cost = np.full((len(layers), len(labels)), np.nan)
    for i, layer in enumerate(layers):
        prices = table.get(layer, {})
        for label in choices[layer].unique():
            if label not in prices:
                raise ValueError(f"latency table has no price for label {label!r} at layer {layer!r}")
            cost[i, labels.index(label)] = float(prices[label])
    return cost, float(table.get("fixed", 0.0))
