"""np_lib.compare: paired differences and their intervals."""
import numpy as np
import pytest
from scipy import stats

from np_lib.compare import paired_difference


def test_t_interval_matches_a_one_sample_t_test_on_the_differences():
    rng = np.random.default_rng(1)
    b = rng.normal(90, 1, size=30)
    a = b + rng.normal(0.3, 0.2, size=30)
    d = paired_difference(a, b)
    low, high = stats.ttest_1samp(a - b, 0).confidence_interval(0.95)
    assert d.mean == pytest.approx(np.mean(a - b))
    assert (d.low, d.high) == (pytest.approx(low), pytest.approx(high))
    assert d.excludes_zero and d.verdict("NP", "RE") == "NP higher" and d.n == 30


def test_pairing_sees_a_difference_that_independent_means_hide():
    # Runs differ a lot from each other (hard and easy draws), the methods by a constant 0.1.
    base = np.linspace(80, 95, 20)
    d = paired_difference(base + 0.1 + np.tile([0.01, -0.01], 10), base)
    assert d.low > 0.09 and d.high < 0.11
    assert stats.ttest_ind(base + 0.1, base).pvalue > 0.9  # unpaired: nothing to see


@pytest.mark.parametrize("method", ["t", "bootstrap"])
def test_noise_gives_no_verdict_and_sign_follows_the_order(method):
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, 12), rng.normal(0, 1, 12)
    d = paired_difference(a, b, method=method)
    assert d.low < 0 < d.high and d.verdict() == "no difference shown"
    r = paired_difference(b, a, method=method)
    assert r.mean == pytest.approx(-d.mean)
    assert "[" in str(d) and str(d).startswith(("+", "-"))


def test_bootstrap_is_seeded_and_close_to_t_for_normal_differences():
    rng = np.random.default_rng(3)
    a, b = rng.normal(1, 1, 200), np.zeros(200)
    one, two = (paired_difference(a, b, method="bootstrap", seed=7) for _ in range(2))
    assert one == two
    t = paired_difference(a, b)
    assert one.low == pytest.approx(t.low, abs=0.05) and one.high == pytest.approx(t.high, abs=0.05)


def test_identical_differences_give_a_point_interval():
    d = paired_difference([94.9, 94.9, 94.9], [94.8, 94.8, 94.8])
    assert d.low == pytest.approx(0.1) and d.high == pytest.approx(0.1)


@pytest.mark.parametrize("a, b, message", [
    ([1.0], [2.0], "at least 2"),
    ([1.0, 2.0], [1.0], "shapes"),
    ([1.0, np.nan], [1.0, 2.0], "finite"),
])
def test_bad_input_is_a_clear_error(a, b, message):
    with pytest.raises(ValueError, match=message):
        paired_difference(a, b)


def test_bad_options_are_clear_errors():
    with pytest.raises(ValueError, match="method"):
        paired_difference([1, 2], [0, 0], method="z")
    with pytest.raises(ValueError, match="confidence"):
        paired_difference([1, 2], [0, 0], confidence=95)


def _experiment(values_per_run, seeds):
    from np_lib.experiment import Experiment, Run
    from np_lib.search import Trace

    runs = []
    for r, (values, s) in enumerate(zip(values_per_run, seeds)):
        v = np.maximum.accumulate(np.asarray(values, float))
        n = len(v)
        trace = Trace(np.arange(1, n + 1), np.arange(n), np.arange(n), v, np.full(n, np.nan), np.arange(n, dtype=float))
        runs.append(Run(r, s, s + 1, trace, {}))
    return Experiment({"strategy": {"strategy": "x"}}, runs)


def test_compare_runs_pairs_run_by_run_at_the_budget():
    from np_lib.compare import at_budget, compare_runs

    a = _experiment([[0.90, 0.93, 0.94], [0.91, 0.92, 0.95], [0.80, 0.96, 0.96]], [1, 2, 3])
    b = _experiment([[0.90, 0.92, 0.93], [0.91, 0.91, 0.93], [0.85, 0.90, 0.94]], [1, 2, 3])
    assert at_budget(a, 2).tolist() == [0.93, 0.92, 0.96]
    d = compare_runs(a, b, 3, scale=100)
    assert d.mean == pytest.approx(100 * np.mean([0.01, 0.02, 0.02])) and d.n == 3
    with pytest.raises(ValueError, match="fewer than 4"):
        compare_runs(a, b, 4)
    with pytest.raises(ValueError, match="different simulated"):
        compare_runs(a, _experiment([[0.9] * 3] * 3, [1, 2, 9]), 3)
    with pytest.raises(ValueError, match="3 runs against 2"):
        compare_runs(a, _experiment([[0.9] * 3] * 2, [1, 2]), 3)


def test_paired_table_formats_marks_and_skips_unstarted_budgets():
    from np_lib.compare import paired_table

    a = _experiment([[0.90, 0.93, 0.94], [0.91, 0.92, 0.95], [0.80, 0.96, 0.96]], [1, 2, 3])
    b = _experiment([[0.90, 0.92, 0.93], [0.91, 0.91, 0.93], [0.85, 0.90, 0.94], [0.5] * 3], [1, 2, 3, 4])
    table, diffs = paired_table({"A": a, "B": b}, [("A", "B")], [1, 3], metrics={"best_validation": "validation"},
                                starts={"A": 1})
    assert table.loc[("A − B", "validation"), 1] == "—"           # A has not started picking at 1
    assert "A - B, validation, 1" not in diffs
    # B's fourth run is not A's: only the first three runs (the paired ones) are compared
    d = diffs["A - B, validation, 3"]
    assert d["n"] == 3 and d["mean"] == pytest.approx(100 * np.mean([0.01, 0.02, 0.02]))
    cell = table.loc[("A − B", "validation"), 3]
    assert cell.endswith(" *") == (d["low"] > 0 or d["high"] < 0)
    assert cell.startswith("+")


def test_experiment_first_keeps_the_first_runs():
    e = _experiment([[0.9] * 2, [0.8] * 2, [0.7] * 2], [1, 2, 3])
    assert [r.simulate_seed for r in e.first(2).runs] == [1, 2] and e.first(2).manifest is e.manifest
    with pytest.raises(ValueError, match="3 runs"):
        e.first(4)
    with pytest.raises(ValueError):
        e.first(0)


def test_paired_by_run_pairs_rows_of_two_methods_by_run():
    import pandas as pd

    from np_lib.compare import paired_by_run

    frame = pd.DataFrame({"method": ["A"] * 4 + ["B"] * 4, "run": [3, 0, 1, 2, 0, 1, 2, 3],
                          "score": [4.1, 1.1, 2.1, 3.1, 1.0, 2.0, 3.0, 4.0]})
    table = paired_by_run(frame, "A", "B", {"score": "a score"})
    assert table.loc["a score", "A"] == pytest.approx(2.6) and table.loc["a score", "B"] == pytest.approx(2.5)
    assert table.loc["a score", "verdict"] == "A higher"      # +0.1 in every run
    with pytest.raises(ValueError, match="different runs"):
        paired_by_run(frame.iloc[1:], "A", "B", {"score": "s"})
    with pytest.raises(ValueError, match="no rows of 'C'"):
        paired_by_run(frame, "A", "C", {"score": "s"})
