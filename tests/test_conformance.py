"""The contracts every estimator and every search space keeps, in the style of scikit-learn's
``check_estimator``: one parametrised suite, so a new estimator or space is tested by adding
it to a list. Real spaces on the real data (NP_LIB_DATA_DIR); tiny networks, for behaviour."""
import inspect

import numpy as np
import pandas as pd
import pytest
import torch

from np_lib.baselines import BoostedTreesPredictor, GINPredictor, MLPPredictor
from np_lib.encoding import GraphBatch
from np_lib.estimator import Estimator
from np_lib.predictor import NeuralClassifier, NeuralPredictor, TwoStagePredictor
from np_lib.spaces import base

TINY = dict(D=8, num_layers=2, fc_sizes=(8,), epochs=3, lr=1e-2, seed=0)
#: The baselines of notebook 10 (np_lib.baselines), tiny too; they have no save/load.
TINY_BASELINES = {MLPPredictor: dict(hidden_sizes=(8, 8), epochs=3, lr=1e-2, seed=0),
                  GINPredictor: TINY, BoostedTreesPredictor: dict(max_iter=10, seed=0)}
ESTIMATORS = [NeuralPredictor, NeuralClassifier, TwoStagePredictor, *TINY_BASELINES]
SPACES = ["nasbench101", "proxylessnas", "ofa", "macro", "pool", "blocks"]
TRAINED = ["nasbench101", "ofa", "macro", "pool"]  # the spaces with accuracies to fit on


def _small_pool():
    from np_lib.spaces import PoolSpace

    rng = np.random.default_rng(0)
    ops = np.array(["conv3", "conv5", "pool", "none"], dtype=object)
    choices = np.unique(rng.integers(0, 4, size=(200, 5)), axis=0)
    df = pd.DataFrame(ops[choices], columns=[f"l{i}" for i in range(5)])
    df["top1"] = 60 + 30 * rng.random(len(df))
    df["ms"] = 10 + (choices != 3).sum(axis=1) + rng.random(len(df))
    return PoolSpace.from_dataframe(df, list(df.columns[:5]), "top1", unit="percent", latency="ms", skip="none",
                                    name="small_pool")


def _small_blocks():
    from np_lib.spaces.blocks import Block, BlockChainSpace

    return BlockChainSpace(("a", "b", "c", "skip"), [Block((0, 1, 2), 3, 1, shared=True), Block((0, 1), 2, 0)],
                           skip=3, layer_cost=np.ones((5, 4)), fixed_cost=1.0)


@pytest.fixture(scope="module")
def spaces(data_dir):
    built = {}

    def get(name):
        if name not in built:
            try:
                if name == "nasbench101":
                    from np_lib.nasbench101.benchmark import load
                    from np_lib.spaces.nasbench101 import NASBench101Space

                    path = data_dir / "nasbench101" / "nasbench101_sample20k.csv"
                    built[name] = NASBench101Space(load(path, progress=False))
                elif name == "proxylessnas":
                    from np_lib.spaces import ProxylessNAS
                    built[name] = ProxylessNAS()
                elif name == "ofa":
                    from np_lib.spaces import OFAMobileNetV3
                    built[name] = OFAMobileNetV3()
                elif name == "macro":
                    from np_lib.spaces import NASBenchMacro
                    built[name] = NASBenchMacro()
                elif name == "pool":
                    built[name] = _small_pool()
                else:
                    built[name] = _small_blocks()
            except FileNotFoundError as error:
                pytest.skip(f"{name}: {error}")
        return built[name]

    return get


# --- every space -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", SPACES)
def test_space_contract(spaces, name):
    space = spaces(name)
    assert isinstance(space, base.SearchSpace) and isinstance(space.name, str)
    archs = space.sample(20, 0)
    assert len(archs) == 20 and len(space.sample(0, 0)) == 0
    again = space.sample(20, 0)
    assert np.array_equal(np.asarray(getattr(archs, "hashes", archs)), np.asarray(getattr(again, "hashes", again)))
    graphs = space.encode(archs)
    assert isinstance(graphs, GraphBatch) and len(graphs) == 20
    assert bool((graphs.features.sum(-1)[graphs.mask] == 1).all())            # one one-hot per real node
    latency = space.latency(archs)
    assert latency.shape == (20,) and latency.dtype == float
    try:
        outcome = space.evaluate(archs, 3)
    except NotImplementedError as error:
        assert "no accuracy data" in str(error)                              # says why, never a made-up number
    else:
        assert len(outcome) == 20 and outcome.seed == 3
        signal, final = outcome.validation_accuracy, outcome.test_accuracy
        assert signal.shape == final.shape == (20,) and ((signal >= 0) & (signal <= 1)).all()
        assert (np.isnan(final) | ((final >= 0) & (final <= 1))).all()        # NaN: the data has no final measure
        assert np.array_equal(space.evaluate(archs[:5], 3).validation_accuracy, outcome.validation_accuracy[:5])


@pytest.mark.parametrize("name", SPACES)
@pytest.mark.parametrize("n, message", [(-1, "non-negative integer"), (2.5, "non-negative integer")])
def test_space_rejects_bad_counts(spaces, name, n, message):
    with pytest.raises(ValueError, match=message):
        spaces(name).sample(n, 0)


@pytest.mark.parametrize("name", SPACES)
@pytest.mark.parametrize("seed", [-1, 2 ** 70, 0.5])
def test_space_rejects_bad_seeds(spaces, name, seed):
    with pytest.raises((ValueError, TypeError)):
        spaces(name).sample(3, seed)


# --- every estimator, on every space's architectures ----------------------------------------------

def _training_set(space, n=40):
    archs = space.sample(n, 1)
    y = space.evaluate(archs, 0).validation_accuracy
    return archs, space.encode(archs), y


def _make(cls, y):
    params = dict(TINY_BASELINES.get(cls, TINY))
    if cls in (NeuralClassifier, TwoStagePredictor):
        params["threshold"] = float(np.median(y))                           # both classes present
    return cls(**params)


def _output(est, graphs):
    return est.predict_proba(graphs) if isinstance(est, NeuralClassifier) else est.predict(graphs)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_estimator_parameters(cls):
    est = cls()
    signature = {p for klass in cls.__mro__ if "__init__" in vars(klass) and klass is not object
                 for p in inspect.signature(klass.__init__).parameters} - {"self", "params"}
    assert isinstance(est, Estimator) and set(est.get_params()) == signature
    for name in cls._tuple_params:                                           # lists become tuples, as in __init__
        value = list(getattr(est, name))
        assert est.clone(**{name: value}).get_params()[name] == tuple(value)
        assert est.set_params(**{name: value}) is est and getattr(est, name) == tuple(value)
    clone = est.clone()
    assert clone is not est and clone.get_params() == est.get_params()
    assert eval(repr(est), {cls.__name__: cls}).get_params() == est.get_params()   # repr round-trips
    with pytest.raises(TypeError, match="unknown parameter"):
        est.clone(not_a_parameter=1)
    with pytest.raises(RuntimeError, match="not fitted"):
        est.predict(None)


@pytest.mark.parametrize("name", TRAINED)
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_estimator_contract_on_each_space(spaces, name, cls, tmp_path):
    space = spaces(name)
    archs, graphs, y = _training_set(space)
    est = _make(cls, y)
    assert est.fit(graphs, y) is est                                         # fit returns self
    out = _output(est, graphs)
    assert out.shape == (len(y),)
    same = _make(cls, y).fit(graphs, y)
    np.testing.assert_array_equal(_output(same, graphs), out)                # seed determinism
    with pytest.raises(RuntimeError, match="not fitted"):
        _output(same.set_params(seed=1), graphs)                             # set_params drops the fit
    other = _make(cls, y).set_params(seed=1).fit(graphs, y)
    assert not np.array_equal(_output(other, graphs), out)
    if hasattr(cls, "save"):
        loaded = cls.load(est.save(tmp_path / "model.pt"))
        assert loaded.get_params() == est.get_params()
        np.testing.assert_array_equal(_output(loaded, graphs), out)          # save/load equality
    unfitted = est.clone()
    with pytest.raises(RuntimeError, match="not fitted"):
        unfitted.predict(graphs)
    assert np.array_equal(_output(est, graphs), out)                         # clone left est alone
    if hasattr(space, "rank_score") and hasattr(est, "rank_score"):
        np.testing.assert_allclose(space.rank_score(est, archs, progress=False), est.rank_score(graphs),
                                   rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_estimator_bad_input(spaces, cls):
    space = spaces("ofa")
    archs, graphs, y = _training_set(space)
    est = _make(cls, y)
    with pytest.raises(TypeError, match=r"space\.encode\(archs\)"):
        est.fit(archs, y)                                                    # a space's raw array
    with pytest.raises(ValueError, match="40 cells but 39 labels"):
        est.fit(graphs, y[:-1])
    with pytest.raises(ValueError, match="NaN"):
        est.fit(graphs, np.where(np.arange(len(y)) == 3, np.nan, y))
    with pytest.raises(ValueError, match="percentages"):
        est.fit(graphs, 100 * y)
    with pytest.raises(ValueError, match="seed must be an integer"):
        est.clone(seed=-1).fit(graphs, y)
    fitted = est.fit(graphs, y)
    other = spaces("macro")
    with pytest.raises(ValueError, match="node features"):
        _output(fitted, other.encode(other.sample(3, 0)))                   # 10 one-hot classes vs 3


def test_chain_fast_path_is_the_network(spaces):
    """Spaces reach the fast path only through the estimator, and get the network's numbers."""
    space = spaces("ofa")
    _, graphs, y = _training_set(space)
    model = NeuralPredictor(**TINY).fit(graphs, y)
    archs = space.sample(300, 5)
    with torch.inference_mode():
        expected = model.predict(space.encode(archs))
    np.testing.assert_allclose(space.predict(model, archs, progress=False), expected, rtol=1e-6, atol=1e-7)
    with pytest.raises(ValueError, match="fitted on 10 node features"):
        model.predict_chains(archs, 3)


# --- the shared checks (np_lib.validation) ---------------------------------------------------------

def test_validation_helpers():
    from np_lib import validation as v

    rng = np.random.default_rng(3)
    assert v.as_rng(rng) is rng                                              # a caller's stream, threaded through
    assert v.as_rng(5).integers(1 << 30) == np.random.default_rng(5).integers(1 << 30)
    assert v.as_rng(np.random.SeedSequence(5)).integers(1 << 30) == np.random.default_rng(5).integers(1 << 30)
    for seed in (-1, 2 ** 70, 1.5, True, None, "3"):
        with pytest.raises(ValueError, match="seed must be an integer"):
            v.as_rng(seed)
    assert v.check_seed(np.uint32(7)) == 7 and type(v.check_seed(np.int64(7))) is int
    assert v.check_count(0) == 0 and v.check_positive(np.int8(3), "D") == 3
    for bad in (-1, 2.0, True, "2"):
        with pytest.raises(ValueError, match="n must be a non-negative integer"):
            v.check_count(bad)
    with pytest.raises(ValueError, match="D must be a positive integer, got 0"):
        v.check_positive(0, "D")
    assert v.check_flag(np.bool_(True), "head") is True and v.check_flag(False, "head") is False
    for bad in (1, 0, "yes", None):
        with pytest.raises(ValueError, match="head must be True or False"):
            v.check_flag(bad, "head")
    assert v.check_band((75, 85)) == (75.0, 85.0)
    for band, message in [((85, 75), "low < high"), ((1, np.inf), "finite"), (80, "a pair")]:
        with pytest.raises(ValueError, match=message):
            v.check_band(band)
