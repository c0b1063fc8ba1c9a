"""The other predictors of notebook 10 (np_lib.baselines) and the comparison loop
(np_lib.predictor_comparison), on the real benchmarks. The estimator contract itself
(parameters, clone, seeds, bad input) is in tests/test_conformance.py."""
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
import torch

from np_lib.baselines import BoostedTreesPredictor, GINPredictor, MLPPredictor, _SparseGraphs, flat_features
from np_lib.metrics import kendall_tau
from np_lib.predictor import NeuralPredictor, as_graphs
from np_lib.predictor_comparison import (draw_split, paired_versus, run_comparison, summarize, top_mean)


@pytest.fixture(scope="module")
def bench101(data_dir):
    from np_lib.nasbench101.benchmark import load

    path = data_dir / "nasbench101" / "nasbench101_sample20k.csv"
    if not path.exists():
        pytest.skip(f"no NAS-Bench-101 sample at {path}")
    bench = load(path, progress=False)
    return bench, as_graphs(bench.cells), bench.simulate(0).validation_accuracy


@pytest.fixture(scope="module")
def bench201(data_dir):
    import np_lib.nasbench201 as nb

    try:
        bench = nb.load(data_dir)
    except FileNotFoundError as error:
        pytest.skip(str(error))
    return bench, nb.encode(bench.cells), np.asarray(bench.validation_accuracy)


def test_flat_features_are_the_encoding(bench101):
    bench, graphs, _ = bench101
    x = flat_features(graphs[np.arange(50)])
    assert x.shape == (50, 7 * 7 + 7 * 5) and x.dtype == np.float32
    for i in range(50):
        cell = bench.cells[i]
        n = len(cell.ops)
        adjacency = x[i, :49].reshape(7, 7)
        assert adjacency.sum() == cell.matrix.sum()                       # every edge, once
        np.testing.assert_array_equal(adjacency[:n, :n], cell.matrix)
        ops = x[i, 49:].reshape(7, 5)
        assert ops[:n].sum() == n and ops[n:].sum() == 0                    # one-hot per real node, padding zero


def test_sparse_graphs_match_torch_geometric(bench201, bench101):
    """The GIN's vectorised mini-batches equal torch-geometric's own Batch of the same graphs."""
    for graphs in (bench101[1][np.arange(300)], bench201[1][np.arange(300)]):
        sparse = _SparseGraphs(graphs)
        batch = torch.tensor([5, 0, 299, 17, 17, 42])
        x, edge_index, graph_of_node = sparse.select(batch)
        reference = graphs[batch.numpy()].to_pyg()
        torch.testing.assert_close(x, reference.x)
        torch.testing.assert_close(edge_index, reference.edge_index)
        torch.testing.assert_close(graph_of_node, reference.batch)


def _permuted(graphs, rng):
    # The same graphs with their node slots (padding included) in another order.
    p = torch.from_numpy(rng.permutation(graphs.num_nodes))
    from np_lib.encoding import GraphBatch

    return GraphBatch(graphs.adjacency[:, p][:, :, p], graphs.features[:, p], graphs.mask[:, p])


def test_gin_is_invariant_to_node_order_the_mlp_is_not(bench101):
    _, graphs, y = bench101
    train, test = np.arange(100), np.arange(100, 400)
    shuffled = _permuted(graphs[test], np.random.default_rng(0))
    gin = GINPredictor(D=16, num_layers=2, epochs=5, lr=1e-2).fit(graphs[train], y[train])
    np.testing.assert_allclose(gin.predict(shuffled), gin.predict(graphs[test]), rtol=1e-5, atol=1e-6)
    mlp = MLPPredictor(hidden_sizes=(16,), epochs=5, lr=1e-2).fit(graphs[train], y[train])
    assert np.abs(mlp.predict(shuffled) - mlp.predict(graphs[test])).max() > 1e-3


@pytest.mark.parametrize("make, floor", [
    (lambda: MLPPredictor(epochs=20, lr=1e-3), 0.45),
    (lambda: GINPredictor(epochs=20, lr=1e-3), 0.40),
    (lambda: BoostedTreesPredictor(), 0.40),
])
def test_baselines_learn_nasbench101(bench101, make, floor):
    """N = 172 on the real sample, 1,000 held-out cells: each baseline ranks them far better than
    chance (tau 0; measured 0.61 MLP, 0.61 GIN, 0.55 trees at 50 epochs), within the output range."""
    _, graphs, y = bench101
    train, test = draw_split(len(graphs), 172, 0, heldout=1000)
    model = make().fit(graphs[train], y[train])
    predicted = model.predict(graphs[test])
    assert predicted.shape == (1000,) and np.isfinite(predicted).all()
    assert ((predicted >= 0.10) & (predicted <= 1.0)).all()
    assert kendall_tau(y[test], predicted) > floor
    np.testing.assert_array_equal(model.rank_score(graphs[test]), predicted)


def test_trees_stay_within_the_labels_and_use_the_seed(bench101):
    _, graphs, y = bench101
    train, test = draw_split(len(graphs), 86, 1, heldout=500)
    fitted = BoostedTreesPredictor().fit(graphs[train], y[train])
    predicted = fitted.predict(graphs[test])
    assert y[train].min() - 1e-9 <= predicted.min() and predicted.max() <= y[train].max() + 1e-9
    assert not np.array_equal(BoostedTreesPredictor(seed=1).fit(graphs[train], y[train]).predict(graphs[test]),
                              predicted)                                  # feature subsampling is seeded
    all_features = [BoostedTreesPredictor(max_features=1.0, seed=s).fit(graphs[train], y[train]) for s in (0, 1)]
    np.testing.assert_array_equal(all_features[0].predict(graphs[test]), all_features[1].predict(graphs[test]))


def test_neural_baselines_share_the_gcn_defaults():
    gcn = NeuralPredictor().get_params()
    for est in (MLPPredictor(), GINPredictor()):
        for name in ("dropout", "epochs", "batch_size", "lr", "weight_decay"):
            assert getattr(est, name) == gcn[name], name
    assert GINPredictor().D == gcn["D"] and GINPredictor().num_layers == gcn["num_layers"]
    assert MLPPredictor().hidden_sizes == (gcn["D"],) * gcn["num_layers"] + tuple(gcn["fc_sizes"])


@pytest.mark.parametrize("est, message", [
    (MLPPredictor(hidden_sizes=()), "at least one layer"), (MLPPredictor(dropout=1.0), "dropout"),
    (GINPredictor(lr=0), "lr must be positive"), (GINPredictor(D=0), "D must be a positive integer"),
    (BoostedTreesPredictor(max_features=0), "max_features"), (BoostedTreesPredictor(max_leaf_nodes=1), ">= 2"),
])
def test_bad_parameters(bench201, est, message):
    _, graphs, y = bench201
    with pytest.raises(ValueError, match=message):
        est.fit(graphs[np.arange(20)], y[:20])


def test_flattened_models_refuse_other_node_counts(bench101, bench201):
    _, graphs, y = bench101
    mlp = MLPPredictor(hidden_sizes=(8,), epochs=1).fit(graphs[np.arange(30)], y[:30])
    other = bench201[1][np.arange(5)]
    with pytest.raises(ValueError, match="node features"):
        mlp.predict(other)
    padded = type(graphs)(torch.nn.functional.pad(graphs.adjacency[:5], (0, 1, 0, 1)),
                          torch.nn.functional.pad(graphs.features[:5], (0, 0, 0, 1)),
                          torch.cat([graphs.mask[:5], torch.zeros(5, 1, dtype=torch.bool)], dim=1))
    with pytest.raises(ValueError, match="8 node slots; this model was fitted on 7"):
        mlp.predict(padded)
    gin = GINPredictor(D=8, num_layers=1, epochs=1).fit(graphs[np.arange(30)], y[:30])
    np.testing.assert_allclose(gin.predict(padded), gin.predict(graphs[np.arange(5)]), rtol=1e-5)


# --- the comparison loop ---------------------------------------------------------------------------

def test_draw_split():
    train, test = draw_split(1000, 43, 2, heldout=200, seed=5)
    assert len(train) == 43 and len(test) == 200 and not np.intersect1d(train, test).size
    again = draw_split(1000, 43, 2, heldout=200, seed=5)
    assert all(np.array_equal(a, b) for a, b in zip((train, test), again))
    assert not np.array_equal(draw_split(1000, 43, 3, heldout=200, seed=5)[0], train)
    full_train, full_test = draw_split(1000, 43, 2, seed=5)
    assert np.array_equal(full_train, train) and len(full_test) == 957    # held-out: the rest
    with pytest.raises(ValueError, match="no held-out"):
        draw_split(43, 43, 0)


def test_top_mean():
    true = np.array([0.9, 0.8, 0.7, 0.95])
    assert top_mean(true, np.array([1.0, 0.0, 3.0, 2.0]), 2) == pytest.approx((0.7 + 0.95) / 2)
    assert top_mean(true, true, 1) == 0.95
    with pytest.raises(ValueError, match="top-5 of only 4"):
        top_mean(true, true, 5)


def test_run_comparison_on_nasbench201(bench201):
    """Rows per (estimator, N, draw), paired draws, ceilings, the same rows in parallel."""
    _, graphs, y = bench201
    estimators = {"GCN": NeuralPredictor(D=16, epochs=5, lr=1e-2), "trees": BoostedTreesPredictor(max_iter=30)}
    rows = run_comparison(estimators, graphs, y, Ns=[43, 86], draws=3, heldout=500, progress=False)
    assert len(rows) == 2 * 2 * 3 and set(rows["estimator"]) == {"GCN", "trees"}
    assert (rows["top10"] <= rows["best10"] + 1e-12).all() and (rows["top100"] <= rows["best100"] + 1e-12).all()
    # Paired: in a draw both estimators saw the same held-out cells, so the ceilings agree.
    ceilings = rows.pivot_table(index=["N", "draw"], columns="estimator", values="best10")
    np.testing.assert_array_equal(ceilings["GCN"], ceilings["trees"])
    assert (rows["kendall_tau"] > 0.3).all()                              # NAS-Bench-201 ranks easily (~0.5-0.8)
    with ThreadPoolExecutor(2) as pool:
        parallel = run_comparison(estimators, graphs, y, Ns=[43, 86], draws=3, heldout=500, executor=pool,
                                  progress=False)
    pd.testing.assert_frame_equal(parallel.drop(columns="fit_s"), rows.drop(columns="fit_s"))

    summary = summarize(rows)
    assert len(summary) == 4 and (summary["draws"] == 3).all()
    group = rows[(rows["estimator"] == "trees") & (rows["N"] == 86)]["kendall_tau"].to_numpy()
    from scipy import stats

    half = stats.t.ppf(0.975, 2) * group.std(ddof=1) / np.sqrt(3)
    row = summary[(summary["estimator"] == "trees") & (summary["N"] == 86)].iloc[0]
    assert row["kendall_tau"] == pytest.approx(group.mean())
    assert row["kendall_tau_low"] == pytest.approx(group.mean() - half)

    versus = paired_versus(rows, "GCN")
    assert len(versus) == 2 * 3 and set(versus["estimator"]) == {"trees"}
    d = versus[(versus["N"] == 43) & (versus["score"] == "top10")].iloc[0]
    diff = (rows[(rows["estimator"] == "trees") & (rows["N"] == 43)]["top10"].to_numpy()
            - rows[(rows["estimator"] == "GCN") & (rows["N"] == 43)]["top10"].to_numpy())
    assert d["difference"] == pytest.approx(diff.mean())
    with pytest.raises(ValueError, match="no rows for the reference"):
        paired_versus(rows, "GIN")
