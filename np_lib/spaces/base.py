"""What every search space offers a search: sample, encode, latency, evaluate.

Section 4 runs one recipe on two very different spaces: NAS-Bench-101 cells
(section 4.1) and the layer-wise ProxylessNAS space (section 4.2). "To transfer
from NASBench-101 to the ProxylessNAS search space, all we have to do is to
modify the graph and its node representations." :class:`SearchSpace` is that
boundary: a search asks a space for

* ``sample(n, seed)``: ``n`` random architectures, in the space's own array form;
* ``encode(archs)``: their graphs, a :class:`~np_lib.encoding.GraphBatch`;
* ``latency(archs)``: inference time in ms (NaN where the space has none);
* ``evaluate(archs, seed)``: simulated training, an :class:`Evaluation`.

Everything else (the predictor, :mod:`np_lib.search`'s strategies,
:mod:`np_lib.pareto`'s soft-Pareto search) works on those four, so NAS-Bench-101
and the chain spaces share one engine. :class:`Evaluation` is the one outcome type,
:class:`np_lib.protocol.Outcomes`; :class:`np_lib.protocol.Benchmark` lists what a
space may add for the strategies (a pool, a mutation, a faster ranking route).
"""
from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
from tqdm.auto import tqdm

from ..encoding import GraphBatch
from ..protocol import Outcomes
from ..validation import as_rng, check_band, check_count  # noqa: F401  (re-exported: their old home)

#: Architectures per call of ``space.encode`` + ``model.predict`` in :func:`predict`.
PREDICT_CHUNK = 4096


@runtime_checkable
class SearchSpace(Protocol):
    """The four questions a search asks a space (module docstring).

    ``archs`` is whatever the space uses (an ``(n, L)`` int array for chain
    spaces, a ``CellArray`` for NAS-Bench-101); it supports ``len`` and indexing
    with an integer array. ``seed`` is an int or a ``numpy.random.Generator``.
    """

    name: str

    def sample(self, n: int, seed) -> Any: ...

    def encode(self, archs) -> GraphBatch: ...

    def latency(self, archs) -> np.ndarray: ...

    def evaluate(self, archs, seed) -> "Evaluation": ...


#: The outcome of simulated training: one type for every benchmark (:class:`np_lib.protocol.Outcomes`).
Evaluation = Outcomes


def check_latency(latency, name: str = "latency") -> np.ndarray:
    """A 1-D float array of finite latencies, or a ValueError naming the first missing one."""
    latency = np.asarray(latency, dtype=float)
    if latency.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one value per model), got shape {latency.shape}")
    bad = ~np.isfinite(latency)
    if bad.any():
        raise ValueError(f"{bad.sum()} of {len(latency)} {name} values are NaN or infinite (first at "
                         f"position {int(np.flatnonzero(bad)[0])}): this space has no latency for them, "
                         f"so no latency constraint or Pareto frontier can use them")
    return latency


def in_band(latency, band) -> np.ndarray:
    """Boolean mask of latencies inside ``band`` (both ends included, as "between 75ms and 85ms")."""
    low, high = check_band(band)
    latency = np.asarray(latency, dtype=float)
    return (latency >= low) & (latency <= high)


def sample_in_band(space: SearchSpace, n: int, band, seed, *, batch_size: int = 1 << 18,
                   max_draws: int = 10 ** 9, progress: bool = True):
    """``n`` models drawn uniformly from the models of ``space`` whose latency lies in ``band``.

    Section 4.2: "we randomly sample N = 112,000 models with inference times
    between 75ms and 85ms". Rejection sampling: draw uniform models in batches,
    keep those in the band, stop at ``n``. That is exactly uniform on the
    in-band models; the price is ``n / acceptance`` draws (about 14 M for the
    paper's 112,000 at ProxylessNAS's 0.8 %), cheap because sampling and
    latency are vectorised. The result depends only on ``seed`` (and the fixed
    ``batch_size``). Gives up with a ValueError after ``max_draws`` models.
    """
    n = check_count(n)
    low, high = check_band(band)
    if np.isnan(space.latency(space.sample(1, 0))).all():  # a probe, off the seeded stream
        raise ValueError(f"{space.name} has no latency: no latency band can be sampled")
    rng = as_rng(seed)
    kept, count, drawn = [], 0, 0
    with tqdm(total=n, desc=f"in-band {space.name}", unit="model", disable=not progress) as bar:
        while count < n:
            if drawn >= max_draws:
                raise ValueError(f"only {count} of {drawn:,} sampled {space.name} models lie in the band "
                                 f"[{low:g}, {high:g}] ms; {n} are needed (widen the band or raise max_draws)")
            batch = space.sample(batch_size, rng)
            latency = check_latency(space.latency(batch))
            drawn += batch_size
            hits = np.flatnonzero((latency >= low) & (latency <= high))[:n - count]
            kept.append(batch[hits])
            count += len(hits)
            bar.update(len(hits))
    return np.concatenate(kept) if kept else space.sample(0, rng)


def predict(model, space: SearchSpace, archs, *, chunk: int = PREDICT_CHUNK, progress: bool = True) -> np.ndarray:
    """``model.predict`` on ``archs`` of ``space``, encoding them chunk by chunk.

    A pool of 112,000 ProxylessNAS models as one dense GraphBatch would take
    ~290 MB; in chunks only a few MB exist at a time. Spaces that know a faster
    route for a model (chain graphs, :meth:`ChainSpace.predict`) provide
    ``space.predict(model, archs)``, used instead.
    """
    if hasattr(space, "predict"):
        return space.predict(model, archs, progress=progress)
    out = [np.asarray(model.predict(space.encode(archs[start:start + chunk])), dtype=float)
           for start in tqdm(range(0, len(archs), chunk), desc="predict", unit="chunk", disable=not progress)]
    return np.concatenate(out) if out else np.zeros(0)
