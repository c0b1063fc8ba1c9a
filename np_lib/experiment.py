"""Repeated, seeded, resumable search experiments and their aggregation (Figures 4 and 7).

The paper averages every curve over 600 runs (Figure 4, 7 captions). Here
:func:`run_experiment` runs ``R`` independent repetitions of one
:class:`~np_lib.search.Strategy`: repetition ``r`` draws its seeds from
``numpy.random.SeedSequence(seed, spawn_key=(r,))``, one for
``benchmark.simulate`` (which of a cell's training runs the search sees, fixed
for the run, section 4.1) and one for the search itself. Repetition ``r`` of an
experiment seed therefore gives every strategy the same simulated outcomes, and
the result of a repetition does not depend on how many there are or in what
order they ran.

Runs are independent, so they go to any ``concurrent.futures.Executor``
(serially in-process without one; :func:`process_pool` makes a suitable local
one). With a ``directory``, a ``manifest.json`` describing the experiment is
written first, and each finished run at once and atomically
(``run_00000.npz`` ...); calling :func:`run_experiment` again with the same
arguments skips the runs already on disk, so an interrupted experiment resumes
and ends with the same table as an uninterrupted one. The manifest is the
experiment's identity: the strategy's class and every parameter
(:meth:`~np_lib.search.Strategy.describe`; a strategy that cannot describe
itself, e.g. with a lambda as predictor, is refused), the budget, the seed and
a digest of the data. Runs are adopted only beside an equal manifest and only
if their seeds are this experiment's; an unreadable run file is named in a
warning and computed again. One experiment at a time holds a directory (a
``filelock`` lock), so two started at once cannot both claim it.
:func:`experiment_directory` names a directory after everything that defines
an experiment, so changing a parameter starts a new one instead of clashing.
Each run also records the wall-clock seconds its search took (``Run.seconds``,
kept on disk, not part of the table: it varies from run to run).

Why runs are not trained "as one batched model": stacking the R predictors of
an experiment into one network with a leading run dimension
(``benchmarks/batched_training.py``) computes the same fits (predictions equal
to 2e-6) and was faster per model at R = 4-8 (benchmarks/README.md, "Batched
training"). It is not used: it needs a second implementation of the training loop; it cannot
batch the two-stage regressors as they are (each run keeps a different number
of cells above 91%, so different step counts); it speeds up only the fit, not
the scoring of the candidate pool (a quarter of a run at the notebooks' 50
epochs, about half at paper scale on the 423,624-cell space); and it
ties a run's floating-point result to the runs it was batched with, so a
resumed experiment could rank near-ties differently from an uninterrupted one.
Runs in separate processes (:func:`process_pool`) need none of that. They gain
only what idle cores there are: 1.0x with two workers in that same
measurement, where no core was idle.
"""
from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import multiprocessing
import os
import sys
import time
import warnings
import zipfile
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .protocol import Pool, as_pool
from .search import IdentityError, SearchResult, Strategy, Trace
from .storage import atomic_path
from .validation import as_rng, check_positive
from .workers import spawn_problem, watch_parent

_FORMAT = 2  # version of the directory layout; 2: the manifest covers the strategy's class and all the data
MANIFEST = "manifest.json"
METRICS = ("best_validation", "test_of_best", "cumulative_time")


def run_seeds(seed: int, rep: int) -> tuple[int, int]:
    """``(simulate_seed, search_seed)`` of repetition ``rep`` of an experiment seeded ``seed``."""
    simulate_seed, search_seed = np.random.SeedSequence(seed, spawn_key=(rep,)).generate_state(2)
    return int(simulate_seed), int(search_seed)


@dataclass(frozen=True)
class Run:
    """One finished repetition: its index, seeds, trace, the strategy's counters and its cost.

    ``seconds``: wall-clock time of the search itself (in the process that ran
    it; NaN for runs saved before this was recorded). Not part of
    :meth:`Experiment.table`, whose values are deterministic.
    """
    rep: int
    simulate_seed: int
    search_seed: int
    trace: Trace
    stats: dict[str, int]
    seconds: float = math.nan


@dataclass(frozen=True)
class Experiment:
    """The runs of one experiment, in repetition order, and the manifest that describes it."""
    manifest: dict
    runs: list[Run]

    @property
    def name(self) -> str:
        return self.manifest["strategy"]["strategy"]

    def first(self, r: int) -> "Experiment":
        """Its first ``r`` runs: run ``i`` of every experiment of one seed starts from the same
        seeds, so the first ``r`` runs of two experiments are still paired."""
        check_positive(r, "r")
        if r > len(self.runs):
            raise ValueError(f"first({r}) of an experiment with {len(self.runs)} runs")
        return Experiment(self.manifest, self.runs[:r])

    def table(self) -> pd.DataFrame:
        """Long table: one row per (rep, budget) with the trace's metrics."""
        parts = [pd.DataFrame({"rep": run.rep, "budget": run.trace.budgets,
                               **{m: getattr(run.trace, m) for m in METRICS}}) for run in self.runs]
        return pd.concat(parts, ignore_index=True)

    def stats(self) -> pd.DataFrame:
        """The strategy's counters per run (e.g. Regularized Evolution's redraws and fallbacks)."""
        return pd.DataFrame([{"rep": run.rep, **run.stats} for run in self.runs]).set_index("rep")

    def seconds(self) -> pd.Series:
        """Wall-clock seconds of each run's search, by repetition (volatile: not a result)."""
        return pd.Series([run.seconds for run in self.runs], index=pd.Index([r.rep for r in self.runs], name="rep"),
                         name="seconds")

    def summary(self, by: str = "budget", num_points: int = 500) -> pd.DataFrame:
        """Mean and standard deviation over runs (``ddof=1``), per budget or on a time grid.

        ``by="budget"``: indexed by the number of trained models (Figure 4 left
        and middle), columns ``{metric}_mean`` and ``{metric}_std``.
        ``by="time"``: indexed by cumulative training time on ``num_points``
        evenly spaced times up to the shortest run's total (Figure 4 right); a
        run's value at time ``t`` is its best among the models whose training
        had finished by ``t``; the mean is NaN where some run had none yet.
        Runs of different lengths (a soft-Pareto search trains N + K, K its own
        per run) are compared up to the shortest: a mean over only the longer
        runs would mix different populations.
        """
        if by == "budget":
            table = self.table()
            shortest = min(len(run.trace) for run in self.runs)
            table = table[table["budget"] <= shortest].groupby("budget")[list(METRICS)]
            out = pd.concat([table.mean().add_suffix("_mean"), table.std().add_suffix("_std")], axis=1)
            return out[[f"{m}_{s}" for m in METRICS for s in ("mean", "std")]]
        if by == "time":
            times, values = self._on_time_grid(num_points)
            columns = {}
            for metric, per_run in values.items():
                # skipna=False: a mean over only the runs that have a model yet would be biased upwards
                columns[f"{metric}_mean"] = per_run.mean(axis=0)
                columns[f"{metric}_std"] = per_run.std(axis=0, ddof=1) if len(per_run) > 1 else np.nan
            return pd.DataFrame(columns, index=pd.Index(times, name="time"))
        raise ValueError(f"by must be 'budget' or 'time', got {by!r}")

    def _on_time_grid(self, num_points: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        if num_points < 2:
            raise ValueError(f"num_points must be at least 2, got {num_points}")
        cumulative = [run.trace.cumulative_time for run in self.runs]
        if any(np.isnan(c).any() for c in cumulative):
            raise ValueError("training times are missing (NaN) in this data: no time axis")
        times = np.linspace(0.0, min(c[-1] for c in cumulative), num_points)
        values = {m: np.empty((len(self.runs), num_points)) for m in ("best_validation", "test_of_best")}
        for i, run in enumerate(self.runs):
            # position of the last model finished by each time; -1 where none has
            last = np.searchsorted(run.trace.cumulative_time, times, side="right") - 1
            for metric, out in values.items():
                out[i] = np.where(last >= 0, getattr(run.trace, metric)[np.maximum(last, 0)], np.nan)
        return times, values


@dataclass(frozen=True)
class Efficiency:
    """How much sooner ``method`` reaches ``target`` than ``baseline`` (section 4.1's "x-fold").

    ``baseline_at`` / ``method_at``: the budget (or training time) at which
    each mean curve first reaches ``target``; ``ratio = baseline_at / method_at``
    (NaN, with ``method_at`` NaN, if the method never reaches it).
    """
    metric: str
    by: str
    target: float
    baseline_at: float
    method_at: float
    ratio: float


def sample_efficiency(method: Experiment, baseline: Experiment, metric: str = "best_validation",
                      by: str = "budget", target: float | None = None, num_points: int = 500) -> Efficiency:
    """The "x-fold sample efficiency" of ``method`` over ``baseline`` (section 4.1).

    efficiency = (budget at which the baseline's mean curve first reaches the
    target) / (budget at which the method's mean curve first reaches it). The
    target defaults to the baseline's final mean value: "after 5000 samples,
    Regularized Evolution reaches 95.06 % ...; our predictor can reach the same
    validation accuracy 12.40x faster". ``by="time"`` does the same on the mean
    curves over cumulative training time (:meth:`Experiment.summary`), each on
    its own grid of ``num_points`` times, so crossing times are accurate to a
    ``1 / (num_points - 1)`` share of that experiment's time range.
    """
    if metric not in ("best_validation", "test_of_best"):
        raise ValueError(f"metric must be 'best_validation' or 'test_of_best', got {metric!r}")
    curves = [experiment.summary(by, num_points)[f"{metric}_mean"] for experiment in (baseline, method)]
    if curves[0].isna().all() or curves[1].isna().all():
        raise ValueError(f"no {metric} values to compare (test accuracy is absent from the NAS-Bench-101 sample)")
    target = float(curves[0].dropna().iloc[-1]) if target is None else float(target)
    baseline_at, method_at = (_first_reaching(curve, target) for curve in curves)
    if math.isnan(baseline_at):
        raise ValueError(f"the baseline's mean {metric} never reaches the target {target}")
    return Efficiency(metric=metric, by=by, target=target, baseline_at=baseline_at, method_at=method_at,
                      ratio=baseline_at / method_at)


@dataclass(frozen=True)
class EfficiencyInterval:
    """:func:`sample_efficiency` with a bootstrap interval over runs (``low``, ``high``), and
    ``unreached``: the share of resamples in which the method's mean curve never reaches the
    target (those have no ratio; the interval is over the others)."""
    point: Efficiency
    low: float
    high: float
    unreached: float


def efficiency_interval(method: Experiment, baseline: Experiment, metric: str = "best_validation", *,
                        bootstrap: int = 1000, level: float = 0.95, seed=0) -> EfficiencyInterval:
    """The x-fold sample efficiency (by budget) and its percentile-bootstrap interval.

    Each resample draws both experiments' runs with replacement, averages their
    best-so-far curves and takes the ratio of the budgets at which the mean curves
    first reach the point estimate's target. ``seed`` is an int or a Generator (one
    stream can be threaded through several calls). Runs of one experiment must all
    have the same length (as budget-limited searches do).
    """
    check_positive(bootstrap, "bootstrap")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    point = sample_efficiency(method, baseline, metric=metric)
    rng = as_rng(seed)

    def resampled_first_reaching(experiment: Experiment) -> np.ndarray:
        curves = np.stack([getattr(run.trace, metric) for run in experiment.runs])
        means = curves[rng.integers(len(curves), size=(bootstrap, len(curves)))].mean(axis=1)
        hit = means >= point.target
        return np.where(hit.any(axis=1), hit.argmax(axis=1) + 1.0, np.nan)  # budgets count from 1

    method_at = resampled_first_reaching(method)
    ratios = resampled_first_reaching(baseline) / method_at
    reached = ratios[np.isfinite(ratios)]
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(reached, [tail, 100 - tail]) if len(reached) else (np.nan, np.nan)
    return EfficiencyInterval(point, float(low), float(high), float(np.mean(~np.isfinite(ratios))))


def _first_reaching(curve: pd.Series, target: float) -> float:
    reached = np.flatnonzero(curve.to_numpy() >= target)
    return float(curve.index[reached[0]]) if len(reached) else math.nan


def run_experiment(strategy: Strategy, benchmark, *, budget: int, runs: int, seed: int = 0, pool=None,
                   directory: str | Path | None = None, executor: Executor | None = None,
                   max_in_flight: int | None = None, progress: bool = True,
                   on_run: Callable[[Run], None] | None = None) -> Experiment:
    """Run ``runs`` seeded repetitions of ``strategy`` on ``benchmark`` with ``budget`` models each.

    ``strategy``: any :class:`~np_lib.search.Strategy` (random search, the
    oracle, Regularized Evolution, the Neural Predictor,
    :class:`~np_lib.pareto.SoftParetoSearch`, whose ``budget`` caps N + K).
    ``benchmark``: a loaded NAS-Bench-101 table, any space of the
    :class:`~np_lib.protocol.Benchmark` interface (NAS-Bench-201, NAS-Bench-Macro,
    a pool space, a chain space with an accuracy surrogate), or a
    :class:`~np_lib.protocol.Pool`. ``pool``: the architectures to search (e.g.
    an in-band sample); None: the benchmark's own pool. Repetition ``r``
    trains the pool once with ``pool.simulate(simulate_seed)``. ``directory``: where
    finished runs are kept and from where a repeated call resumes (module
    docstring); it refuses a directory holding a different strategy, budget,
    seed or data. More runs than on disk extend an experiment. ``executor``:
    a ``concurrent.futures.Executor`` (a ``ProcessPoolExecutor``, a Dask
    ``Client.get_executor()``, ...) or None to run serially in this process;
    at most ``max_in_flight`` runs (default: twice this machine's cores) are
    submitted at a time, because each carries one simulated training of the
    whole pool. ``on_run(run)`` is called in this process after each run is
    saved. ``progress`` shows a tqdm bar over finished runs.
    """
    check_positive(budget, "budget")
    check_positive(runs, "runs")
    problem = as_pool(benchmark, pool)
    manifest = _manifest(strategy, _identified(problem), budget, seed, strict=directory is not None)
    store = _Store(Path(directory), manifest) if directory is not None else None  # holds the directory's lock
    done = store.load(runs, seed) if store else {}
    todo = iter([rep for rep in range(runs) if rep not in done])

    def task(rep: int) -> tuple:
        # The outcomes are drawn here, so a task ships the pool and one run's arrays, not the whole table.
        simulate_seed, search_seed = run_seeds(seed, rep)
        return problem, problem.simulate(simulate_seed), budget, search_seed

    def finish(rep: int, timed: tuple[SearchResult, float]) -> None:
        result, seconds = timed
        simulate_seed, search_seed = run_seeds(seed, rep)
        run = Run(rep, simulate_seed, search_seed, result.trace, dict(result.stats), seconds)
        if store:
            store.save(run)
        done[rep] = run
        bar.update()
        if on_run:
            on_run(run)

    with store or contextlib.nullcontext(), \
            tqdm(total=runs, initial=len(done), desc=strategy.name, unit="run", disable=not progress) as bar:
        if executor is None:
            for rep in todo:
                finish(rep, _timed_search(strategy, *task(rep)))
        else:
            pending = {}

            def submit(count: int) -> None:
                for rep in itertools.islice(todo, count):
                    pending[executor.submit(_timed_search, strategy, *task(rep))] = rep

            submit(max_in_flight or 2 * (os.cpu_count() or 1))
            try:
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        finish(pending.pop(future), future.result())
                    submit(len(finished))
            finally:  # on an error or Ctrl-C, do not leave queued runs behind
                for future in pending:
                    future.cancel()
    return Experiment(manifest, [done[rep] for rep in range(runs)])


def _timed_search(strategy: Strategy, pool: Pool, outcomes, budget: int, seed) -> tuple[SearchResult, float]:
    start = time.perf_counter()
    result = strategy.search(pool, outcomes, budget, seed)
    seconds = time.perf_counter() - start
    # Only what a Run keeps travels back from a worker (not a fitted model or 100,000 predictions).
    return SearchResult(result.trace, dict(result.stats), result.parents), seconds


def _identified(pool: Pool):
    """What :func:`_fingerprint` digests: a NAS-Bench-101 table itself when the pool is all of it, else the pool."""
    from .nasbench101.benchmark import NASBench101

    bench = getattr(pool.space, "bench", None)
    if isinstance(bench, NASBench101) and pool.archs is bench.cells:
        return bench
    return pool


def _limit_threads(threads: int, parent_pid: int | None = None) -> None:
    """A :func:`process_pool` worker's initializer: its thread count, and exit when ``parent_pid`` dies."""
    # Before torch (or numpy's BLAS) is imported in the worker: their thread pools read these.
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
    if parent_pid is not None:
        watch_parent(parent_pid)


def run_experiments(strategies: dict, benchmark, *, budget: int, seed: int = 0, executor: Executor | None = None,
                    serial=(), **options) -> dict:
    """:func:`run_experiment` for each ``{label: (strategy, runs)}``, in order, all on one ``seed``.

    One seed makes run ``i`` of every experiment start from the same seeds, so any two are
    paired run by run (:func:`np_lib.compare.compare_runs`). Labels in ``serial`` run in this
    process even when an ``executor`` is given (baselines that take milliseconds gain nothing
    from a worker). ``options`` go to :func:`run_experiment`. Returns ``{label: Experiment}``.
    """
    return {label: run_experiment(strategy, benchmark, budget=budget, runs=runs, seed=seed,
                                  executor=None if label in serial else executor, **options)
            for label, (strategy, runs) in strategies.items()}


def process_pool(workers: int | None = None, threads_per_worker: int = 1) -> ProcessPoolExecutor:
    """A ``ProcessPoolExecutor`` for :func:`run_experiment`: ``workers`` processes (default: all cores).

    Workers are *spawned* (a fresh interpreter each, which imports torch on
    first use: seconds), not forked: forking a process that already runs
    torch's thread pool, or a Jupyter kernel, can hang. Each worker uses
    ``threads_per_worker`` threads for torch and BLAS, so ``workers`` processes
    do not oversubscribe the cores; with 1 thread the predictor's floating-point
    results do not depend on how many cores the machine has. Use it as a context
    manager, or call ``shutdown()``; one pool can serve many experiments.

    Workers exit within half a second when this process dies, even by SIGKILL
    (:func:`np_lib.workers.watch_parent`), so no orphans keep computing. A
    program whose main script workers cannot re-import (one read from standard
    input) gets a ``RuntimeError`` here, before any worker starts, instead of
    workers that die at start.
    """
    workers = workers or os.cpu_count() or 1
    check_positive(workers, "workers")
    check_positive(threads_per_worker, "threads_per_worker")
    problem = spawn_problem()
    if problem is not None:
        raise RuntimeError(f"process_pool: {problem}. Save the script to a file and run that, or run "
                           "serially (executor=None) or with a concurrent.futures.ThreadPoolExecutor")
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_limit_threads, initargs=(threads_per_worker, os.getpid()))


def experiment_directory(root: str | Path, strategy: Strategy, benchmark, *, budget: int, seed: int = 0,
                         label: str | None = None, pool=None) -> Path:
    """``root/<label>-<digest>``: a directory for this experiment, named after what defines it.

    The digest covers everything :func:`run_experiment` checks a directory
    against (the strategy's class and every parameter, the budget, the seed,
    the data), so a changed parameter gets its own directory and resumes there
    later, while the same experiment always finds its runs. ``label`` defaults
    to the strategy's name. The number of runs is not part of it: more runs
    extend an experiment. A strategy that cannot describe itself (a lambda as
    predictor) is refused with a ``ValueError``.
    """
    manifest = _manifest(strategy, _identified(as_pool(benchmark, pool)), budget, seed, strict=True)
    digest = hashlib.md5(json.dumps(manifest, sort_keys=True).encode()).hexdigest()[:10]
    return Path(root) / f"{label or strategy.name}-{digest}"


def _manifest(strategy: Strategy, benchmark, budget: int, seed: int, strict: bool = True) -> dict:
    """Everything that determines an experiment's runs, as plain JSON (the runs' count aside).

    ``strict``: refuse (``IdentityError``) a strategy that cannot describe
    itself; otherwise (an experiment kept only in memory) record why not.
    """
    try:
        described = strategy.describe()
    except IdentityError as e:
        if strict:
            raise IdentityError(f"{e}\n(an experiment directory needs a complete identity, or stale runs "
                                "could be reused under changed parameters)") from None
        described = {"strategy": strategy.name, "undescribed": str(e)}
    # Round-trip through JSON so the manifest compares equal to one read back from disk.
    return json.loads(json.dumps({"format": _FORMAT, "strategy": described, "budget": int(budget),
                                  "seed": int(seed), "data": _fingerprint(benchmark)}))


def _fingerprint(benchmark) -> dict:
    """Which data an experiment ran on: a digest of every value a run can read.

    The cells (hashes, matrices, ops) and, for a table-backed benchmark
    (``benchmark.table``, e.g. NAS-Bench-101), every numeric column: a run
    draws its outcomes from any of a cell's training runs and epochs
    (``simulate``). Without a table, the outcomes of ``simulate(0)``.
    """
    if isinstance(benchmark, Pool):
        return _pool_fingerprint(benchmark)
    cells = benchmark.cells
    digest = hashlib.sha256(np.asarray(cells.hashes).astype("S64").tobytes())
    for name in ("matrices", "ops"):
        if hasattr(cells, name):
            digest.update(np.ascontiguousarray(getattr(cells, name)).tobytes())
    table = getattr(benchmark, "table", None)
    if isinstance(table, pd.DataFrame):
        for column in sorted(table.select_dtypes("number").columns):
            digest.update(column.encode() + b"\0")
            digest.update(np.ascontiguousarray(table[column].to_numpy(), dtype="<f8").tobytes())
    else:
        outcomes = benchmark.simulate(0)
        for name in sorted(vars(outcomes)) if hasattr(outcomes, "__dict__") else ():
            value = getattr(outcomes, name)
            if isinstance(value, np.ndarray):
                digest.update(name.encode() + b"\0" + np.ascontiguousarray(value, dtype="<f8").tobytes())
    return {"num_cells": len(cells), "digest": digest.hexdigest()}


def _pool_fingerprint(pool: Pool) -> dict:
    """The pool's benchmark name, its architectures (their keys, or their bytes), their latencies and
    the outcomes of ``simulate(0)``: every value a run on a pool of any benchmark reads."""
    digest = hashlib.sha256(pool.name.encode() + b"\0")
    keys = getattr(pool.space, "arch_keys", None)
    if keys is not None:
        for key in keys(pool.archs):
            digest.update(key if isinstance(key, bytes) else str(key).encode())
    else:
        digest.update(np.ascontiguousarray(np.asarray(pool.archs)).tobytes())
    outcomes = pool.simulate(0)
    for value in (outcomes.validation_accuracy, outcomes.test_accuracy, outcomes.training_time, pool.latency()):
        digest.update(np.ascontiguousarray(value, dtype="<f8").tobytes())
    return {"num_cells": len(pool), "digest": digest.hexdigest()}


class ExperimentInUse(RuntimeError):
    """Another process is running an experiment in this directory right now."""


class _Store:
    """An experiment directory: ``manifest.json`` and one ``run_{rep:05d}.npz`` per finished run.

    Opened for an experiment (``manifest`` given), it takes the directory's
    lock (``.lock``, a ``filelock.FileLock``) and holds it until :meth:`close`:
    one experiment at a time per directory, so two started at once cannot
    both pass the check. Under the lock the manifest is written first
    (atomically) or compared with the one on disk; run files without a
    manifest are never adopted. A manifest with no run beside it is the claim
    of an attempt that failed before its first run (say, a budget too large
    for the pool): nobody holds the lock, so it is replaced.
    """

    LOCK = ".lock"

    def __init__(self, directory: Path, manifest: dict | None = None):
        self.directory = directory
        self.manifest = manifest
        self._lock = None
        if manifest is not None:
            self._claim(manifest)

    def _claim(self, manifest: dict) -> None:
        from filelock import FileLock, Timeout

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise PermissionError(f"cannot create the experiment directory {self.directory} ({e.strerror})") from None
        lock = FileLock(self.directory / self.LOCK)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            found = self.read_manifest()
            raise ExperimentInUse(f"{self.directory} is in use: another process is running an experiment there "
                                  f"({found['strategy'] if found else 'just starting'}); wait for it, or use "
                                  "another directory") from None
        try:
            found = self.read_manifest()
            run_files = self.run_files()
            if found is None and run_files:
                raise ValueError(f"{self.directory} holds {len(run_files)} run file(s) but no {MANIFEST}: "
                                 "they cannot be matched to an experiment, so they are not adopted; "
                                 "delete them or use another directory")
            if found is not None and found != manifest and run_files:
                raise ValueError(f"{self.directory} holds a different experiment:\n  on disk: {found}\n  "
                                 f"requested: {manifest}\nuse another directory")
            if found != manifest:
                with atomic_path(self.directory / MANIFEST) as tmp:
                    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        except BaseException:
            lock.release()
            raise
        self._lock = lock

    def close(self) -> None:
        """Release the directory for other processes."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> "_Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def read_manifest(self) -> dict | None:
        path = self.directory / MANIFEST
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError) as e:  # written atomically, so only a damaged disk or a hand edit
            raise ValueError(f"{path} is not a readable manifest ({e}); remove the directory "
                             "or use another one") from None

    def path(self, rep: int) -> Path:
        return self.directory / f"run_{rep:05d}.npz"

    def run_files(self) -> list[Path]:
        return sorted(self.directory.glob("run_*.npz"))

    def save(self, run: Run) -> None:
        t = run.trace
        with atomic_path(self.path(run.rep)) as tmp, open(tmp, "wb") as f:
            np.savez(f, rep=run.rep, simulate_seed=run.simulate_seed, search_seed=run.search_seed,
                     trained=t.trained, best=t.best, best_validation=t.best_validation,
                     test_of_best=t.test_of_best, cumulative_time=t.cumulative_time,
                     stat_names=np.array(list(run.stats), dtype=str),
                     stat_values=np.array(list(run.stats.values()), dtype=np.int64), seconds=run.seconds)

    def load(self, runs: int | None = None, seed: int | None = None, unreadable: str = "recomputing it") -> dict[int, Run]:
        """The saved runs (those with ``rep < runs``, if given) by repetition.

        A run file that cannot be read (empty, truncated, corrupt) or that does
        not belong here (its repetition differs from its name, or its seeds
        from those of ``seed``) is named in a ``RuntimeWarning`` and left out,
        so :func:`run_experiment` computes it again.
        """
        out = {}
        for path in self.run_files():
            try:
                run = self._read(path)
            except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError) as e:
                warnings.warn(f"{path}: unreadable run file ({type(e).__name__}: {e}); {unreadable}",
                              RuntimeWarning, stacklevel=3)
                continue
            if path != self.path(run.rep) or (seed is not None and
                                              (run.simulate_seed, run.search_seed) != run_seeds(seed, run.rep)):
                warnings.warn(f"{path}: holds repetition {run.rep} with seeds {run.simulate_seed}, "
                              f"{run.search_seed}, not this experiment's; {unreadable}", RuntimeWarning, stacklevel=3)
                continue
            if runs is None or run.rep < runs:
                out[run.rep] = run
        return out

    @staticmethod
    def _read(path: Path) -> Run:
        with open(path, "rb") as file, np.load(file) as f:  # our handle: np.load leaks its own on a bad zip
            trace = Trace(budgets=np.arange(1, len(f["trained"]) + 1), trained=f["trained"], best=f["best"],
                          best_validation=f["best_validation"], test_of_best=f["test_of_best"],
                          cumulative_time=f["cumulative_time"])
            stats = dict(zip(f["stat_names"].tolist(), f["stat_values"].tolist()))
            seconds = float(f["seconds"]) if "seconds" in f.files else math.nan
            return Run(int(f["rep"]), int(f["simulate_seed"]), int(f["search_seed"]), trace, stats, seconds)


def load_experiment(directory: str | Path) -> Experiment:
    """Read an experiment directory written by :func:`run_experiment` (all runs on disk, by repetition)."""
    store = _Store(Path(directory))
    manifest = store.read_manifest()
    if manifest is None:
        raise FileNotFoundError(f"{directory} is not an experiment directory: no {MANIFEST}")
    if manifest.get("format") != _FORMAT:
        raise ValueError(f"{directory}: format {manifest.get('format')!r}, this np_lib reads format {_FORMAT}")
    runs = store.load(seed=manifest["seed"], unreadable="left out (run_experiment recomputes it)")
    return Experiment(manifest, [run for _, run in sorted(runs.items())])


# --- reading experiments at a budget (notebooks 04 and 05) ---

def mean_std_at(experiment: Experiment, budget: int, metric: str = "best_validation",
                scale: float = 1.0) -> tuple[float, float]:
    """Mean and standard deviation over runs (``ddof=1``) of ``metric`` after ``budget`` models,
    times ``scale`` (100 for percent): one point of a Figure 4 or Figure 7 curve (section 4.1)."""
    row = experiment.summary().loc[budget]
    return scale * row[f"{metric}_mean"], scale * row[f"{metric}_std"]


def _picks_from(experiment: Experiment) -> int:
    # A predictor search's first N models are its random training set (section 3): its own
    # choices start at N + 1. Other strategies choose from the first model on.
    return int(experiment.manifest["strategy"].get("N", 0))


def curve_points(experiment: Experiment, budgets, metric: str = "best_validation", *, scale: float = 1.0,
                 digits: int = 4) -> dict:
    """``{budget: {"mean": ..., "std": ...}}`` (:func:`mean_std_at`, rounded to ``digits``) for a
    results file; budgets at or below a predictor search's N are left out (they are its random
    training set, not its picks)."""
    points = {}
    for b in budgets:
        if b > _picks_from(experiment):
            mean, std = mean_std_at(experiment, b, metric, scale)
            points[int(b)] = {"mean": round(float(mean), digits), "std": round(float(std), digits)}
    return points


def budget_table(experiments: dict, budgets, metrics=("best_validation",), *, names: dict | None = None,
                 scale: float = 100, digits: int = 2) -> pd.DataFrame:
    """Figure 4's curves as numbers: "mean ± std" over runs at each budget, one row per
    (metric, label), one column per budget ("models trained"); "—" at or below a predictor
    search's N and where there is no value. ``names`` renames the metrics for the rows."""
    names = names or {}

    def text(mean, std):
        return "—" if np.isnan(mean) else f"{mean:.{digits}f} ± {std:.{digits}f}"

    table = {}
    for metric in metrics:
        for label, experiment in experiments.items():
            table[(names.get(metric, metric), label)] = [
                "—" if b <= _picks_from(experiment) else text(*mean_std_at(experiment, b, metric, scale))
                for b in budgets]
    return pd.DataFrame(table, index=pd.Index(list(budgets), name="models trained")).T


def evolution_counters(experiment: Experiment, budget: int) -> dict:
    """What a search's redraw policy did, per run (mean over runs): notebook 04's appendix on
    :class:`~np_lib.search.RegularizedEvolution` (``distinct_child``).

    Rows: the share of children (models after the initial population) that are their parent,
    the share of distinct cells among the ``budget`` models, the mutations drawn per child and
    those redrawn because the mutant was the parent, the fallbacks per run, and the best
    validation accuracy after ``budget`` models (mean, std over runs, in %). For a strategy
    without a population (random search) the evolution counters are NaN.
    """
    distinct = np.array([len(np.unique(run.trace.trained)) for run in experiment.runs])
    mean, std = mean_std_at(experiment, budget, scale=100)
    counters = dict.fromkeys(("children that are their parent (%)", "mutations drawn per child",
                              "  of them redrawn as the parent", "fallbacks per run"), np.nan)
    population = experiment.manifest["strategy"].get("population_size")
    if population is not None:
        stats, children = experiment.stats(), budget - population
        counters = {"children that are their parent (%)": 100 * stats["parent_repeats"].mean() / children,
                    "mutations drawn per child": 1 + stats["redraws"].mean() / children,
                    "  of them redrawn as the parent": stats["parent_redraws"].mean() / children,
                    "fallbacks per run": stats["fallbacks"].mean()}
    return {"children that are their parent (%)": counters["children that are their parent (%)"],
            "distinct cells among the models (%)": 100 * distinct.mean() / budget,
            "mutations drawn per child": counters["mutations drawn per child"],
            "  of them redrawn as the parent": counters["  of them redrawn as the parent"],
            "fallbacks per run": counters["fallbacks per run"],
            f"best validation after {budget} (%)": mean, "  std over runs": std}


def distinct_cells(experiment: Experiment) -> np.ndarray:
    """Mean over runs of how many distinct cells are among the first ``b`` models trained, for
    ``b = 1 ..`` the shortest run's length: a search that retrains models falls below the diagonal."""
    length = min(len(run.trace) for run in experiment.runs)
    counts = []
    for run in experiment.runs:
        first = np.zeros(length, bool)
        first[np.unique(run.trace.trained[:length], return_index=True)[1]] = True
        counts.append(np.cumsum(first))
    return np.mean(counts, axis=0)
