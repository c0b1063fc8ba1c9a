"""Paired comparisons of two methods run on the same seeds, with a confidence interval.

Every comparison in the notebooks ("does the Neural Predictor beat Regularized Evolution?",
"is N = 172 better than N = 86?") is made on the *same* runs: run ``r`` of both methods
sees the same simulated outcomes and the same seeds. The per-run difference removes what
the runs share (an easy or a hard draw), so its interval is much narrower than one drawn
from two independent means. :func:`paired_difference` computes that interval (Student t,
or a percentile bootstrap of the mean difference when the differences are far from
normal, e.g. capped at a ceiling), and :meth:`Difference.verdict` states a winner only
when the interval excludes zero.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .validation import as_rng, check_count


@dataclass(frozen=True)
class Difference:
    """The mean of ``a - b`` over paired runs and its confidence interval."""

    mean: float
    low: float
    high: float
    n: int
    confidence: float
    method: str

    @property
    def excludes_zero(self) -> bool:
        """True when the whole interval lies on one side of zero."""
        return self.low > 0 or self.high < 0

    def verdict(self, a: str = "A", b: str = "B") -> str:
        """``"<a> higher"``, ``"<b> higher"`` or ``"no difference shown"`` (the interval contains 0)."""
        if self.low > 0:
            return f"{a} higher"
        if self.high < 0:
            return f"{b} higher"
        return "no difference shown"

    def __str__(self) -> str:
        return f"{self.mean:+.3g} [{self.low:+.3g}, {self.high:+.3g}]"

    def as_dict(self) -> dict:
        return {"mean": self.mean, "low": self.low, "high": self.high, "n": self.n,
                "confidence": self.confidence, "method": self.method}


def paired_difference(a, b, *, confidence: float = 0.95, method: str = "t", bootstrap: int = 2000,
                      seed=0) -> Difference:
    """Mean of ``a[i] - b[i]`` and its ``confidence`` interval.

    ``a``, ``b``: one value per run, run ``i`` of both on the same seeds (NaN is an error:
    decide what a missing run means before comparing). ``method``: ``"t"`` (Student t
    interval of the mean difference) or ``"bootstrap"`` (percentile interval over
    ``bootstrap`` resamples of the runs, drawn from ``seed``). With identical
    differences (e.g. every run reaches the same ceiling) the interval is that one value.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.ndim != 1 or a.shape != b.shape:
        raise ValueError(f"a and b must be 1-d with one value per paired run; got shapes {a.shape} and {b.shape}")
    if len(a) < 2:
        raise ValueError(f"a paired interval needs at least 2 runs, got {len(a)}")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("a and b must be finite (a NaN is a missing run: decide what it means before comparing)")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    d = a - b
    mean = float(d.mean())
    if method == "t":
        from scipy import stats

        half = float(stats.t.ppf(0.5 + confidence / 2, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d)))
        low, high = mean - half, mean + half
    elif method == "bootstrap":
        check_count(bootstrap, "bootstrap", minimum=100)
        rng = as_rng(seed)
        means = d[rng.integers(0, len(d), size=(int(bootstrap), len(d)))].mean(axis=1)
        low, high = (float(q) for q in np.quantile(means, [0.5 - confidence / 2, 0.5 + confidence / 2]))
    else:
        raise ValueError(f"method must be 't' or 'bootstrap', got {method!r}")
    return Difference(mean, low, high, len(d), float(confidence), method)


def at_budget(experiment, budget: int, metric: str = "best_validation") -> np.ndarray:
    """Each run's ``metric`` (a :class:`~np_lib.search.Trace` field) after ``budget`` trained models."""
    check_count(budget, "budget", minimum=1)
    short = [run.rep for run in experiment.runs if len(run.trace) < budget]
    if short:
        raise ValueError(f"runs {short} trained fewer than {budget} models: no value at that budget")
    return np.array([getattr(run.trace, metric)[budget - 1] for run in experiment.runs], dtype=float)


def compare_runs(a, b, budget: int, metric: str = "best_validation", *, scale: float = 1.0, **options) -> Difference:
    """:func:`paired_difference` of two :class:`~np_lib.experiment.Experiment` s at ``budget``.

    Run ``r`` of ``a`` is paired with run ``r`` of ``b``; they must have seen the same
    simulated training (the same ``simulate_seed``, as :func:`~np_lib.experiment.run_experiment`
    gives runs of one ``seed``), otherwise the pairing means nothing and this raises.
    ``scale=100`` reports accuracies in percentage points. ``options`` go to
    :func:`paired_difference` (``method``, ``confidence``, ``bootstrap``, ``seed``).
    """
    if len(a.runs) != len(b.runs):
        raise ValueError(f"{len(a.runs)} runs against {len(b.runs)}: compare the same runs of both")
    unpaired = [r for r, (x, y) in enumerate(zip(a.runs, b.runs)) if x.simulate_seed != y.simulate_seed]
    if unpaired:
        raise ValueError(f"runs {unpaired} saw different simulated training: run both with the same seed")
    return paired_difference(scale * at_budget(a, budget, metric), scale * at_budget(b, budget, metric), **options)


#: The two accuracies of a search trace, and how the tables name them.
ACCURACIES = {"best_validation": "validation", "test_of_best": "test"}


def paired_table(experiments: dict, pairs, budgets, *, metrics: dict = ACCURACIES, starts: dict | None = None,
                 scale: float = 100.0, **options):
    """Paired differences between pairs of experiments at several budgets (Figures 4 and 7's tables).

    ``experiments``: ``{label: Experiment}`` of one seed; ``pairs``: ``[(a, b), ...]`` labels,
    ``a - b`` is taken run by run over the first ``min`` runs of both (:meth:`Experiment.first`).
    ``metrics``: ``{trace metric: name}``. ``starts``: ``{label: N}`` for methods that do not pick
    before model N + 1 (the Neural Predictor): a budget at or below a pair's larger start is "—".
    Returns ``(table, differences)``: ``table`` has one row per ``(f"{a} − {b}", name)``, one
    column per budget, cells ``mean [low, high]`` and `` *`` where the 95 % interval excludes
    zero (the only place a verdict is due); ``differences`` maps ``f"{a} - {b}, {name}, {budget}"``
    to :meth:`Difference.as_dict`. ``options`` go to :func:`paired_difference`.
    """
    starts = starts or {}
    rows, differences = {}, {}
    for a, b in pairs:
        r = min(len(experiments[a].runs), len(experiments[b].runs))
        first_a, first_b = experiments[a].first(r), experiments[b].first(r)
        for metric, name in metrics.items():
            row = {}
            for budget in budgets:
                if budget <= max(starts.get(a, 0), starts.get(b, 0)):
                    row[budget] = "—"
                    continue
                d = compare_runs(first_a, first_b, budget, metric, scale=scale, **options)
                row[budget] = f"{d}{' *' if d.excludes_zero else ''}"
                differences[f"{a} - {b}, {name}, {budget}"] = d.as_dict()
            rows[(f"{a} − {b}", name)] = row
    return pd.DataFrame(rows).T, differences


def paired_by_run(frame: pd.DataFrame, a: str, b: str, columns: dict, *, method: str = "method",
                  run: str = "run", **options) -> pd.DataFrame:
    """Per column of a long table (one row per method and run): both methods' means over runs and
    the paired difference ``a - b`` with its interval and verdict (notebook 08's frontier measures).

    ``columns``: ``{column: label}``; rows of ``a`` and ``b`` are paired by ``run`` and must hold
    the same runs. ``options`` go to :func:`paired_difference`. One row per label.
    """
    x, y = (frame[frame[method] == m].sort_values(run) for m in (a, b))
    if x.empty or y.empty:
        raise ValueError(f"no rows of {a if x.empty else b!r} in the {method!r} column")
    if x[run].tolist() != y[run].tolist():
        raise ValueError(f"{a!r} and {b!r} hold different runs: pair the same runs of both")
    rows = {}
    for column, label in columns.items():
        d = paired_difference(x[column].to_numpy(), y[column].to_numpy(), **options)
        rows[label] = {a: x[column].mean(), b: y[column].mean(), "difference": str(d), "verdict": d.verdict(a, b)}
    return pd.DataFrame(rows).T
