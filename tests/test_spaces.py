"""The search spaces of section 4.2 and the shared interface: ProxylessNAS (sampler, count,
table latency, in-band sampler, the released model's config), OFA MobileNetV3 (latency, the
accuracy predictor's input and range), NAS-Bench-Macro (the data), the NAS-Bench-101 adapter,
and the chain fast path of the predictor."""
import math

import numpy as np
import pytest
import torch
import yaml
from scipy import stats

from np_lib.predictor import NeuralPredictor
from np_lib.search import NeuralPredictorSearch, RandomSearch
from np_lib.spaces import base
from np_lib.chain_fastpath import chain_logits, window_table
from np_lib.spaces.chain import hashed_normal


@pytest.fixture(scope="module")
def proxyless(data_dir):
    from np_lib.spaces.proxylessnas import TABLE_FILE, ProxylessNAS

    if not (data_dir / TABLE_FILE).is_file():
        pytest.skip(f"{TABLE_FILE} not in {data_dir}; set NP_LIB_DATA_DIR")
    return ProxylessNAS()


@pytest.fixture(scope="module")
def ofa(data_dir):
    from np_lib.spaces.ofa import FOLDER, OFAMobileNetV3

    if not (data_dir / FOLDER / "acc_predictor.pth").is_file():
        pytest.skip(f"{FOLDER} not in {data_dir}; set NP_LIB_DATA_DIR")
    return OFAMobileNetV3(224)


@pytest.fixture(scope="module")
def macro(data_dir):
    from np_lib.spaces.macro import FILE, NASBenchMacro

    if not (data_dir / FILE).is_file():
        pytest.skip(f"{FILE} not in {data_dir}; set NP_LIB_DATA_DIR")
    return NASBenchMacro()


# --- ProxylessNAS ----------------------------------------------------------------------------------

def test_proxyless_count_is_the_papers(proxyless):
    assert proxyless.size == 3 * 6 ** 6 * 7 ** 15
    assert 6.64e17 <= proxyless.size < 6.65e17
    assert proxyless.num_layers == 22 and proxyless.num_classes == 7


def test_proxyless_uses_every_table_entry(proxyless, data_dir):
    with open(data_dir / "proxylessnas" / "mobile_trim.yaml") as f:
        assert proxyless.used_keys == sorted(yaml.safe_load(f))


def test_proxyless_sampler_valid_uniform_seeded(proxyless):
    archs = proxyless.sample(21_000, seed=0)
    assert archs.shape == (21_000, 22) and archs.dtype == np.int8
    proxyless.check(archs)
    first = [0] + [1 + sum((4, 4, 4, 4, 4, 1)[:s]) for s in range(6)]
    assert set(np.unique(archs[:, 0])) == {0, 1, 2}
    assert not (archs[:, first] == 6).any()          # "The first layer of a block is always present"
    for layer in range(22):
        counts = np.bincount(archs[:, layer], minlength=7)
        counts = counts[counts > 0]
        assert len(counts) == (3 if layer == 0 else 6 if layer in first else 7)
        assert stats.chisquare(counts).pvalue > 1e-4
    assert np.array_equal(proxyless.sample(100, 5), proxyless.sample(100, 5))
    assert not np.array_equal(proxyless.sample(100, 5), proxyless.sample(100, 6))


def test_proxyless_rejects_invalid(proxyless):
    arch = np.zeros((1, 22), np.int8)
    arch[0, 1] = 6                                     # skip on a stage's first layer
    with pytest.raises(ValueError, match="not allowed at layer 1"):
        proxyless.latency(arch)
    with pytest.raises(ValueError, match=r"\(n, 22\)"):
        proxyless.latency(np.zeros((1, 21), np.int8))
    with pytest.raises(NotImplementedError, match="no accuracy data"):
        proxyless.evaluate(arch * 0, 0)


def test_proxyless_hand_priced_latency(proxyless, data_dir):
    with open(data_dir / "proxylessnas" / "mobile_trim.yaml") as f:
        table = {k: v["mean"] for k, v in yaml.safe_load(f).items()}
    # layer 0 kernel 5; every stage's first layer MB6 7x7; everything else skipped
    arch = np.full(22, 6, np.int8)
    arch[0] = 1
    arch[[1, 5, 9, 13, 17, 21]] = 5
    keys = ["Conv-input:224x224x3-output:112x112x32", "Conv_1-input:7x7x320-output:7x7x1280",
            "Logits-input:7x7x1280-output:1000",
            "expanded_conv-input:112x112x32-output:112x112x16-expand:1-kernel:5-stride:1-idskip:0",
            "expanded_conv-input:112x112x16-output:56x56x24-expand:6-kernel:7-stride:2-idskip:0",
            "expanded_conv-input:56x56x24-output:28x28x40-expand:6-kernel:7-stride:2-idskip:0",
            "expanded_conv-input:28x28x40-output:14x14x80-expand:6-kernel:7-stride:2-idskip:0",
            "expanded_conv-input:14x14x80-output:14x14x96-expand:6-kernel:7-stride:1-idskip:0",
            "expanded_conv-input:14x14x96-output:7x7x192-expand:6-kernel:7-stride:2-idskip:0",
            "expanded_conv-input:7x7x192-output:7x7x320-expand:6-kernel:7-stride:1-idskip:0"]
    assert proxyless.latency(arch)[0] == pytest.approx(sum(table[k] for k in keys), abs=1e-9)
    # a non-first layer's MB3 3x3 adds its idskip:1 entry
    arch[2] = 0
    extra = table["expanded_conv-input:56x56x24-output:56x56x24-expand:3-kernel:3-stride:1-idskip:1"]
    assert proxyless.latency(arch)[0] == pytest.approx(sum(table[k] for k in keys) + extra, abs=1e-9)


def test_proxyless_latency_spread(proxyless):
    latency = proxyless.latency(proxyless.sample(50_000, 1))
    assert 60 < np.percentile(latency, 0.1) and np.percentile(latency, 99.9) < 175   # README: about 62-171 ms
    assert 110 < np.median(latency) < 125                    # README: median about 117 ms
    assert 0.005 < base.in_band(latency, (75, 85)).mean() < 0.012   # README: about 0.8 %


def test_in_band_sampler(proxyless):
    a = proxyless.sample_in_band(300, (75, 85), seed=3, progress=False)
    latency = proxyless.latency(a)
    assert a.shape == (300, 22) and latency.min() >= 75 and latency.max() <= 85
    assert np.array_equal(a, proxyless.sample_in_band(300, (75, 85), seed=3, progress=False))
    assert not np.array_equal(a, proxyless.sample_in_band(300, (75, 85), seed=4, progress=False))
    assert proxyless.sample_in_band(0, (75, 85), seed=3, progress=False).shape == (0, 22)


def test_in_band_sampler_errors(proxyless):
    with pytest.raises(ValueError, match="empty band"):
        proxyless.sample_in_band(10, (85, 75), seed=0)
    with pytest.raises(ValueError, match="band must be a pair"):
        proxyless.sample_in_band(10, 80, seed=0)
    with pytest.raises(ValueError, match="only 0 of"):
        base.sample_in_band(proxyless, 10, (1, 2), seed=0, batch_size=1000, max_draws=3000, progress=False)


def test_proxyless_mobile_config(proxyless):
    from np_lib.spaces.proxylessnas import read_config

    config = read_config()
    assert config.arch.tolist() == [0, 1, 0, 6, 6, 2, 0, 1, 1, 5, 1, 1, 1, 4, 1, 1, 1, 5, 5, 2, 2, 5]
    assert proxyless.names(config.arch)[:3] == ["MB3 3x3", "MB3 5x5", "MB3 3x3"]
    assert config.width_mismatches == ((1, 32, 24), (2, 32, 24))  # README: 32 channels, not 24, at 56x56
    assert proxyless.latency(config.arch)[0] == pytest.approx(82.52, abs=0.01)  # README: about 82.5 ms


def test_proxyless_encoding(proxyless):
    archs = proxyless.sample(5, 0)
    graphs = proxyless.encode(archs)
    assert graphs.features.shape == (5, 22, 7) and graphs.adjacency.shape == (5, 22, 22)
    assert torch.equal(graphs.features.argmax(-1), torch.from_numpy(archs.astype(np.int64)))
    assert torch.equal(graphs.adjacency[0], torch.diag(torch.ones(21), 1))


# --- the chain fast path ---------------------------------------------------------------------------

def test_chain_fast_path_equals_the_gcn(proxyless):
    archs = proxyless.sample(300, 0)
    model = NeuralPredictor(num_layers=18, D=16, fc_sizes=(32, 8), epochs=1, seed=0)
    model.fit(proxyless.encode(archs[:20]), np.linspace(0.7, 0.8, 20))
    with torch.no_grad():                    # make the deep net's output depend on the graph
        for conv in model.net_.convs:
            conv.weight.mul_(2.0)
    generic = model.predict(proxyless.encode(archs))
    fast = proxyless.predict(model, archs, progress=False)
    assert np.std(generic) > 1e-4
    np.testing.assert_allclose(fast, generic, rtol=0, atol=1e-6)
    # 300 models are 3 chunks: spread over threads they give the very same numbers.
    assert np.array_equal(proxyless.predict(model, archs, num_threads=2, progress=False), fast)
    for bad in (0, 1.5):
        with pytest.raises(ValueError, match="num_threads"):
            proxyless.predict(model, archs, num_threads=bad, progress=False)
    with torch.inference_mode():
        labels = torch.from_numpy(archs[:7].astype(np.int64))
        from np_lib.gcn import GraphInputs
        np.testing.assert_allclose(chain_logits(model.net_, labels),
                                   model.net_(GraphInputs.from_graphs(proxyless.encode(archs[:7]))), atol=1e-4)


@pytest.mark.parametrize("length", [1, 2, 3, 6])
def test_window_tables_give_the_layer_by_layer_numbers(length):
    # Chains shorter than a window too: both ends inside one window.
    from np_lib.encoding import linear_graphs
    from np_lib.gcn import GCN, GraphInputs

    torch.manual_seed(0)
    net = GCN(3, D=12, num_layers=4, fc_sizes=(8,), init="looks_linear").eval()
    labels = torch.from_numpy(np.random.default_rng(1).integers(0, 3, (400, length)))
    with torch.inference_mode():
        plain = chain_logits(net, labels)
        generic = net(GraphInputs.from_graphs(linear_graphs(labels.numpy(), 3)))
        assert generic.std() > 1e-3
        torch.testing.assert_close(plain, generic, rtol=0, atol=1e-5)
        for depth in (1, 2, 3):
            assert torch.equal(chain_logits(net, labels, window_table(net, 3, depth)), plain)
    with pytest.raises(ValueError, match="depth"):
        window_table(net, 3, 4)


def test_hashed_normal_is_a_function_of_model_and_seed():
    archs = np.random.default_rng(0).integers(0, 7, (20_000, 22))
    z = hashed_normal(archs, 3)
    assert np.array_equal(z[5:9], hashed_normal(archs[5:9], 3))
    assert not np.array_equal(z[:4], hashed_normal(archs[:4], 4))
    assert abs(z.mean()) < 0.03 and abs(z.std() - 1) < 0.03


# --- OFA MobileNetV3 -------------------------------------------------------------------------------

@pytest.mark.parametrize("resolution", [160, 176, 192, 208, 224])
def test_ofa_tables_cover_the_space(data_dir, resolution):
    from np_lib.spaces.ofa import FOLDER, OFAMobileNetV3

    path = data_dir / FOLDER / "note10" / f"{resolution}_lookup_table.yaml"
    if not path.is_file():
        pytest.skip(f"{path} missing")
    with open(path) as f:
        assert OFAMobileNetV3(resolution).used_keys == sorted(yaml.safe_load(f))


def test_ofa_sampler(ofa):
    archs = ofa.sample(9000, 0)
    ofa.check(archs)
    depths = ofa.depths(archs)
    for stage in range(5):
        assert stats.chisquare(np.bincount(depths[:, stage])[2:]).pvalue > 1e-4
    mbconv = archs[archs != 9]
    assert stats.chisquare(np.bincount(mbconv, minlength=9)).pvalue > 1e-4
    assert ofa.size == (9 ** 2 + 9 ** 3 + 9 ** 4) ** 5
    bad = archs[:1].copy()
    bad[0, 2], bad[0, 3] = 9, 0
    with pytest.raises(ValueError, match="block 0 .* skips a layer before a present one"):
        ofa.check(bad)


def test_ofa_hand_priced_latency(ofa, data_dir):
    with open(data_dir / "ofa_mbv3" / "note10" / "224_lookup_table.yaml") as f:
        table = {k: v["mean"] for k, v in yaml.safe_load(f).items()}
    arch = np.tile(np.array([0, 0, 9, 9], np.int8), 5)   # depth 2 everywhere, MB3 3x3
    fixed = sum(v for k, v in table.items() if not k.startswith("expanded_conv")) + table[
        "expanded_conv-input:112x112x24-output:112x112x24-expand:24-kernel:3-stride:1-idskip:1-se:0-hs:0"]
    layers = ["112x112x24-output:56x56x32-expand:72-kernel:3-stride:2-idskip:0-se:0-hs:0",
              "56x56x32-output:56x56x32-expand:96-kernel:3-stride:1-idskip:1-se:0-hs:0",
              "56x56x32-output:28x28x48-expand:96-kernel:3-stride:2-idskip:0-se:1-hs:0",
              "28x28x48-output:28x28x48-expand:144-kernel:3-stride:1-idskip:1-se:1-hs:0",
              "28x28x48-output:14x14x96-expand:144-kernel:3-stride:2-idskip:0-se:0-hs:1",
              "14x14x96-output:14x14x96-expand:288-kernel:3-stride:1-idskip:1-se:0-hs:1",
              "14x14x96-output:14x14x136-expand:288-kernel:3-stride:1-idskip:0-se:1-hs:1",
              "14x14x136-output:14x14x136-expand:408-kernel:3-stride:1-idskip:1-se:1-hs:1",
              "14x14x136-output:7x7x192-expand:408-kernel:3-stride:2-idskip:0-se:1-hs:1",
              "7x7x192-output:7x7x192-expand:576-kernel:3-stride:1-idskip:1-se:1-hs:1"]
    expected = fixed + sum(table["expanded_conv-input:" + k] for k in layers)
    assert ofa.latency(arch)[0] == pytest.approx(expected, abs=1e-9)


def test_ofa_predictor_input_encoding(ofa):
    arch = np.array([[0, 4, 8, 9,  1, 2, 3, 5,  6, 7, 9, 9,  8, 8, 8, 8,  2, 2, 2, 9]], np.int8)
    x = ofa.features(arch)[0]
    assert x.shape == (128,) and x.sum() == 2 * 16 + 1        # 16 layers, each a kernel and an expansion
    kernel = x[:60].reshape(20, 3)
    expansion = x[60:120].reshape(20, 3)
    assert kernel[0].tolist() == [1, 0, 0] and expansion[0].tolist() == [1, 0, 0]     # MB3 3x3
    assert kernel[1].tolist() == [0, 1, 0] and expansion[1].tolist() == [0, 1, 0]     # MB4 5x5
    assert kernel[2].tolist() == [0, 0, 1] and expansion[2].tolist() == [0, 0, 1]     # MB6 7x7
    assert kernel[3].sum() == 0 and expansion[3].sum() == 0                           # beyond depth
    assert np.flatnonzero(x[120:]).tolist() == [7]                                    # (224 - 112) // 16


def test_ofa_accuracy_range_and_noise(ofa):
    archs = ofa.sample(2000, 0)
    accuracy = ofa.surrogate_accuracy(archs)
    assert 0.77 < accuracy.min() and accuracy.max() < 0.84            # README: 0.795-0.827 (1st-99th pct)
    smallest = np.tile(np.array([0, 0, 9, 9], np.int8), 5)
    largest = np.full(20, 8, np.int8)
    assert ofa.surrogate_accuracy(smallest[None])[0] < ofa.surrogate_accuracy(largest[None])[0]
    ev = ofa.evaluate(archs, seed=0)
    assert np.array_equal(ev.test_accuracy, accuracy)
    noise = ev.validation_accuracy - accuracy
    assert abs(noise.std() - 0.0014) < 0.0002
    assert np.array_equal(ofa.evaluate(archs[10:20], seed=0).validation_accuracy, ev.validation_accuracy[10:20])


def test_paper_depth_learns_with_looks_linear_init(ofa):
    # Section 4.2's predictor (18 graph layers, D = 96, FC 512 and 128) on N = 119 OFA chains,
    # 79 to fit and 40 to validate. From Glorot's start every chain's representation collapses
    # to the same vector and the model predicts one number; from a looks-linear start it learns.
    archs = ofa.sample(119, 3)
    y = ofa.evaluate(archs, seed=0).validation_accuracy
    graphs = ofa.encode(archs)
    paper = dict(num_layers=18, D=96, fc_sizes=(512, 128), epochs=60, lr=1e-3, dropout=0.0, seed=0)
    scores = {}
    for init in ("glorot", "looks_linear"):
        predicted = NeuralPredictor(init=init, **paper).fit(graphs[:79], y[:79]).predict(graphs[79:])
        scores[init] = (np.std(predicted), stats.kendalltau(predicted, y[79:])[0])
    assert scores["glorot"][0] < 1e-4                      # one prediction for every model
    assert scores["looks_linear"][0] > 0.2 * np.std(y[79:])
    assert scores["looks_linear"][1] > 0.3, scores


# --- NAS-Bench-Macro -------------------------------------------------------------------------------

def test_macro_data(macro):
    assert len(macro.all()) == 6561 and macro.runs.shape == (6561, 3)
    assert macro.mean_accuracy.min() == pytest.approx(0.4536, abs=1e-4)     # README: 45.4-93.1
    assert macro.mean_accuracy.max() == pytest.approx(0.9313, abs=1e-4)
    assert np.median(macro.mean_accuracy) == pytest.approx(0.910, abs=5e-4)  # README: median 91.0
    assert np.median(macro.runs.std(axis=1)) == pytest.approx(0.0014, abs=5e-5)  # README: 0.14
    assert np.array_equal(macro.rows(macro.all()), np.arange(6561))
    assert np.array_equal(macro.macs(macro.all()), macro.flops)              # our layer shapes = theirs


def test_macro_sampling_and_evaluation(macro):
    a = macro.sample(6561, 0)
    assert len(np.unique(macro.rows(a))) == 6561                             # without replacement
    ev = macro.evaluate(a[:500], seed=1)
    rows = macro.rows(a[:500])
    assert np.all((macro.runs[rows] == ev.validation_accuracy[:, None]).any(axis=1))
    assert np.array_equal(ev.test_accuracy, macro.mean_accuracy[rows])
    assert np.array_equal(macro.evaluate(a[100:110], 1).validation_accuracy, ev.validation_accuracy[100:110])
    band = macro.sample_in_band(200, (3.0, 4.0), seed=0, progress=False)
    assert len(np.unique(macro.rows(band))) == 200 and base.in_band(macro.latency(band), (3.0, 4.0)).all()
    with pytest.raises(ValueError, match="only"):
        macro.sample_in_band(10, (0.0, 0.5), seed=0)
    with pytest.raises(ValueError, match="cannot draw"):
        macro.sample(6562, 0)


def test_one_engine_runs_section_41_strategies_on_a_chain_space(macro):
    pool = macro.all()
    graphs, outcomes = macro.encode(pool), macro.evaluate(pool, 0)
    assert isinstance(macro, base.SearchSpace)
    random = RandomSearch().search(graphs, outcomes, 30, seed=0)
    np_search = NeuralPredictorSearch(NeuralPredictor(num_layers=2, D=8, epochs=2), N=20).search(
        graphs, outcomes, 30, seed=0)
    assert len(random.trace) == len(np_search.trace) == 30
    assert np.isnan(random.trace.cumulative_time).all()      # no training times in this data


# --- NAS-Bench-101 behind the same interface -------------------------------------------------------

def test_nasbench101_adapter(sample_csv):
    from np_lib.nasbench101.benchmark import load
    from np_lib.pareto import SoftParetoSearch
    from np_lib.spaces.nasbench101 import NASBench101Space

    space = NASBench101Space(load(sample_csv, progress=False))
    assert isinstance(space, base.SearchSpace)
    cells = space.sample(50, 0)
    assert len(cells) == 50 and space.encode(cells).features.shape == (50, 7, 5)
    assert np.isnan(space.latency(cells)).all()
    ev = space.evaluate(cells, 0)
    rows = space.cells.index(cells.hashes)
    assert np.array_equal(ev.validation_accuracy, space.bench.simulate(0).validation_accuracy[rows])
    assert len(RandomSearch().search(cells, ev, 10, seed=0).trace) == 10
    with pytest.raises(ValueError, match="no latency"):
        base.sample_in_band(space, 5, (1, 2), seed=0)
    with pytest.raises(ValueError, match="NaN"):
        SoftParetoSearch(NeuralPredictor(epochs=1), N=10).search(space, cells, ev, seed=0, progress=False)


# --- Pool spaces: your own table of trained models --------------------------------------------------

@pytest.fixture(scope="module")
def macro_table(macro):
    """NAS-Bench-Macro as a user would hold it: one row per model, layers as strings, percent accuracy."""
    table = macro.table.copy()
    table["ms"] = macro.latency(macro.all())
    return table


def test_pool_from_dataframe_reads_a_users_table(macro, macro_table):
    from np_lib.spaces import PoolSpace

    layers = [f"layer{i}" for i in range(8)]
    pool = PoolSpace.from_dataframe(macro_table, layers, "mean_acc", unit="percent", latency="ms")
    assert pool.size == 6561 and pool.num_classes == 3 and pool.has_latency
    assert pool.op_names == ("MB3 3x3", "MB6 5x5", "identity")               # sorted labels
    archs = pool.sample(300, 0)
    assert len({bytes(a) for a in archs}) == 300                              # without replacement
    rows = pool.rows(archs)
    np.testing.assert_array_equal(pool.evaluate(archs, 0).validation_accuracy, macro.mean_accuracy[rows])
    np.testing.assert_array_equal(pool.latency(archs), macro_table["ms"].to_numpy()[rows])
    graphs = pool.encode(archs[:5])
    assert graphs.features.shape == (5, 8, 3) and bool(graphs.mask.all())
    # the one-hot of each node is the label in that row's column
    names = np.array(pool.op_names)[graphs.features.argmax(-1).numpy()]
    np.testing.assert_array_equal(names, macro_table[layers].to_numpy()[rows[:5]])
    band = (2.0, 2.5)
    inside = pool.sample_in_band(100, band, seed=3, progress=False)
    assert base.in_band(pool.latency(inside), band).all() and len({bytes(a) for a in inside}) == 100
    with pytest.raises(ValueError, match="only .* lie in the band"):
        pool.sample_in_band(10, (0.0, 0.1), seed=0)


def test_pool_seeds_columns_draw_one_run_per_model(macro, macro_table):
    from np_lib.spaces import PoolSpace

    layers = [f"layer{i}" for i in range(8)]
    pool = PoolSpace.from_dataframe(macro_table, layers, ["seed0", "seed1", "seed2"], unit="percent",
                                    labels=macro.op_names)
    archs = macro.sample(400, 5)
    mine, theirs = pool.evaluate(archs, 11), macro.evaluate(archs, 11)
    np.testing.assert_array_equal(mine.validation_accuracy, theirs.validation_accuracy)
    # no test column: the mean of the seeds (the benchmark's mean_acc agrees to its rounding)
    np.testing.assert_allclose(mine.test_accuracy, theirs.test_accuracy, atol=1e-4)
    assert not pool.has_latency
    with pytest.raises(ValueError, match="no latency"):
        pool.sample_in_band(5, (1.0, 2.0), seed=0)


def test_pool_latency_as_callable_and_additive_table(macro, macro_table):
    from np_lib.spaces import PoolSpace

    layers = [f"layer{i}" for i in range(8)]
    table = {"fixed": macro.fixed_cost, **{layer: dict(zip(macro.op_names, macro.layer_cost[i]))
                                           for i, layer in enumerate(layers)}}
    additive = PoolSpace.from_dataframe(macro_table, layers, "mean_acc", unit="percent", latency=table,
                                        labels=macro.op_names)
    archs = macro.sample(200, 1)
    np.testing.assert_array_equal(additive.latency(archs), macro.latency(archs))
    counted = PoolSpace.from_dataframe(macro_table, layers, "mean_acc", unit="percent", labels=macro.op_names,
                                       latency=lambda choices: 1.0 + (choices == "MB6 5x5").sum(axis=1))
    np.testing.assert_array_equal(counted.latency(archs), 1.0 + (archs == 2).sum(axis=1))


def test_pool_skip_drops_layers_from_the_graph():
    import pandas as pd
    from np_lib.spaces import PoolSpace

    df = pd.DataFrame({"a": ["conv", "conv", "none"], "b": ["none", "pool", "pool"], "c": ["pool", "conv", "conv"],
                       "acc": [0.5, 0.6, 0.7]})
    pool = PoolSpace.from_dataframe(df, ["a", "b", "c"], "acc", unit="fraction", skip="none")
    graphs = pool.encode(pool.all())
    assert graphs.mask.sum(dim=1).tolist() == [2, 3, 2]
    np.testing.assert_array_equal(graphs.adjacency[0].numpy(), [[0, 1, 0], [0, 0, 0], [0, 0, 0]])
    conv, pool_ = pool.op_names.index("conv"), pool.op_names.index("pool")
    assert graphs.features[0, :2].argmax(-1).tolist() == [conv, pool_]      # conv -> pool, the skip gone
    model = NeuralPredictor(D=4, epochs=2, seed=0).fit(graphs, [0.5, 0.6, 0.7])
    np.testing.assert_allclose(pool.predict(model, pool.all(), progress=False), model.predict(graphs), rtol=0)


@pytest.mark.parametrize("change, error, message", [
    (lambda df: df.drop(columns="acc"), KeyError, r"columns \['acc'\] not in the table"),
    (lambda df: df.assign(acc=[0.5, np.nan, 0.7]), ValueError, "NaN or infinite .* row 1"),
    (lambda df: df.assign(b=["x", None, "y"]), ValueError, "row 1 has no choice for layer 'b'"),
    (lambda df: df.assign(a=["p", "p", "q"], b=["x", "x", "y"]), ValueError, "rows 0 and 1 hold the same"),
    (lambda df: df.assign(acc=[50.0, 60.0, 70.0]), ValueError, "percent\\? pass unit='percent'"),
])
def test_pool_bad_tables(change, error, message):
    import pandas as pd
    from np_lib.spaces import PoolSpace

    df = pd.DataFrame({"a": ["p", "q", "q"], "b": ["x", "x", "y"], "acc": [0.5, 0.6, 0.7]})
    with pytest.raises(error, match=message):
        PoolSpace.from_dataframe(change(df), ["a", "b"], "acc", unit="fraction")


def test_pool_units_are_explicit_and_checked():
    import pandas as pd
    from np_lib.spaces import PoolSpace

    df = pd.DataFrame({"a": ["p", "q"], "acc": [0.5, 0.6]})
    with pytest.raises(TypeError):
        PoolSpace.from_dataframe(df, ["a"], "acc")                           # no unit: no guess
    with pytest.raises(ValueError, match="unit must be one of"):
        PoolSpace.from_dataframe(df, ["a"], "acc", unit="percentage")
    with pytest.raises(ValueError, match="fractions\\? pass unit='fraction'"):
        PoolSpace.from_dataframe(df, ["a"], "acc", unit="percent")
    pool = PoolSpace.from_dataframe(df.assign(acc=[50.0, 60.0]), ["a"], "acc", unit="percent")
    np.testing.assert_array_equal(pool.evaluate(pool.all(), 0).validation_accuracy, [0.5, 0.6])
    with pytest.raises(ValueError, match="cannot draw 3 distinct models"):
        pool.sample(3, 0)
    two = PoolSpace.from_dataframe(pd.DataFrame({"a": ["p", "q"], "b": ["x", "y"], "acc": [0.5, 0.6]}),
                                   ["a", "b"], "acc", unit="fraction")
    with pytest.raises(ValueError, match=r"architecture 0 \(\['p', 'y'\]\) is not in the pool"):
        two.evaluate(np.array([[0, 3]]), 0)                                 # each label allowed, the pair absent


# --- Structured chain spaces (blocks) ---------------------------------------------------------------

def _small_blocks():
    from np_lib.spaces.blocks import Block, BlockChainSpace

    # ops 0-2, skip 3: a shared block of 1-3 layers, a free block of 0-2 layers (per-layer choices),
    # a fixed layer.
    blocks = [Block((0, 1, 2), max_depth=3, min_depth=1, shared=True),
              Block(((0, 1), (1, 2, 0)), max_depth=2, min_depth=0),
              Block((2, 0))]
    return BlockChainSpace(("a", "b", "c", "skip"), blocks, skip=3)


def _brute_force(space):
    import itertools

    valid = []
    for arch in itertools.product(range(space.num_classes), repeat=space.num_layers):
        try:
            space.check(np.array([arch]))
        except ValueError:
            continue
        valid.append(arch)
    return valid


def test_block_space_size_is_the_brute_force_count():
    space = _small_blocks()
    valid = _brute_force(space)
    # shared block: 3 ops x 3 depths = 9; free block: 1 + 2 + 2*3 = 9; fixed: 2
    assert space.size == len(valid) == 9 * 9 * 2
    assert space.size < math.prod(int(c) for c in space.counts)              # per-layer product overcounts


def test_block_space_samples_are_valid_and_uniform():
    space = _small_blocks()
    valid = {arch: i for i, arch in enumerate(_brute_force(space))}
    archs = space.check(space.sample(40_000, 0))                            # every sample is in the space
    counts = np.bincount([valid[tuple(a)] for a in archs.tolist()], minlength=len(valid))
    assert counts.min() > 0 and stats.chisquare(counts).pvalue > 1e-4       # uniform over the 162 models
    assert np.array_equal(space.sample(100, 7), space.sample(100, 7))


@pytest.mark.parametrize("arch, message", [
    ([0, 1, 0, 0, 1, 2], "must share one op"),
    ([0, 3, 0, 0, 1, 2], "skips a layer before a present one"),
    ([3, 3, 3, 0, 1, 2], "op 3 is not allowed at layer 0"),                  # below min_depth
    ([0, 0, 0, 2, 1, 2], "op 2 is not allowed at layer 3"),
    ([0, 0, 0, 3, 3, 3], "op 3 is not allowed at layer 5"),
])
def test_block_space_check_rejects_models_outside_it(arch, message):
    with pytest.raises(ValueError, match=message):
        _small_blocks().check(np.array([arch]))


def test_paper_spaces_declared_by_blocks(proxyless, ofa):
    from np_lib.spaces.blocks import BlockChainSpace

    assert isinstance(proxyless, BlockChainSpace) and isinstance(ofa, BlockChainSpace)
    assert proxyless.size == 3 * 6 ** 6 * 7 ** 15                              # section 4.2: 6.64e17
    # ProxylessNAS's layers are independent blocks: its sampler is the per-layer one, seed for seed.
    from np_lib.spaces.chain import ChainSpace
    np.testing.assert_array_equal(proxyless.sample(1000, 3), ChainSpace.sample(proxyless, 1000, 3))
    # OFA's uniform-over-models sampler: deep stages are 81x as common as shallow ones.
    depths = ofa.depths(BlockChainSpace.sample(ofa, 20_000, 0))
    share = np.bincount(depths.ravel(), minlength=5)[2:] / depths.size
    np.testing.assert_allclose(share, np.array([81, 729, 6561]) / 7371, atol=0.01)


def test_block_space_mutants_stay_in_the_space(ofa):
    rng = np.random.default_rng(0)
    parents = ofa.sample(300, 1)
    children = np.stack([ofa.mutate(p, rng, rate=4.0) for p in parents])
    ofa.check(children)                                                      # every mutant is an OFA model
    assert (children != parents).any(axis=1).mean() > 0.9                    # and most differ from the parent
    space = _small_blocks()
    children = np.stack([space.mutate(p, rng, rate=3.0) for p in space.sample(300, 2)])
    space.check(children)
