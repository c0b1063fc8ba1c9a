"""NAS-Bench-201 on the real files: index order, the README's checked values, latency, refusals.

The tests read ``$NP_LIB_DATA_DIR/nasbench201/`` (the project's shared data)
and are skipped without it; the checked values are those of its README and of
the NAS-Bench-201 paper.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

import np_lib.nasbench201 as nb

RESNET = "|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|"
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"



def test_official_index_order(bench, data_dir):
    import torch

    str_to_index = torch.load(data_dir / "nasbench201" / "str_arch2idx.pt", weights_only=True)
    assert list(str_to_index.values()) == list(range(15_625))
    assert bench.strings.tolist() == list(str_to_index)
    np.testing.assert_array_equal(bench.index(bench.cells), np.arange(15_625))
    assert bench.index(RESNET) == 11472 and bench.index(BEST) == 6111
    assert bench.strings[0] == ("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|"
                                "skip_connect~1|skip_connect~2|")
    np.testing.assert_array_equal(bench.index(bench.strings[[5, 9]]), [5, 9])


def test_readme_checked_values(bench):
    val, test = bench.validation_accuracy, bench.test_accuracy
    assert int(np.argmax(val)) == 6111
    assert val[6111] == pytest.approx(0.91607, abs=5e-6) and test[6111] == pytest.approx(0.94373, abs=5e-6)
    assert int(np.argmax(test)) == 6111
    assert val[11472] == pytest.approx(0.9086, abs=5e-5) and test[11472] == pytest.approx(0.9391, abs=5e-5)
    assert val.min() == pytest.approx(0.0971, abs=5e-5) and np.median(val) == pytest.approx(0.8730, abs=5e-5)
    assert bench.summary()["num_disconnected"] == 341


def test_disconnected_cells_are_at_chance_and_nearly_free(bench):
    off = ~bench.connected
    assert off.sum() == 341
    np.testing.assert_allclose(bench.validation_accuracy[off], 0.09712, atol=1e-6)
    np.testing.assert_allclose(bench.test_accuracy[off], 0.10, atol=1e-6)
    assert bench.validation_accuracy[~off].min() > 0.30   # every connected cell learns something
    pixel3 = bench.latency("pixel3")
    # near zero for most (README: ~0.05 ms); cut-off convolutions still run on the phone, up to ~15 ms
    assert np.median(pixel3[off]) < 0.1 and pixel3[~off].min() > 1.0
    assert pixel3[off].max() < 15.0


def test_every_device_has_15625_latencies(bench):
    assert len(bench.devices) == 27 and len(set(bench.devices)) == 27
    for device in bench.devices:
        latency = bench.latency(device)
        assert latency.shape == (15_625,) and latency.dtype == np.float64, device
        assert np.isfinite(latency).all() and (latency > 0).all(), device
        assert not latency.flags.writeable
    pixel3 = bench.latency("pixel3")
    assert np.median(pixel3) == pytest.approx(10.68, abs=0.005)
    assert pixel3.min() == pytest.approx(0.003, abs=5e-4) and pixel3.max() == pytest.approx(36.8, abs=0.05)
    assert (bench.latency("pixel2") == np.round(bench.latency("pixel2"))).all()  # HELP's whole milliseconds
    assert len(np.unique(bench.latency("fpga"))) == 84 and len(np.unique(bench.latency("eyeriss"))) == 38
    with pytest.raises(ValueError, match="unknown device 'pixel1'"):
        bench.latency("pixel1")


def test_simulate_gives_the_seed_means_and_no_training_time(bench):
    a, b = bench.simulate(0), bench.simulate(123)
    np.testing.assert_array_equal(a.validation_accuracy, b.validation_accuracy)
    np.testing.assert_array_equal(a.validation_accuracy, bench.validation_accuracy)
    assert a.has_test_accuracy and not bench.has_training_time and np.isnan(a.training_time).all()
    with pytest.raises(ValueError, match="200-epoch"):
        bench.simulate(0, epochs=12)


def test_a_tampered_pickle_is_refused_before_it_is_unpickled(data_dir, tmp_path, monkeypatch):
    import pandas as pd

    from np_lib.datasets import DatasetCorrupt

    source = data_dir / "nasbench201"
    if not (source / "arch_score_acc.pd").is_file():
        pytest.skip("NAS-Bench-201 data not found")
    target = tmp_path / "nasbench201"
    shutil.copytree(source, target)
    for copied in [target, *target.rglob("*")]:  # the mirror is read-only, and copytree keeps modes
        copied.chmod(0o755 if copied.is_dir() else 0o644)
    path = target / "arch_score_acc.pd"
    data = bytearray(path.read_bytes())
    data[-20] ^= 0xFF
    path.write_bytes(bytes(data))

    def no_unpickling(*args, **kwargs):
        raise AssertionError("an unverified pickle was unpickled")

    monkeypatch.setattr(pd, "read_pickle", no_unpickling)
    with pytest.raises(DatasetCorrupt):
        nb.load(data_dir=tmp_path)


def test_an_index_file_that_disagrees_with_the_table_is_refused(bench, data_dir, tmp_path, monkeypatch):
    import torch

    import np_lib.nasbench201.benchmark as benchmark

    real_load = torch.load

    def swapped(path, **kwargs):
        table = real_load(path, **kwargs)
        keys = list(table)
        keys[3], keys[4] = keys[4], keys[3]
        return dict(zip(keys, range(len(keys))))

    monkeypatch.setattr(torch, "load", swapped)
    with pytest.raises(ValueError, match="disagree on the official order: row 3"):
        benchmark.load()


def test_space_with_a_device(bench):
    space = bench.space("raspi4")
    cells = space.sample(50, 0)
    assert len(np.unique(nb.to_code(cells))) == 50
    np.testing.assert_array_equal(space.latency(cells), bench.latency("raspi4")[bench.index(cells)])
    result = space.evaluate(cells, 3)
    np.testing.assert_array_equal(result.validation_accuracy, bench.validation_accuracy[bench.index(cells)])
    np.testing.assert_array_equal(space.evaluate(cells, 4).validation_accuracy, result.validation_accuracy)
    assert np.isnan(bench.space().latency(cells)).all()
    mutant = space.mutate(cells[0], np.random.default_rng(1), 0.5)
    assert (mutant != cells[0]).sum() == 1 and space.arch_key(mutant) == nb.to_code(mutant)[0]
    with pytest.raises(ValueError, match="unknown device"):
        bench.space("pixel1")
    with pytest.raises(TypeError, match="takes a device name"):
        bench.latency(cells)


def test_neural_predictor_ranks_held_out_cells(bench):
    """A real small fit: the shared estimator on 200 cells, Kendall tau on 2,000 held-out ones.

    Measured with these settings on 3 splits (seeds 0-2): tau 0.706-0.724 (at
    N = 300: 0.73-0.74). 0.5 leaves room for seed and platform noise, while an
    encoding that lost the ops or the graph (or a predictor that did not
    learn) gives about 0 (a constant prediction is NaN).
    """
    from np_lib.metrics import kendall_tau
    from np_lib.predictor import NeuralPredictor

    idx = nb.sample_indices(2_200, 0)
    train, held_out = idx[:200], idx[200:]
    graphs = nb.encode(bench.cells)
    y = bench.validation_accuracy
    model = NeuralPredictor(seed=0, epochs=100).fit(graphs[train], y[train])
    tau = kendall_tau(y[held_out], model.predict(graphs[held_out]))
    assert tau > 0.5, tau


@pytest.fixture(scope="module")
def bench(nasbench201):
    return nasbench201
