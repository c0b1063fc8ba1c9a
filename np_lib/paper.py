"""The paper's reported numbers, quoted once, and the tables that put ours beside them.

Every value below is quoted from Wen et al. (ECCV 2020) with the place it appears; the
notebooks read them from here, so a number of the paper is typed in one place only.
All NAS-Bench-101 numbers are on the official data (423,624 cells, three runs each), with
600 runs per method (100 for the oracle) and budgets up to 5,000 models.
"""
from __future__ import annotations

import numpy as np

#: Section 4.1 ("Oracle", "Random search", "Regularized evolution", Figure 4), in % (mean, std).
NASBENCH101 = {
    "oracle_best_validation": (95.13, 0.03),      # "Averaged over 100 oracle experiments ... 95.13% ... 0.03%"
    "oracle_test": (94.18, 0.07),                 # "The test accuracy has a mean of 94.18% and ... 0.07%"
    "oracle_pick_validation": 95.15,              # Figure 3: the oracle's pick, validation
    "oracle_pick_test": 94.08,                    # Figure 3: its test accuracy
    "best_test": 94.32,                           # Figure 3: the global test optimum
    "random_test_2000": (93.66, 0.25),            # random search after 2,000 models
    "re_test_2000": (93.97, 0.26),                # Regularized Evolution after 2,000 models
    "re_validation_5000": 95.06,                  # Regularized Evolution after 5,000 models
    "re_test_5000": 94.04,
    "np_efficiency_validation": 12.40,            # "the same validation accuracy 12.40x faster"
    "np_efficiency_test": 22.83,                  # "the same test accuracy 22.83x faster"
    "N": 172,
    "cv_mse_single_stage": 1.95,                  # section 4.1, two-stage ablation (10 random splits)
    "cv_mse_two_stage": 0.66,
}


def _fmt(mean_std, digits: int = 2) -> str:
    mean, std = mean_std
    return "—" if np.isnan(mean) else f"{mean:.{digits}f} ± {std:.{digits}f}"


def figure4_table(experiments: dict, *, budget: int, has_test: bool, source: str, predictor_note: str = "",
                  labels=("oracle", "random search", "Regularized Evolution", "RE, NAS-Bench-101 policy",
                          "Neural Predictor")):
    """Section 4.1's numbers next to ours (notebook 04): one row per quantity, as a DataFrame.

    ``experiments``: ``{label: Experiment}`` with the five ``labels`` (oracle, random search, the
    two Regularized Evolution policies, the Neural Predictor). Ours are read at the paper's
    budget or at ``budget`` where that is smaller ("ours at"); "what differs" says why a pair
    of numbers is not like for like (the 20,001-cell sample, no test accuracy, a smaller budget).
    """
    import pandas as pd

    from .experiment import sample_efficiency

    oracle, rs, re_, re_nb101, np_ = labels
    paper = NASBENCH101
    curves = {label: experiments[label].summary() for label in labels}

    def at(label, metric, b):
        row = curves[label].loc[min(b, budget)]
        return 100 * row[f"{metric}_mean"], 100 * row[f"{metric}_std"]

    def ours(label, metric, b):
        return _fmt(at(label, metric, b)) if metric == "best_validation" or has_test else "n/a"

    def ratio(metric, baseline=re_):
        if metric == "test_of_best" and not has_test:
            return "n/a"
        e = sample_efficiency(experiments[np_], experiments[baseline], metric=metric)
        return "not reached" if np.isnan(e.ratio) else f"{e.ratio:.2f}×"

    def differs(*reasons):
        return "; ".join(r for r in reasons if r)

    sample = "sample: best of a 4.7% pool (one run), not of the space" if source == "sample" else ""
    no_test = "" if has_test else "no test accuracy in this data"
    short = {b: (f"budget below {b:,}" if budget < b else "") for b in (2000, 5000)}
    confined = "RE confined to the pool" if source == "sample" else ""
    target = f"target: RE's mean after {budget}, not 5,000; capped at {budget}/(N + 1)" if budget != 5000 else ""
    rows = [
        ("oracle: best validation (%)", _fmt(paper["oracle_best_validation"]), ours(oracle, "best_validation", budget),
         "any", sample or "our oracle repeats over the simulated runs"),
        ("oracle: test of the selected model (%)", _fmt(paper["oracle_test"]), ours(oracle, "test_of_best", budget),
         "any", no_test),
        ("random search: test after 2,000 (%)", _fmt(paper["random_test_2000"]), ours(rs, "test_of_best", 2000),
         min(2000, budget), differs(no_test, short[2000])),
        ("RE: test after 2,000 (%)", _fmt(paper["re_test_2000"]), ours(re_, "test_of_best", 2000), min(2000, budget),
         differs(no_test, short[2000])),
        ("RE: validation after 5,000 (%)", f"{paper['re_validation_5000']:.2f}", ours(re_, "best_validation", 5000),
         min(5000, budget), differs(short[5000], confined)),
        ("RE, NAS-Bench-101 policy: validation after 5,000 (%)", f"{paper['re_validation_5000']:.2f} (this policy)",
         ours(re_nb101, "best_validation", 5000), min(5000, budget),
         "parent repeats: see the appendix" if source == "sample" else ""),
        ("RE: test after 5,000 (%)", f"{paper['re_test_5000']:.2f}", ours(re_, "test_of_best", 5000), min(5000, budget),
         differs(no_test, short[5000])),
        ("Neural Predictor: validation after 5,000 (%)", "≈ oracle after ~1,000", ours(np_, "best_validation", 5000),
         min(5000, budget), predictor_note),
        ("NP vs RE: same validation, × fewer models", f"{paper['np_efficiency_validation']:.2f}×",
         ratio("best_validation"), budget, target),
        ("NP vs RE (NAS-Bench-101 policy): same validation, × fewer models", f"{paper['np_efficiency_validation']:.2f}×",
         ratio("best_validation", re_nb101), budget, target),
        ("NP vs RE: same test accuracy, × fewer models", f"{paper['np_efficiency_test']:.2f}×", ratio("test_of_best"),
         budget, differs(no_test, target if has_test else "")),
    ]
    return pd.DataFrame(rows, columns=["quantity", "paper", "ours", "ours at (models)", "what differs"]).set_index("quantity")


#: The scale of section 4.1's experiments: runs per method (100 for the oracle), models per run,
#: predictor epochs (the reference reimplementation's 300), and candidates (the whole space).
PAPER_SCALE = {"runs": 600, "oracle_runs": 100, "budget": 5000, "epochs": 300, "pool": 423_624}


def cost_at_paper_scale(experiments: dict, strategies: dict, fit_and_score: dict, *, budget: int, N: int,
                        epochs: int, candidates: int):
    """What each method's runs cost here and, extrapolated, at the paper's scale (:data:`PAPER_SCALE`).

    ``experiments``/``strategies``: ``{label: ...}`` as run; ``fit_and_score``: ``{label: (fit s,
    scoring s)}`` measured for each Neural Predictor variant with ``epochs`` epochs and ``candidates``
    cells scored. The fit is scaled by epochs, the scoring by candidates; Regularized Evolution by
    mutations (on the full space every mutant is in the pool, so only an unchanged parent is
    redrawn: the share of mutants that are their parent is measured on the default policy's runs);
    the other methods by models. Returns a DataFrame (seconds per run, CPU-hours, how).
    """
    import pandas as pd

    from .search import NeuralPredictorSearch, RegularizedEvolution

    scale = PAPER_SCALE
    evolution = [label for label, s in strategies.items() if isinstance(s, RegularizedEvolution) and s.distinct_child]
    no_op = 0.0
    if evolution:
        e, s = experiments[evolution[0]], strategies[evolution[0]]
        totals = e.stats().sum()
        no_op = totals["parent_redraws"] / (len(e.runs) * (budget - s.population_size) + totals["redraws"])
    rows = {}
    for label, e in experiments.items():
        measured, strategy = float(e.seconds().mean()), strategies[label]
        if isinstance(strategy, NeuralPredictorSearch):
            fit, score = fit_and_score[label]
            paper = fit * scale["epochs"] / epochs + score * (scale["pool"] - N) / candidates
            how = (f"fit {fit:.1f} s at {epochs} epochs x {scale['epochs'] / epochs:g}, scoring {score:.1f} s x "
                   f"{(scale['pool'] - N) / candidates:.1f} (candidates)")
        elif isinstance(strategy, RegularizedEvolution):
            children = budget - strategy.population_size
            mutations = 1 + e.stats()["redraws"].mean() / children
            per_mutation = measured / (children * mutations)
            full_space = 1 / (1 - no_op) if strategy.distinct_child else 1.0
            paper = per_mutation * full_space * (scale["budget"] - strategy.population_size)
            how = (f"{1e3 * per_mutation:.2f} ms per mutation; {mutations:.1f} mutations per child here, "
                   f"{full_space:.2f} on the full space")
        else:
            paper, how = measured * scale["budget"] / budget, "table lookups"
        runs = scale["oracle_runs"] if label == "oracle" else scale["runs"]
        rows[label] = {"measured s/run": measured, "paper scale s/run": paper, "paper runs": runs,
                       "paper CPU-hours": paper * runs / 3600, "how": how}
    cost = pd.DataFrame(rows).T
    hours = cost["paper CPU-hours"].astype(float)
    cost["share of total (%)"] = 100 * hours / hours.sum()
    return cost


# --- notebook 07: the paper, the NAS-Bench-101 sample (notebooks 04, 05) and NAS-Bench-201 ---

#: Notebook 04's and 05's committed outputs on the NAS-Bench-101 sample (04's section 3 and 5
#: tables, 05's findings), used by notebook 07 when their result files are not in ``results_dir``.
SAMPLE_PRINTED = {"runs": 8, "budget": 400,
                  "best_validation_at_budget": {"oracle": 94.91, "Regularized Evolution": 94.71,
                                                "Neural Predictor": 94.90, "random search": 94.62},
                  "std_at_budget": {"oracle": 0.00, "Regularized Evolution": 0.09, "Neural Predictor": 0.01,
                                    "random search": 0.16},
                  "efficiency_validation": 342 / 177, "best_N_at_budget": 172}


def sample_numbers(results_dir) -> dict:
    """Notebook 04's and 05's key numbers: from their ``results_dir`` JSON files when they have
    run, else :data:`SAMPLE_PRINTED` (their committed outputs)."""
    import json
    from pathlib import Path

    sample, results_dir = dict(SAMPLE_PRINTED), Path(results_dir)
    if (results_dir / "04_search_figure4.json").is_file():
        nb04 = json.loads((results_dir / "04_search_figure4.json").read_text())
        at = nb04["best_validation_at_budget"]
        sample.update(runs=nb04["runs"], budget=nb04["budget"],
                      best_validation_at_budget={k: v["mean"] for k, v in at.items()},
                      std_at_budget={k: v["std"] for k, v in at.items()},
                      efficiency_validation=nb04["efficiency_np_over_re"]["validation_budget"]["ratio"])
    if (results_dir / "05_n_vs_k_figure7.json").is_file():
        sample["best_N_at_budget"] = json.loads((results_dir / "05_n_vs_k_figure7.json").read_text())["best_N_at_budget"]
    return sample


def nasbench201_table(experiments: dict, *, efficiency: dict, figure7: dict, sample: dict, oracle_test: float,
                      best_test: float, budget: int, N: int, runs: int, predictor_runs: int, figure7_runs: int):
    """Notebook 07's closing table: each quantity of section 4.1 in the paper (NAS-Bench-101), on the
    NAS-Bench-101 sample (``sample``, :func:`sample_numbers`) and on NAS-Bench-201 (``experiments``),
    with what the comparison can and cannot show.

    ``efficiency``: ``{"Neural Predictor / validation": {ratio, low, high, unreached}, ...}``;
    ``figure7``: ``{"N = n - N = 172, validation, total": Difference.as_dict()}``; accuracies are
    fractions. Returns a DataFrame indexed by quantity.
    """
    import pandas as pd

    def ours(label, metric):
        s = experiments[label].summary().loc[budget]
        return f"{100 * s[metric + '_mean']:.2f} ± {100 * s[metric + '_std']:.2f}"

    def sample_at(label):
        return f"{sample['best_validation_at_budget'][label]:.2f} ± {sample['std_at_budget'][label]:.2f}"

    def ratio(name):
        e = efficiency[f"Neural Predictor / {name}"]
        return ("not reached" if np.isnan(e["ratio"]) else
                f"{e['ratio']:.2f}× [{e['low']:.2f}, {e['high']:.2f}], {e['unreached']:.0%} of resamples unreached")

    shown_7 = [f"N = {key.split(' - ')[0][4:]} {'higher' if d['low'] > 0 else 'lower'} at {key.rsplit(', ', 1)[1]}"
               for key, d in figure7.items() if ", validation, " in key and (d["low"] > 0 or d["high"] < 0)]
    fig7 = f"{figure7_runs} paired runs per N; validation intervals excluding 0: {', '.join(shown_7) or 'none'}"
    sb, cap = sample["budget"], budget / (N + 1)
    rows = [
        ("runs × models per search", "600 × 5,000", f"{sample['runs']} × {sb}",
         f"{runs} × {budget:,} ({predictor_runs} per predictor, {figure7_runs} per N of Figure 7)",
         "the paper's spreads come from 600 runs; ours are 95 % intervals of means over far fewer"),
        ("oracle: best validation (%)", "95.13 ± 0.03", sample_at("oracle"), ours("oracle", "best_validation"),
         "each search's ceiling; the sample's is the best of a 4.7 % pool, ours the space's true best (a seed mean: "
         "no spread)"),
        ("oracle's pick: test (%), best test (%)", "94.08, 94.32", "n/a (no test accuracy)",
         f"{100 * oracle_test:.2f}, {100 * best_test:.2f}",
         "paper: one run's validation misleads at the top (Figure 3); on seed means it picks the test optimum"),
        ("random search: test (%)", "93.66 ± 0.25 (2,000)", "n/a", f"{ours('random search', 'test_of_best')} ({budget:,})",
         "levels belong to their space: compare each method's gap to its oracle, not the numbers"),
        ("Regularized Evolution: validation (%)", "95.06 (5,000)", f"{sample_at('Regularized Evolution')} ({sb})",
         f"{ours('Regularized Evolution', 'best_validation')} ({budget:,})",
         "the sample's evolution cannot leave its pool; here it mutates freely, as in the paper"),
        ("Regularized Evolution: test (%)", "93.97 ± 0.26 (2,000), 94.04 (5,000)", "n/a",
         f"{ours('Regularized Evolution', 'test_of_best')} ({budget:,})", "the test target of the 22.83×"),
        ("Neural Predictor: validation (%)", "≈ oracle after ~1,000", f"{sample_at('Neural Predictor')} ({sb})",
         f"{ours('Neural Predictor', 'best_validation')} ({budget:,})", "how close to the oracle the search ends"),
        ("× fewer models than RE, validation", f"12.40× (cap {5000 / (N + 1):.1f})",
         f"{sample['efficiency_validation']:.2f}× (cap {sb / (N + 1):.2f})", f"{ratio('validation')} (cap {cap:.2f})",
         "capped at budget / (N + 1) by construction; RE's target is its own final mean, so a larger budget raises it"),
        ("× fewer models than RE, test", "22.83×", "n/a", f"{ratio('test')} (cap {cap:.2f})",
         "as above, on the test accuracy of the selected model"),
        ("Figure 7: best N", "172: 43 and 86 underperform, 860 cannot compensate",
         f"{sample['best_N_at_budget']} of 43–344 at {sb} (notebook 05; means, no intervals)", f"vs N = {N}: {fig7}",
         "only paired intervals that exclude zero rank two N; a tie at the ceiling says the total is generous"),
    ]
    columns = ["quantity", "paper (NAS-Bench-101)", "ours, NAS-Bench-101 sample (04, 05)", "ours, NAS-Bench-201",
               "what the comparison can and cannot show"]
    return pd.DataFrame(rows, columns=columns).set_index("quantity")


def time_fit_and_score(benchmark, strategies: dict, *, N: int, seed: int = 0) -> dict:
    """``{label: (fit s, scoring s)}`` for each Neural Predictor search in ``strategies``: the two
    parts of a run that :func:`cost_at_paper_scale` scales separately (the fit by epochs, the
    scoring by candidates).

    As one run does (section 4.1): a fresh predictor, seeded ``seed``, is fitted on ``N`` random
    cells of the benchmark's pool with their simulated validation accuracy, then scores the other
    ``len(benchmark) - N`` cells. Wall-clock seconds: volatile, not a result.
    """
    import time

    from .search import NeuralPredictorSearch

    outcomes = benchmark.simulate(seed)
    train = np.random.default_rng(seed).choice(len(benchmark), N, replace=False)
    candidates = np.setdiff1d(np.arange(len(benchmark)), train)
    parts = {}
    for label, strategy in strategies.items():
        if not isinstance(strategy, NeuralPredictorSearch):
            continue
        model, start = strategy.new_predictor(seed), time.perf_counter()
        model.fit(benchmark.cells[train], outcomes.validation_accuracy[train])
        fit, start = time.perf_counter() - start, time.perf_counter()
        model.rank_score(benchmark.cells[candidates])
        parts[label] = (fit, time.perf_counter() - start)
    return parts


def figure3_numbers(outcomes) -> dict:
    """Figure 3's numbers (section 4.1), in %: the oracle's pick (the best validation accuracy)
    with its test accuracy and that test accuracy's rank among all models (1 = best), and the
    best test accuracy with its validation accuracy. The paper: 95.15 / 94.08 and 94.32
    (:data:`NASBENCH101`). ``outcomes``: one simulated training with test accuracy."""
    val, test = 100 * outcomes.validation_accuracy, 100 * outcomes.test_accuracy
    pick, best_test = int(np.argmax(val)), int(np.nanargmax(test))
    return {"oracle_pick_validation": float(val[pick]), "oracle_pick_test": float(test[pick]),
            "best_test": float(test[best_test]), "oracle_pick_test_rank": int((test > test[pick]).sum()) + 1,
            "best_test_validation": float(val[best_test]), "models": len(val)}


def figure7_findings(experiments: dict, *, Ns, ablation_Ns, budget: int, two: str = "two-stage, N = {}",
                     single: str = "single-stage, N = {}"):
    """Section 4.1's findings on Figure 7 and the two-stage ablation, tested as paired differences.

    The paper states them in words: N = 43 and 86 underperform N = 172, and so does 860 (too few
    picks left); the two-stage predictor is a "non-essential fine-tuning" over the single stage,
    which still beats random search. Each pair is ordered as the paper's claim (A higher) and
    compared at ``budget`` models, run r against run r (:func:`np_lib.compare.compare_runs`, in
    points); the verdict names a winner only when the 95 % interval excludes zero. N = 860 gets
    a "not run" row when it is not in ``Ns``. Returns ``(differences, findings)``: the
    ``{(A, B): Difference}`` and the table.
    """
    import pandas as pd

    from .compare import compare_runs

    pairs = [(two.format(172), two.format(n)) for n in Ns if n != 172 and 172 in Ns]
    ablated = [n for n in ablation_Ns if single.format(n) in experiments]
    pairs += [(two.format(n), single.format(n)) for n in ablated]
    pairs += [(single.format(n), "random search") for n in ablated]
    differences = {(a, b): compare_runs(experiments[a], experiments[b], budget, scale=100) for a, b in pairs}
    findings = pd.DataFrame([{"A": a, "B": b, "paper": "A higher" + (" (non-essential)" if "single" in b else ""),
                              "A − B (points)": f"{d.mean:+.3f}",
                              "95 % interval": f"[{d.low:+.3f}, {d.high:+.3f}]", "ours": d.verdict("A", "B")}
                             for (a, b), d in differences.items()])
    not_run = [] if 860 in Ns else [{"A": two.format(172), "B": two.format(860), "paper": "A higher",
                                     "ours": "not run: needs N + K > 860"}]
    return differences, pd.concat([findings, pd.DataFrame(not_run)], ignore_index=True).fillna("")
