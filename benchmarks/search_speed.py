"""Time a quick-scale Figure 4 experiment: every strategy, a few runs, a short budget.

Runs ``--runs`` repetitions of random search, the oracle, Regularized Evolution
(NAS-Bench-101's settings) and the Neural Predictor search (N = ``--N``, the
predictor trained for only ``--epochs`` epochs) with ``--budget`` trained models
each, on the NAS-Bench-101 data ``np_lib.nasbench101.load()`` finds, and prints
JSON: seconds per strategy and per run (wall clock of the whole experiment, and
the mean of the runs' own ``Run.seconds``), the final mean best validation
accuracy, for Regularized Evolution under both child policies
(``distinct_child`` True and False) its mutations per child, parent redraws,
fallbacks, children equal to their parent and share of repeated trainings, and
the Neural Predictor's x-fold efficiency over Regularized Evolution at that budget.

    NP_LIB_DATA_DIR=... PYTHONPATH=. python benchmarks/search_speed.py [--runs 10] [--budget 300] [--workers 2]
"""
from __future__ import annotations

import argparse
import json
import os
import time
import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--budget", type=int, default=300)
    parser.add_argument("--N", type=int, default=172)
    parser.add_argument("--epochs", type=int, default=20, help="predictor training epochs (paper setting: 300)")
    parser.add_argument("--predictor", choices=("two_stage", "single"), default="two_stage")
    parser.add_argument("--workers", type=int, default=0,
                        help="worker processes, np_lib.experiment.process_pool (0: serially in this process)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(run(args), indent=2))


def run(args) -> dict:
    import torch

    from np_lib.experiment import process_pool, run_experiment, sample_efficiency
    from np_lib.nasbench101 import load
    from np_lib.predictor import NeuralPredictor, TwoStagePredictor
    from np_lib.search import NeuralPredictorSearch, Oracle, RandomSearch, RegularizedEvolution

    torch.set_num_threads(1)  # as in process_pool's workers
    start = time.perf_counter()
    benchmark = load(progress=False)
    figures = {"cpus": os.cpu_count(), "data": repr(benchmark), "load_seconds": time.perf_counter() - start,
               "runs": args.runs, "budget": args.budget, "workers": args.workers, "strategies": {}}
    predictor = (TwoStagePredictor if args.predictor == "two_stage" else NeuralPredictor)(epochs=args.epochs)
    strategies = {"random_search": RandomSearch(), "oracle": Oracle(),
                  "regularized_evolution": RegularizedEvolution(),
                  "regularized_evolution_nasbench101_policy": RegularizedEvolution(distinct_child=False),
                  "neural_predictor": NeuralPredictorSearch(predictor, N=args.N)}
    executor = process_pool(args.workers) if args.workers else None
    experiments = {}
    try:
        for label, strategy in strategies.items():
            start = time.perf_counter()
            experiment = run_experiment(strategy, benchmark, budget=args.budget, runs=args.runs, seed=args.seed,
                                        executor=executor, progress=False)
            seconds = time.perf_counter() - start
            experiments[label] = experiment
            final = experiment.summary().iloc[-1]
            entry = {"seconds": seconds, "seconds_per_run": seconds / args.runs,
                     "mean_run_seconds": float(experiment.seconds().mean()),
                     "final_best_validation_mean": final["best_validation_mean"],
                     "final_best_validation_std": final["best_validation_std"]}
            if isinstance(strategy, RegularizedEvolution):
                stats = experiment.stats()
                children = args.budget - strategy.population_size
                repeats = [len(r.trace.trained) - len(np.unique(r.trace.trained)) for r in experiment.runs]
                entry.update(mutations_per_child=float(1 + stats["redraws"].mean() / children),
                             parent_redraws_per_child=float(stats["parent_redraws"].mean() / children),
                             share_of_children_equal_to_parent=float(stats["parent_repeats"].mean() / children),
                             fallbacks_total=int(stats["fallbacks"].sum()),
                             mean_share_of_repeated_trainings=float(np.mean(repeats) / args.budget))
            if isinstance(strategy, NeuralPredictorSearch):
                entry["predictor"] = repr(predictor)
                entry["best_validation_mean_at_N_plus_1"] = experiment.summary().loc[args.N + 1,
                                                                                   "best_validation_mean"]
            figures["strategies"][label] = entry
    finally:
        if executor:
            executor.shutdown()
    method, baseline = experiments["neural_predictor"], experiments["regularized_evolution"]
    figures["efficiency_np_over_re"] = {
        by: vars(sample_efficiency(method, baseline, by=by)) for by in ("budget", "time")}
    return figures


if __name__ == "__main__":
    main()
