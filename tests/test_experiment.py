"""The experiment engine: seeded repetitions, determinism, resuming after an interrupt,
executors (processes, Dask), and aggregation (mean/std per budget and time, x-fold efficiency)."""
import contextlib
import dataclasses
import functools
import math
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from np_lib.experiment import (Experiment, Run, experiment_directory, load_experiment, process_pool,
                               run_experiment, run_seeds, sample_efficiency)
from np_lib.experiment import efficiency_interval
from np_lib.nasbench101.benchmark import NASBench101
from np_lib.nasbench101.cell import OPS
from np_lib.nasbench101.space import random_cell
from np_lib.search import Oracle, RandomSearch, RegularizedEvolution, Trace

BUDGET = 40


def synthetic_benchmark(n: int = 150, seed: int = 0) -> NASBench101:
    """A NASBench101 of ``n`` distinct real cells with three synthetic runs each (test accuracy included)."""
    rng = np.random.default_rng(seed)
    cells = {}
    while len(cells) < n:
        cell = random_cell(rng)
        cells.setdefault(cell.hash, cell)
    table = pd.DataFrame({
        "module_hash": list(cells),
        "module_adjacency": ["".join(map(str, c.matrix.ravel())) for c in cells.values()],
        "module_operations": [",".join(OPS[o] for o in c.ops) for c in cells.values()],
        "trainable_parameters": 0,
    })
    quality = rng.uniform(0.85, 0.94, n)
    for r in range(3):
        table[f"validation_accuracy_108_r{r}"] = quality + rng.normal(0, 0.003, n)
        table[f"test_accuracy_108_r{r}"] = quality + rng.normal(0, 0.003, n) - 0.01
        table[f"training_time_108_r{r}"] = rng.uniform(1000, 3000, n)
    return NASBench101(table, "sample", Path("synthetic.csv"))


@pytest.fixture(scope="module")
def nasbench():
    return synthetic_benchmark()


def test_repetitions_are_seeded_and_independent_of_their_number(nasbench):
    evolution = RegularizedEvolution(population_size=10, tournament_size=3)
    a = run_experiment(evolution, nasbench, budget=BUDGET, runs=3, seed=1, progress=False)
    b = run_experiment(evolution, nasbench, budget=BUDGET, runs=5, seed=1, progress=False)
    c = run_experiment(evolution, nasbench, budget=BUDGET, runs=3, seed=2, progress=False)
    pd.testing.assert_frame_equal(a.table(), b.table()[b.table()["rep"] < 3])
    assert not a.table().equals(c.table())
    assert [(r.simulate_seed, r.search_seed) for r in a.runs] == [run_seeds(1, rep) for rep in range(3)]
    assert len({r.simulate_seed for r in b.runs}) == 5
    assert list(a.stats().columns) == ["redraws", "parent_redraws", "fallbacks", "parent_repeats"]


def test_the_oracle_varies_only_with_the_simulated_runs(nasbench):
    experiment = run_experiment(Oracle(), nasbench, budget=5, runs=6, seed=0, progress=False)
    for run in experiment.runs:
        outcomes = nasbench.simulate(run.simulate_seed)
        assert np.all(run.trace.best_validation == outcomes.validation_accuracy.max())
        assert np.all(run.trace.test_of_best == outcomes.test_accuracy[outcomes.validation_accuracy.argmax()])
    assert experiment.summary().loc[5, "best_validation_std"] > 0  # a different run of each cell each time


@pytest.mark.parametrize("threads", [0, 2])
def test_an_interrupted_experiment_resumes_to_the_same_table(nasbench, tmp_path, threads):
    evolution = RegularizedEvolution(population_size=10, tournament_size=3)
    args = dict(budget=BUDGET, runs=5, seed=3, progress=False)
    finished = []

    def interrupt_after_two(run):
        finished.append(run.rep)
        if len(finished) == 2:
            raise KeyboardInterrupt

    with ThreadPoolExecutor(threads) if threads else contextlib.nullcontext() as executor:
        with pytest.raises(KeyboardInterrupt):
            run_experiment(evolution, nasbench, directory=tmp_path / "a", executor=executor,
                           on_run=interrupt_after_two, **args)
    saved = sorted(p.name for p in (tmp_path / "a").iterdir() if not p.name.startswith("."))  # not the .lock
    assert saved == ["manifest.json"] + [f"run_{rep:05d}.npz" for rep in sorted(finished)]
    resumed_reps = []
    resumed = run_experiment(evolution, nasbench, directory=tmp_path / "a",
                             on_run=lambda run: resumed_reps.append(run.rep), **args)
    assert sorted(finished + resumed_reps) == [0, 1, 2, 3, 4]  # the saved runs were not run again
    uninterrupted = run_experiment(evolution, nasbench, directory=tmp_path / "b", **args)
    pd.testing.assert_frame_equal(resumed.table(), uninterrupted.table())
    pd.testing.assert_frame_equal(load_experiment(tmp_path / "a").table(), uninterrupted.table())
    pd.testing.assert_frame_equal(load_experiment(tmp_path / "a").stats(), uninterrupted.stats())
    assert load_experiment(tmp_path / "a").manifest == uninterrupted.manifest


def test_a_directory_refuses_a_different_experiment(nasbench, tmp_path):
    run_experiment(RandomSearch(), nasbench, budget=10, runs=1, directory=tmp_path, progress=False)
    with pytest.raises(ValueError, match="holds a different experiment"):
        run_experiment(RandomSearch(), nasbench, budget=11, runs=1, directory=tmp_path, progress=False)
    with pytest.raises(ValueError, match="holds a different experiment"):
        run_experiment(RandomSearch(), synthetic_benchmark(seed=1), budget=10, runs=1, directory=tmp_path,
                       progress=False)
    with pytest.raises(FileNotFoundError, match="not an experiment directory"):
        load_experiment(tmp_path / "nothing")


def test_a_failed_start_leaves_the_directory_free(nasbench, tmp_path):
    with pytest.raises(ValueError, match="exceeds the pool"):
        run_experiment(RandomSearch(), nasbench, budget=1000, runs=2, directory=tmp_path, progress=False)
    run_experiment(RandomSearch(), nasbench, budget=10, runs=2, directory=tmp_path, progress=False)
    assert load_experiment(tmp_path).manifest["budget"] == 10
    with pytest.raises(ValueError, match="runs must be a positive integer"):
        run_experiment(RandomSearch(), nasbench, budget=10, runs=0)


def test_a_process_pool_gives_the_serial_result(nasbench):
    evolution = RegularizedEvolution(population_size=10, tournament_size=3)
    serial = run_experiment(evolution, nasbench, budget=BUDGET, runs=4, seed=5, progress=False)
    with ProcessPoolExecutor(max_workers=2) as pool:
        parallel = run_experiment(evolution, nasbench, budget=BUDGET, runs=4, seed=5, executor=pool,
                                  max_in_flight=1, progress=False)
    pd.testing.assert_frame_equal(serial.table(), parallel.table())
    pd.testing.assert_frame_equal(serial.stats(), parallel.stats())


def _worker_threads(_):
    import os
    import sys

    # torch, when a worker imports it, sizes its thread pool from OMP_NUM_THREADS
    return os.environ["OMP_NUM_THREADS"], os.environ["MKL_NUM_THREADS"], "torch" in sys.modules


def test_process_pool_spawns_workers_with_one_thread(nasbench):
    with process_pool(2) as pool:
        spawned = run_experiment(RandomSearch(), nasbench, budget=BUDGET, runs=3, seed=5, executor=pool,
                                 progress=False)
        assert set(pool.map(_worker_threads, range(2))) == {("1", "1", False)}  # baselines need no torch
    serial = run_experiment(RandomSearch(), nasbench, budget=BUDGET, runs=3, seed=5, progress=False)
    pd.testing.assert_frame_equal(serial.table(), spawned.table())
    with pytest.raises(ValueError, match="threads_per_worker must be a positive integer"):
        process_pool(2, threads_per_worker=0)


def test_runs_record_their_seconds_and_keep_them_on_disk(nasbench, tmp_path):
    experiment = run_experiment(RandomSearch(), nasbench, budget=BUDGET, runs=3, directory=tmp_path,
                                progress=False)
    seconds = experiment.seconds()
    assert seconds.index.tolist() == [0, 1, 2] and (seconds >= 0).all() and seconds.notna().all()
    pd.testing.assert_series_equal(load_experiment(tmp_path).seconds(), seconds)
    assert "seconds" not in experiment.table().columns  # volatile: kept out of the results


def test_experiment_directory_is_named_after_the_experiment(nasbench, tmp_path):
    evolution = RegularizedEvolution(population_size=10, tournament_size=3)
    a = experiment_directory(tmp_path, evolution, nasbench, budget=BUDGET, seed=1)
    assert a == experiment_directory(tmp_path, evolution, nasbench, budget=BUDGET, seed=1)
    assert a.parent == tmp_path and a.name.startswith("regularized_evolution-")
    others = {experiment_directory(tmp_path, evolution, nasbench, budget=BUDGET + 1, seed=1),
              experiment_directory(tmp_path, evolution, nasbench, budget=BUDGET, seed=2),
              experiment_directory(tmp_path, RegularizedEvolution(population_size=10, tournament_size=3,
                                                                  distinct_child=False),
                                   nasbench, budget=BUDGET, seed=1),
              experiment_directory(tmp_path, evolution, synthetic_benchmark(seed=1), budget=BUDGET, seed=1)}
    assert a not in others and len(others) == 4
    assert experiment_directory(tmp_path, evolution, nasbench, budget=BUDGET, label="re").name.startswith("re-")
    run_experiment(evolution, nasbench, budget=BUDGET, runs=2, seed=1, directory=a, progress=False)
    assert load_experiment(a).manifest["strategy"]["distinct_child"] is True


@pytest.mark.parametrize("processes", [False, True])
def test_a_dask_executor_gives_the_serial_result(nasbench, processes):
    distributed = pytest.importorskip("distributed")
    serial = run_experiment(RandomSearch(), nasbench, budget=BUDGET, runs=4, seed=6, progress=False)
    # In-process workers talk over dask's inproc transport; a host (as worker processes need) breaks its addresses.
    network = {"host": "127.0.0.1"} if processes else {}
    with distributed.LocalCluster(processes=processes, n_workers=2, threads_per_worker=1, dashboard_address=None,
                                  **network) as cluster, distributed.Client(cluster) as client:
        parallel = run_experiment(RandomSearch(), nasbench, budget=BUDGET, runs=4, seed=6,
                                  executor=client.get_executor(), progress=False)
    pd.testing.assert_frame_equal(serial.table(), parallel.table())


def test_summary_per_budget_is_mean_and_std_over_runs(nasbench):
    experiment = run_experiment(RandomSearch(), nasbench, budget=BUDGET, runs=4, seed=0, progress=False)
    summary = experiment.summary()
    values = np.stack([r.trace.best_validation for r in experiment.runs])
    assert list(summary.index) == list(range(1, BUDGET + 1))
    np.testing.assert_allclose(summary["best_validation_mean"], values.mean(axis=0))
    np.testing.assert_allclose(summary["best_validation_std"], values.std(axis=0, ddof=1))
    assert list(summary.columns) == [f"{m}_{s}" for m in ("best_validation", "test_of_best", "cumulative_time")
                                     for s in ("mean", "std")]
    with pytest.raises(ValueError, match="by must be"):
        experiment.summary(by="epochs")


def handmade(best_validation, cumulative_time=None, test_of_best=None) -> Experiment:
    """An experiment of one run with the given best-so-far curve."""
    v = np.asarray(best_validation, float)
    n = len(v)
    trace = Trace(budgets=np.arange(1, n + 1), trained=np.arange(n), best=np.arange(n), best_validation=v,
                  test_of_best=np.full(n, np.nan) if test_of_best is None else np.asarray(test_of_best, float),
                  cumulative_time=np.arange(1.0, n + 1) if cumulative_time is None else np.asarray(cumulative_time))
    return Experiment({"strategy": {"strategy": "handmade"}}, [Run(0, 0, 0, trace, {})])


def test_sample_efficiency_by_budget_and_time():
    baseline = handmade(np.linspace(0.90, 0.95, 20))  # reaches its final 0.95 at budget 20
    method = handmade([0.90, 0.94, 0.95, 0.96, 0.96], cumulative_time=[1, 2, 4, 8, 16])
    e = sample_efficiency(method, baseline)
    assert (e.target, e.baseline_at, e.method_at, e.ratio) == (pytest.approx(0.95), 20, 3, pytest.approx(20 / 3))
    assert sample_efficiency(method, baseline, target=0.94).method_at == 2
    # on the time axis the baseline reaches 0.95 after 20 s, the method after 4 s (grid steps 1.25 s and 1 s)
    t = sample_efficiency(method, baseline, by="time", num_points=17)
    assert (t.baseline_at, t.method_at, t.ratio) == (pytest.approx(20.0), pytest.approx(4.0), pytest.approx(5.0))
    never = sample_efficiency(handmade([0.90, 0.91]), baseline)
    assert math.isnan(never.method_at) and math.isnan(never.ratio)
    with pytest.raises(ValueError, match="no test_of_best values"):
        sample_efficiency(method, baseline, metric="test_of_best")


def test_efficiency_interval_resamples_runs():
    def of(curves):
        runs = [handmade(c).runs[0] for c in curves]
        return Experiment({"strategy": {"strategy": "handmade"}}, [Run(i, 0, 0, r.trace, {}) for i, r in enumerate(runs)])

    # two identical baseline runs reach 0.95 at budget 20; the method's runs reach it at 2 and 4
    baseline = of([np.linspace(0.90, 0.95, 20)] * 2)
    method = of([[0.9, 0.95, 0.95, 0.95], [0.9, 0.91, 0.92, 0.95]])
    e = efficiency_interval(method, baseline, bootstrap=400, seed=0)
    assert e.point.ratio == pytest.approx(20 / 4)  # the mean curve reaches 0.95 at budget 4
    # resamples: both runs the fast one (20/2 = 10), both the slow one (5), one of each (5)
    assert (e.low, e.high) == (pytest.approx(5.0), pytest.approx(10.0)) and e.unreached == 0
    assert efficiency_interval(method, baseline, bootstrap=400, seed=0) == e  # seeded
    never = efficiency_interval(of([[0.9, 0.91]]), baseline, bootstrap=10, seed=0)
    assert never.unreached == 1 and math.isnan(never.low)
    with pytest.raises(ValueError, match="bootstrap"):
        efficiency_interval(method, baseline, bootstrap=0)


def test_summary_on_the_time_axis():
    experiment = handmade([0.90, 0.92, 0.93], cumulative_time=[10.0, 20.0, 40.0])
    summary = experiment.summary(by="time", num_points=5)  # times 0, 10, 20, 30, 40
    assert summary.index.tolist() == [0.0, 10.0, 20.0, 30.0, 40.0]
    assert np.isnan(summary["best_validation_mean"].iloc[0])  # nothing trained yet at t = 0
    assert summary["best_validation_mean"].iloc[1:].tolist() == [0.90, 0.92, 0.92, 0.93]


# --- an experiment's identity, its directory's lock, damaged run files (issue 14, item 1) ---------------------------

def test_a_strategy_whose_identity_cannot_be_described_is_refused(nasbench, tmp_path):
    from np_lib.predictor import NeuralPredictor
    from np_lib.search import IdentityError, NeuralPredictorSearch

    def factory(epochs):  # a closure: its behaviour is in `epochs`, which a name does not capture
        return lambda seed: NeuralPredictor(epochs=epochs, seed=seed)

    for predictor in (factory(3), factory(4), lambda seed: NeuralPredictor(seed=seed)):
        strategy = NeuralPredictorSearch(predictor=predictor, N=10)
        with pytest.raises(IdentityError, match=r"NeuralPredictorSearch.predictor = .*lambda.* cannot be described"):
            experiment_directory(tmp_path, strategy, nasbench, budget=20)
        with pytest.raises(IdentityError, match="stale runs"):
            run_experiment(strategy, nasbench, budget=20, runs=1, directory=tmp_path / "x", progress=False)
    assert not (tmp_path / "x" / "manifest.json").exists()
    # Described: estimators by class and every get_params() value, classes and partials of them.
    names = {experiment_directory(tmp_path, NeuralPredictorSearch(predictor=p, N=10), nasbench, budget=20).name
             for p in (NeuralPredictor(epochs=3), NeuralPredictor(epochs=4), NeuralPredictor(epochs=3, dropout=0.2),
                       NeuralPredictor, functools.partial(NeuralPredictor, epochs=3),
                       functools.partial(NeuralPredictor, epochs=4))}
    assert len(names) == 6
    described = NeuralPredictorSearch(predictor=NeuralPredictor(epochs=3), N=10).describe()
    assert described["class"] == "np_lib.search.NeuralPredictorSearch"
    assert described["predictor"]["class"] == "np_lib.predictor.NeuralPredictor"
    assert described["predictor"]["epochs"] == 3 and described["predictor"]["fc_sizes"] == [128]


@dataclasses.dataclass(frozen=True)
class _PickyRandomSearch(RandomSearch):
    """Random search with a parameter a manifest cannot describe (a plain function)."""
    hook: object = None


def test_an_undescribable_strategy_still_runs_in_memory(nasbench):
    experiment = run_experiment(_PickyRandomSearch(hook=lambda: None), nasbench, budget=5, runs=2, progress=False)
    assert "cannot be described" in experiment.manifest["strategy"]["undescribed"]
    pd.testing.assert_frame_equal(experiment.table(),
                                  run_experiment(RandomSearch(), nasbench, budget=5, runs=2, progress=False).table())


def test_the_data_fingerprint_covers_every_value_a_run_can_read(nasbench, tmp_path):
    evolution = RegularizedEvolution(population_size=10, tournament_size=3)
    before = experiment_directory(tmp_path, evolution, nasbench, budget=BUDGET)
    changed = synthetic_benchmark()
    changed.table.loc[7, "test_accuracy_108_r2"] += 1e-9  # a third run's test accuracy: simulate(0) may not read it
    assert experiment_directory(tmp_path, evolution, changed, budget=BUDGET) != before
    assert experiment_directory(tmp_path, evolution, synthetic_benchmark(), budget=BUDGET) == before


_SEEN_AT_SEARCH: list = []


@dataclasses.dataclass(frozen=True)
class _PeekingRandomSearch(RandomSearch):
    """Random search that records its experiment directory's files when a search starts."""
    directory: str = ""

    def search(self, *args, **kwargs):
        _SEEN_AT_SEARCH.append(sorted(p.name for p in Path(self.directory).iterdir() if not p.name.startswith(".")))
        return super().search(*args, **kwargs)


def test_the_manifest_is_written_before_the_first_run(nasbench, tmp_path):
    _SEEN_AT_SEARCH.clear()
    strategy = _PeekingRandomSearch(directory=str(tmp_path))
    run_experiment(strategy, nasbench, budget=5, runs=2, directory=tmp_path, progress=False)
    assert _SEEN_AT_SEARCH == [["manifest.json"], ["manifest.json", "run_00000.npz"]]
    assert load_experiment(tmp_path).manifest["strategy"]["directory"] == str(tmp_path)
    with pytest.raises(ValueError, match="holds a different experiment"):
        run_experiment(strategy, nasbench, budget=6, runs=1, directory=tmp_path, progress=False)


def test_runs_without_a_manifest_are_never_adopted(nasbench, tmp_path):
    run_experiment(RandomSearch(), nasbench, budget=5, runs=2, directory=tmp_path, progress=False)
    (tmp_path / "manifest.json").unlink()
    with pytest.raises(ValueError, match=r"2 run file\(s\) but no manifest.json: .* not adopted"):
        run_experiment(RandomSearch(), nasbench, budget=5, runs=2, directory=tmp_path, progress=False)


def test_damaged_or_foreign_run_files_are_named_and_recomputed(nasbench, tmp_path):
    args = dict(budget=BUDGET, runs=4, seed=3, progress=False)
    reference = run_experiment(RandomSearch(), nasbench, directory=tmp_path / "a", **args)
    run_experiment(RandomSearch(), nasbench, directory=tmp_path / "other", **{**args, "seed": 4})
    (tmp_path / "a" / "run_00000.npz").write_bytes(b"")                      # empty
    data = (tmp_path / "a" / "run_00001.npz").read_bytes()
    (tmp_path / "a" / "run_00001.npz").write_bytes(data[:len(data) // 2])   # truncated
    (tmp_path / "a" / "run_00003.npz").write_bytes((tmp_path / "other" / "run_00003.npz").read_bytes())  # seed 4's
    with pytest.warns(RuntimeWarning) as caught:
        loaded = load_experiment(tmp_path / "a")
    assert [r.rep for r in loaded.runs] == [2]
    messages = " ".join(str(w.message) for w in caught)
    for name in ("run_00000.npz", "run_00001.npz", "run_00003.npz"):
        assert name in messages
    recomputed = []
    with pytest.warns(RuntimeWarning) as caught:
        resumed = run_experiment(RandomSearch(), nasbench, directory=tmp_path / "a",
                                 on_run=lambda run: recomputed.append(run.rep), **args)
    assert [str(w.message).split(": ", 1)[1] for w in caught if w.category is RuntimeWarning] == [
        "unreadable run file (EOFError: No data left in file); recomputing it",
        "unreadable run file (BadZipFile: File is not a zip file); recomputing it",
        f"holds repetition 3 with seeds {', '.join(map(str, run_seeds(4, 3)))}, not this experiment's; recomputing it"]
    assert recomputed == [0, 1, 3]
    pd.testing.assert_frame_equal(resumed.table(), reference.table())
    pd.testing.assert_frame_equal(load_experiment(tmp_path / "a").table(), reference.table())


_RACER = """
import pathlib, sys, time
sys.path.insert(0, sys.argv[1])
from test_experiment import synthetic_benchmark
from np_lib.experiment import run_experiment
from np_lib.search import RandomSearch

class SlowRandomSearch(RandomSearch):
    def search(self, *args, **kwargs):
        time.sleep(0.5)  # long enough for both processes to be inside run_experiment at once
        return super().search(*args, **kwargs)

bench = synthetic_benchmark()
print("ready", flush=True)
go = pathlib.Path(sys.argv[3])
while not go.exists():
    time.sleep(0.005)
run_experiment(SlowRandomSearch(), bench, budget=int(sys.argv[2]), runs=3, directory=sys.argv[4], progress=False)
"""


def test_two_experiments_started_at_once_in_one_directory_one_wins(tmp_path):
    script, go, directory = tmp_path / "racer.py", tmp_path / "go", tmp_path / "exp"
    script.write_text(_RACER)
    racers = {budget: subprocess.Popen([sys.executable, str(script), str(Path(__file__).parent), str(budget),
                                        str(go), str(directory)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True) for budget in (10, 11)}
    try:
        for proc in racers.values():
            assert proc.stdout.readline().strip() == "ready"
        go.touch()
        outcome = {budget: (proc.wait(timeout=120), proc.stderr.read()) for budget, proc in racers.items()}
    finally:
        for proc in racers.values():
            proc.kill()
    winners = [budget for budget, (rc, _) in outcome.items() if rc == 0]
    assert len(winners) == 1, outcome
    (loser_rc, loser_err), = [o for budget, o in outcome.items() if budget != winners[0]]
    assert "is in use: another process is running an experiment there" in loser_err \
        or "holds a different experiment" in loser_err, loser_err
    experiment = load_experiment(directory)
    assert experiment.manifest["budget"] == winners[0]
    assert [len(run.trace) for run in experiment.runs] == [winners[0]] * 3


def test_run_experiments_runs_each_strategy_on_one_seed(nasbench):
    from np_lib.experiment import run_experiments

    class Refuse(ThreadPoolExecutor):
        def submit(self, *args, **kwargs):
            raise AssertionError("a serial label reached the executor")

    strategies = {"random": (RandomSearch(), 3), "oracle": (Oracle(), 2)}
    with Refuse(1) as executor:
        got = run_experiments(strategies, nasbench, budget=BUDGET, seed=4, executor=executor,
                              serial={"random", "oracle"}, progress=False)
    assert list(got) == ["random", "oracle"] and [len(e.runs) for e in got.values()] == [3, 2]
    alone = run_experiment(RandomSearch(), nasbench, budget=BUDGET, runs=3, seed=4, progress=False)
    pd.testing.assert_frame_equal(got["random"].table(), alone.table())
    # one seed: run r of both experiments saw the same simulated training, so they pair
    assert [r.simulate_seed for r in got["oracle"].runs] == [r.simulate_seed for r in got["random"].runs][:2]


def _curves_experiment(curves, strategy: dict) -> Experiment:
    runs = []
    for r, values in enumerate(curves):
        v = np.maximum.accumulate(np.asarray(values, float))
        n = len(v)
        runs.append(Run(r, r, r, Trace(np.arange(1, n + 1), np.arange(n), np.arange(n), v, np.full(n, np.nan),
                                       np.arange(1.0, n + 1)), {}))
    return Experiment({"strategy": strategy}, runs)


def test_points_and_tables_at_a_budget_skip_a_predictors_random_training_set():
    from np_lib.experiment import budget_table, curve_points, mean_std_at

    runs = [[0.90, 0.91, 0.92, 0.93], [0.90, 0.93, 0.93, 0.95]]
    predictor = _curves_experiment(runs, {"strategy": "neural_predictor", "N": 2})
    rs = _curves_experiment(runs, {"strategy": "random_search"})
    mean, std = mean_std_at(rs, 4, scale=100)
    assert (mean, std) == pytest.approx((94.0, np.std([93.0, 95.0], ddof=1)))
    assert list(curve_points(predictor, [1, 2, 3, 4])) == [3, 4]         # 1 and 2 are its random training set
    assert curve_points(rs, [4], scale=100, digits=2) == {4: {"mean": 94.0, "std": round(std, 2)}}
    table = budget_table({"random search": rs, "Neural Predictor": predictor}, [2, 4], names={"best_validation": "val"})
    assert table.loc[("val", "Neural Predictor")].tolist() == ["—", "94.00 ± 1.41"]
    assert table.loc[("val", "random search"), 2] == "92.00 ± 1.41"


def test_evolution_counters_measure_the_redraw_policy(nasbench):
    from np_lib.experiment import distinct_cells, evolution_counters

    budget = 30
    for distinct_child in (True, False):
        evolution = RegularizedEvolution(population_size=10, tournament_size=3, distinct_child=distinct_child)
        e = run_experiment(evolution, nasbench, budget=budget, runs=3, seed=0, progress=False)
        counters = evolution_counters(e, budget)
        stats = e.stats()
        assert counters["children that are their parent (%)"] == pytest.approx(
            100 * stats["parent_repeats"].mean() / (budget - 10))
        assert (counters["children that are their parent (%)"] == 0) == distinct_child
        unique = np.mean([len(set(run.trace.trained)) for run in e.runs])
        assert counters["distinct cells among the models (%)"] == pytest.approx(100 * unique / budget)
        assert distinct_cells(e)[-1] == pytest.approx(unique)
        assert counters[f"best validation after {budget} (%)"] == pytest.approx(
            100 * np.mean([run.trace.best_validation[-1] for run in e.runs]))
    rs = run_experiment(RandomSearch(), nasbench, budget=budget, runs=2, seed=0, progress=False)
    counters = evolution_counters(rs, budget)
    assert counters["distinct cells among the models (%)"] == 100.0   # without replacement
    assert math.isnan(counters["mutations drawn per child"])          # no population, no mutations
    assert distinct_cells(rs).tolist() == list(range(1, budget + 1))  # the diagonal


def test_mutant_shares_on_a_sparse_pool(nasbench):
    from np_lib.search import mutant_shares

    shares = mutant_shares(nasbench, draws=2000, seed=0)
    assert sum(shares.values()) == pytest.approx(1.0)
    # NAS-Bench-101's operator often returns the parent unchanged (a fifth of the sample's mutants)
    assert shares["the parent itself"] > 0.1
    assert mutant_shares(nasbench, draws=2000, seed=0) == shares   # seeded
    alone = mutant_shares(synthetic_benchmark(n=1), draws=500, seed=0)
    assert alone["another pool cell"] == 0                          # a pool of one cell has no other
    assert alone["the parent itself"] + alone["outside the pool"] == pytest.approx(1.0)
