"""Latency targets on NAS-Bench-201: in-band pools per device, and one predictor for many targets (section 4.2).

Section 4.2 searches among "models with inference times between 75ms and 85ms".
On NAS-Bench-201 every cell's latency is a table lookup (the data README's 27
devices), so the in-band models are simply the cells whose latency lies in the
band: no rejection sampling (:func:`~np_lib.spaces.base.sample_in_band` needs
an infinite space's ``sample``; here the band is enumerated).

* :func:`band_at_quantiles`: a band given by quantiles of a device's latency
  distribution (how notebook 08 carries the paper's band over);
* :func:`in_band_cells`, :func:`in_band_pool`: the band's cells, and the
  :class:`~np_lib.protocol.Pool` that :class:`~np_lib.pareto.SoftParetoSearch`
  and :func:`~np_lib.experiment.run_experiment` take;
* :func:`soft_pareto_targets`: the paper's argument against one search per
  target: ONE predictor fitted on N cells serves several devices' bands, each
  getting its own soft-Pareto selection; :func:`compare_targets` sets each
  device's selection against random search on that device.

Disconnected cells (no input -> output path) are always left out: they sit at
chance accuracy (9.71 %) and near-zero phone latency (data README), so in a fast
band they would be the "fastest models" of every frontier while being useless.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..pareto import soft_pareto
from ..protocol import Pool
from ..search import check_predictor_and_N, fresh_estimator
from ..validation import as_rng, check_band, check_positive, check_seed
from .encoding import encode


def _connected_latency(bench, device: str) -> tuple[np.ndarray, np.ndarray]:
    cells = np.flatnonzero(bench.connected)
    return cells, bench.latency(device)[cells]


def band_at_quantiles(bench, device: str, quantiles) -> tuple[float, float]:
    """``(low, high)`` ms: the ``quantiles = (q_low, q_high)`` of ``device``'s latency over the connected cells.

    E.g. the quantiles at which the paper's 75-85 ms sit among random
    ProxylessNAS models (notebook 06) give the band at the same place in this
    device's distribution. Quantiles are fractions with ``0 <= q_low < q_high <= 1``.
    """
    q_low, q_high = (float(q) for q in quantiles)
    if not 0 <= q_low < q_high <= 1:
        raise ValueError(f"quantiles must be fractions 0 <= q_low < q_high <= 1, got {tuple(quantiles)!r}")
    _, latency = _connected_latency(bench, device)
    low, high = np.quantile(latency, [q_low, q_high])
    return float(low), float(high)


def in_band_cells(bench, device: str, band) -> np.ndarray:
    """Official indices (ascending) of the connected cells whose ``device`` latency lies in ``band`` (ends included)."""
    low, high = check_band(band)
    cells, latency = _connected_latency(bench, device)
    inside = cells[(latency >= low) & (latency <= high)]
    if len(inside) == 0:
        raise ValueError(f"no connected NAS-Bench-201 cell runs in [{low:g}, {high:g}] ms on {device} "
                         f"(its connected cells run in {latency.min():.3g}-{latency.max():.3g} ms)")
    return inside


def in_band_pool(bench, device: str, band) -> Pool:
    """The in-band cells as a :class:`~np_lib.protocol.Pool` of ``bench.space(device)``.

    Pool position ``i`` is the cell ``in_band_cells(bench, device, band)[i]``
    (``bench.index(pool.archs)`` recovers the official indices); its latency
    is the device's, its outcomes the seed-mean accuracies (``bench.simulate``).
    """
    return Pool(bench.space(device), bench.cells[in_band_cells(bench, device, band)])


@dataclass(frozen=True)
class TargetsResult:
    """One predictor for several latency targets: official indices throughout.

    ``train``: the N cells trained to fit the predictor (drawn from the union
    of the bands); ``cells``: that union, with the predictor's ``predicted``
    scores (``rank_score``); ``selected``: per device, its soft-Pareto cells
    among its band's cells not in ``train``, fastest first; ``trained(device)``:
    what that device's frontier is built from (its band's training cells and
    its selection).
    """

    train: np.ndarray
    cells: np.ndarray
    predicted: np.ndarray
    selected: dict
    pools: dict

    def trained(self, device: str) -> np.ndarray:
        """Official indices of the cells trained that lie in ``device``'s band: the N there, then its K."""
        pool = self.pools[device]
        return np.concatenate([self.train[np.isin(self.train, pool)], self.selected[device]])

    @property
    def K(self) -> dict:
        return {device: len(s) for device, s in self.selected.items()}


def soft_pareto_targets(bench, pools: dict, predictor, N: int = 119, J: int = 6, seed=0) -> TargetsResult:
    """Section 4.2 for several latency targets at once, with ONE predictor (the paper's argument).

    ``pools``: ``{device: official indices of its band's cells}`` (e.g.
    :func:`in_band_cells`). The N training cells are drawn uniformly without
    replacement from the union of the bands (so the predictor has seen cells
    like each target's), then the predictor's seed; the predictor (as for
    :class:`~np_lib.pareto.SoftParetoSearch`: an estimator with ``clone`` or a
    factory) is fitted on their validation accuracies and scores every cell of
    the union. Accuracy does not depend on the device, so one fit serves all:
    each device then keeps the soft-Pareto models (:func:`~np_lib.pareto.soft_pareto`,
    J) of its band's untrained cells by its own latency. Cost: N + the sum of
    the K's trainings, against N + K for each device searched on its own.
    """
    check_predictor_and_N(predictor, N)
    check_positive(J, "J")
    if not pools:
        raise ValueError("pools is empty: give at least one {device: in-band cells}")
    pools = {device: np.unique(np.asarray(cells, dtype=np.int64)) for device, cells in pools.items()}
    union = np.unique(np.concatenate(list(pools.values())))
    if N >= len(union):
        raise ValueError(f"N = {N} leaves no candidates in the {len(union)} cells of the bands")
    rng = as_rng(seed)
    train = union[rng.choice(len(union), size=int(N), replace=False)]
    model = fresh_estimator(predictor, int(rng.integers(2 ** 31)))
    model.fit(encode(bench.cells[train]), bench.validation_accuracy[train])
    predicted = np.asarray(model.rank_score(encode(bench.cells[union])), dtype=float)
    selected = {}
    for device, pool in pools.items():
        candidates = np.setdiff1d(pool, train)
        where = np.searchsorted(union, candidates)
        kept = soft_pareto(bench.latency(device)[candidates], predicted[where], J)
        selected[device] = candidates[kept]
    return TargetsResult(train, union, predicted, selected, pools)


def compare_targets(bench, results, bands: dict, *, draws: int = 200, seed=0):
    """Per device and run: :func:`soft_pareto_targets` against random search on that device alone.

    ``results``: one :class:`TargetsResult` per run (the same ``pools``);
    ``bands``: ``{device: (low, high)}``, the bands those pools were cut from
    (:func:`in_band_cells`). For run ``r`` and device ``d`` with ``K_d``
    selected models, random search trains ``N + K_d`` cells of ``d``'s band
    (what a search for that target alone would train; drawn from
    ``SeedSequence([seed, r, device position])``), while the shared search has
    trained, in that band, only its training cells that fall there plus its
    ``K_d``: a baseline that is given more in-band models, not fewer.
    Returns a DataFrame, one row per (run, device, method): ``in_band_trained``,
    the :func:`~np_lib.pareto.frontier_summary` columns over the band and
    ``random_models_to_match`` of its validation frontier mean
    (:func:`~np_lib.pareto.random_models_to_match`, ``draws`` random orders from ``seed``).
    """
    import pandas as pd

    from ..pareto import frontier_summary, random_frontier_means, random_models_to_match
    from ..search import RandomSearch

    rows = []
    for k, (device, band) in enumerate(bands.items()):
        cells = in_band_cells(bench, device, band)
        if any(not np.array_equal(r.pools[device], cells) for r in results):
            raise ValueError(f"{device}: the results' pool is not the band {band}'s cells")
        pool = Pool(bench.space(device), bench.cells[cells])
        latency, outcomes = pool.latency(), pool.simulate(0)
        grid = np.linspace(*band, 301)
        device_rows = []
        for r, result in enumerate(results):
            K = len(result.selected[device])
            rng = as_rng(np.random.SeedSequence([check_seed(seed), r, k]))
            shared = np.searchsorted(cells, result.trained(device))
            alone = RandomSearch().search(pool, outcomes, len(result.train) + K, rng).trace.trained
            for method, trained in (("soft-Pareto, one predictor", shared), ("random search", alone)):
                device_rows.append({"run": r, "device": device, "method": method, "K": K,
                                    "in_band_trained": len(trained),
                                    **frontier_summary(trained, outcomes, latency, grid, band=band)})
        means = random_frontier_means(latency, outcomes.validation_accuracy, band, draws=draws, seed=seed)
        needed = random_models_to_match([row["validation_frontier_mean_%"] / 100 for row in device_rows],
                                        latency, outcomes.validation_accuracy, band, means=means)
        for row, n in zip(device_rows, needed):
            row["random_models_to_match"] = n
        rows += device_rows
    return pd.DataFrame(rows)
