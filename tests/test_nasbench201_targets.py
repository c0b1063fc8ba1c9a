"""Latency bands on NAS-Bench-201 (real files) and one predictor for several devices (section 4.2)."""
from __future__ import annotations

import numpy as np
import pytest

import np_lib.nasbench201 as nb
from np_lib.pareto import SoftParetoSearch, soft_pareto
from np_lib.predictor import NeuralPredictor


@pytest.fixture(scope="module")
def bench(nasbench201):
    return nasbench201


def test_band_at_quantiles_uses_connected_cells_only(bench):
    latency = bench.latency("pixel3")[bench.connected]
    assert nb.band_at_quantiles(bench, "pixel3", (0, 1)) == (latency.min(), latency.max())
    low, high = nb.band_at_quantiles(bench, "pixel3", (0.01, 0.1))
    assert np.mean(latency < low) == pytest.approx(0.01, abs=1e-3)
    assert np.mean(latency <= high) == pytest.approx(0.1, abs=1e-3)
    # disconnected cells run in ~0.05 ms on the phone: counted, the band would start far lower
    assert low > np.quantile(bench.latency("pixel3"), 0.01)
    for bad in ((0.1, 0.1), (0.2, 0.1), (-0.1, 0.5), (0.5, 1.5)):
        with pytest.raises(ValueError, match="quantiles"):
            nb.band_at_quantiles(bench, "pixel3", bad)


def test_in_band_cells_and_pool(bench):
    band = (2.0, 3.0)
    cells = nb.in_band_cells(bench, "pixel3", band)
    latency = bench.latency("pixel3")
    expected = np.flatnonzero(bench.connected & (latency >= 2.0) & (latency <= 3.0))
    np.testing.assert_array_equal(cells, expected)
    assert len(cells) > 300 and bench.connected[cells].all()
    pool = nb.in_band_pool(bench, "pixel3", band)
    assert len(pool) == len(cells)
    np.testing.assert_array_equal(bench.index(pool.archs), cells)
    np.testing.assert_array_equal(pool.latency(), latency[cells])
    np.testing.assert_array_equal(pool.simulate(0).validation_accuracy, bench.validation_accuracy[cells])
    with pytest.raises(ValueError, match="no connected NAS-Bench-201 cell"):
        nb.in_band_cells(bench, "pixel3", (100.0, 200.0))
    with pytest.raises(ValueError, match="band"):
        nb.in_band_cells(bench, "pixel3", (3.0, 2.0))


def test_soft_pareto_search_runs_on_an_in_band_pool(bench):
    pool = nb.in_band_pool(bench, "pixel3", (2.0, 3.0))
    search = SoftParetoSearch(NeuralPredictor(epochs=2, lr=1e-3), N=40, J=6)
    result = search.search(pool, pool.simulate(0), None, 0)
    assert len(result.train) == 40 and result.K == len(result.selected) > 0
    assert np.all(np.diff(pool.latency()[result.selected]) >= 0)


def test_one_predictor_serves_several_targets(bench):
    devices = ("pixel3", "fpga")
    pools = {d: nb.in_band_cells(bench, d, nb.band_at_quantiles(bench, d, (0.05, 0.1))) for d in devices}
    predictor = NeuralPredictor(epochs=2, lr=1e-3)
    a = nb.soft_pareto_targets(bench, pools, predictor, N=30, J=6, seed=3)
    b = nb.soft_pareto_targets(bench, pools, predictor, N=30, J=6, seed=3)
    union = np.union1d(*pools.values())
    np.testing.assert_array_equal(a.cells, union)
    assert len(a.train) == 30 and np.isin(a.train, union).all()
    np.testing.assert_array_equal(a.train, b.train)
    for device in devices:
        np.testing.assert_array_equal(a.selected[device], b.selected[device])   # seeded
        candidates = np.setdiff1d(pools[device], a.train)
        kept = soft_pareto(bench.latency(device)[candidates], a.predicted[np.searchsorted(union, candidates)], 6)
        np.testing.assert_array_equal(a.selected[device], candidates[kept])
        trained = a.trained(device)
        assert np.isin(trained, pools[device]).all() and len(set(trained.tolist())) == len(trained)
    assert a.K == {d: len(a.selected[d]) for d in devices}
    # the two devices order the cells differently, so their selections differ
    assert a.selected["pixel3"].tolist() != a.selected["fpga"].tolist()
    with pytest.raises(ValueError, match="leaves no candidates"):
        nb.soft_pareto_targets(bench, {"pixel3": pools["pixel3"][:10]}, predictor, N=10)
    with pytest.raises(ValueError, match="pools is empty"):
        nb.soft_pareto_targets(bench, {}, predictor)


def test_compare_targets_gives_each_device_its_own_random_search(bench):
    bands = {d: nb.band_at_quantiles(bench, d, (0.05, 0.1)) for d in ("pixel3", "titan_rtx_1")}
    pools = {d: nb.in_band_cells(bench, d, band) for d, band in bands.items()}
    predictor = NeuralPredictor(epochs=2, lr=1e-3)
    results = [nb.soft_pareto_targets(bench, pools, predictor, N=30, J=6, seed=s) for s in (0, 1)]
    table = nb.compare_targets(bench, results, bands, draws=21, seed=0)
    assert len(table) == 2 * 2 * 2
    for (run, device), rows in table.groupby(["run", "device"]):
        result, pool = results[run], pools[device]
        shared, alone = rows.set_index("method").loc[["soft-Pareto, one predictor", "random search"]].to_dict("records")
        K = len(result.selected[device])
        assert shared["K"] == alone["K"] == K
        assert alone["in_band_trained"] == 30 + K                                 # a search for this target alone
        assert shared["in_band_trained"] == np.isin(result.train, pool).sum() + K
        for row in (shared, alone):
            assert 0 < row["random_models_to_match"] <= len(pool)
            assert row["validation_frontier_mean_%"] <= row["true_validation_frontier_mean_%"] + 1e-9
    again = nb.compare_targets(bench, results, bands, draws=21, seed=0)
    assert again.equals(table)                                                     # seeded
    with pytest.raises(ValueError, match="not the band"):
        nb.compare_targets(bench, results, {"pixel3": (2.0, 3.0)})
