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
