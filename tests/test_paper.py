"""np_lib.paper: the paper's numbers beside ours, and the cost extrapolation."""
import numpy as np
import pytest

from np_lib.experiment import Experiment, Run
from np_lib.paper import NASBENCH101, figure4_table
from np_lib.search import Trace


def experiment(curves, seeds=None):
    runs = []
    for r, values in enumerate(curves):
        v = np.maximum.accumulate(np.asarray(values, float))
        n = len(v)
        runs.append(Run(r, r if seeds is None else seeds[r], r, Trace(np.arange(1, n + 1), np.arange(n), np.arange(n), v,
                                                                      np.full(n, np.nan), np.arange(1.0, n + 1)), {}))
    return Experiment({"strategy": {"strategy": "x"}}, runs)


def test_the_quoted_numbers_are_the_papers():
    # section 4.1's text: oracle 95.13 +- 0.03 / 94.18 +- 0.07, RE 95.06 / 94.04 after 5,000, 12.40x and 22.83x
    assert NASBENCH101["oracle_best_validation"] == (95.13, 0.03)
    assert NASBENCH101["oracle_test"] == (94.18, 0.07)
    assert (NASBENCH101["re_validation_5000"], NASBENCH101["re_test_5000"]) == (95.06, 94.04)
    assert (NASBENCH101["np_efficiency_validation"], NASBENCH101["np_efficiency_test"]) == (12.40, 22.83)


def test_figure4_table_reads_ours_at_our_budget_and_says_what_differs():
    budget = 10
    flat = experiment([[0.95] * budget] * 2)
    slow = experiment([np.linspace(0.90, 0.94, budget)] * 2)
    fast = experiment([[0.90, 0.90, 0.90, 0.95] + [0.95] * 6] * 2)
    table = figure4_table({"oracle": flat, "random search": slow, "Regularized Evolution": slow,
                           "RE, NAS-Bench-101 policy": slow, "Neural Predictor": fast},
                          budget=budget, has_test=False, source="sample")
    assert table.loc["oracle: best validation (%)", "ours"] == "95.00 ± 0.00"
    assert table.loc["RE: test after 2,000 (%)", "ours"] == "n/a"
    assert "no test accuracy" in table.loc["RE: test after 2,000 (%)", "what differs"]
    assert table.loc["RE: validation after 5,000 (%)", "ours at (models)"] == budget
    # RE reaches its final 94 % at model 10, the predictor at model 4: 2.50x
    assert table.loc["NP vs RE: same validation, × fewer models", "ours"] == "2.50×"
    assert "capped" in table.loc["NP vs RE: same validation, × fewer models", "what differs"]


def test_sample_numbers_read_the_notebooks_results_or_fall_back(tmp_path):
    import json

    from np_lib.paper import SAMPLE_PRINTED, sample_numbers

    assert sample_numbers(tmp_path) == SAMPLE_PRINTED
    (tmp_path / "05_n_vs_k_figure7.json").write_text(json.dumps({"best_N_at_budget": 86}))
    assert sample_numbers(tmp_path)["best_N_at_budget"] == 86 and sample_numbers(tmp_path)["runs"] == 8


def test_nasbench201_table_reports_means_caps_and_shown_differences():
    from np_lib.paper import SAMPLE_PRINTED, nasbench201_table

    ex = {label: experiment([[0.90, 0.91, 0.92], [0.90, 0.93, 0.93]]) for label in
          ("oracle", "random search", "Regularized Evolution", "Neural Predictor")}
    efficiency = {"Neural Predictor / validation": {"ratio": 1.5, "low": 1.0, "high": 2.0, "unreached": 0.25},
                  "Neural Predictor / test": {"ratio": np.nan, "low": np.nan, "high": np.nan, "unreached": 1.0}}
    figure7 = {"N = 43 - N = 172, validation, 200": {"low": 0.01, "high": 0.2},
               "N = 86 - N = 172, validation, 200": {"low": -0.1, "high": 0.2}}
    table = nasbench201_table(ex, efficiency=efficiency, figure7=figure7, sample=SAMPLE_PRINTED, oracle_test=0.94,
                              best_test=0.95, budget=3, N=1, runs=2, predictor_runs=2, figure7_runs=2)
    col = table["ours, NAS-Bench-201"]
    assert col["oracle: best validation (%)"] == "92.50 ± 0.71"
    assert col["× fewer models than RE, validation"].startswith("1.50× [1.00, 2.00], 25% of resamples unreached (cap 1.50)")
    assert col["× fewer models than RE, test"].startswith("not reached")
    assert "N = 43 higher at 200" in col["Figure 7: best N"] and "N = 86" not in col["Figure 7: best N"]


def test_figure3_numbers_rank_the_oracles_pick_on_the_test_set():
    from np_lib.paper import figure3_numbers
    from np_lib.protocol import Outcomes

    # the best validation (0.95) is the third-best test accuracy: Figure 3's point
    outcomes = Outcomes(0, np.array([0.90, 0.95, 0.93, 0.91]), np.array([0.93, 0.92, 0.94, np.nan]), np.full(4, np.nan))
    numbers = figure3_numbers(outcomes)
    assert numbers["oracle_pick_validation"] == pytest.approx(95.0)
    assert numbers["oracle_pick_test"] == pytest.approx(92.0)
    assert numbers["oracle_pick_test_rank"] == 3
    assert (numbers["best_test"], numbers["best_test_validation"]) == pytest.approx((94.0, 93.0))


def test_figure7_findings_give_a_verdict_only_when_the_interval_excludes_zero():
    from np_lib.paper import figure7_findings

    budget = 10
    base = np.linspace(0.90, 0.93, budget)
    wobble = [0.004, -0.003, 0.002, -0.004, 0.003]
    exps = {"two-stage, N = 172": experiment([base + 0.01 + w for w in wobble]),          # clearly higher
            "two-stage, N = 43": experiment([base + w for w in wobble]),
            "single-stage, N = 172": experiment([base + 0.01 + w + v for w, v in zip(wobble, wobble[::-1])]),
            "random search": experiment([base - 0.02] * 5)}
    differences, findings = figure7_findings(exps, Ns=[43, 172], ablation_Ns=[172], budget=budget)
    rows = {(r.A, r.B): r for r in findings.itertuples()}
    assert rows[("two-stage, N = 172", "two-stage, N = 43")].ours == "A higher"
    assert differences[("two-stage, N = 172", "two-stage, N = 43")].mean == pytest.approx(1.0)
    assert rows[("two-stage, N = 172", "single-stage, N = 172")].ours == "no difference shown"
    assert rows[("two-stage, N = 172", "single-stage, N = 172")].paper == "A higher (non-essential)"
    assert rows[("single-stage, N = 172", "random search")].ours == "A higher"
    assert rows[("two-stage, N = 172", "two-stage, N = 860")].ours.startswith("not run")


def test_time_fit_and_score_times_each_predictor_search_on_real_cells():
    import np_lib.nasbench101 as nb
    from np_lib.datasets import DatasetMissing
    from np_lib.paper import time_fit_and_score
    from np_lib.predictor import NeuralPredictor
    from np_lib.search import NeuralPredictorSearch, RandomSearch

    try:
        bench = nb.load(progress=False)
    except DatasetMissing:
        pytest.skip("the NAS-Bench-101 sample is not fetched")
    strategies = {"random search": RandomSearch(),
                  "Neural Predictor": NeuralPredictorSearch(NeuralPredictor(epochs=1, D=8), N=20)}
    parts = time_fit_and_score(bench, strategies, N=20, seed=0)
    assert list(parts) == ["Neural Predictor"]                     # only predictor searches have a fit
    fit, score = parts["Neural Predictor"]
    assert fit > 0 and score > 0
