"""Time NAS-Bench-201's data path: load(), the 27 latency tables, encoding and mutating the whole space.

Why ``np_lib.nasbench201.load`` caches nothing: reading the accuracy pickle
(sha256 checked first), the index file and validating both takes a fraction of
a second, so a derived cache would only add a staleness problem. Prints JSON:
medians of ``--repeats`` runs in seconds (the latency tables
read by a fresh benchmark each time, from disk, not from its memo), the load average, torch's version.

    NP_LIB_DATA_DIR=... PYTHONPATH=. python benchmarks/nasbench201_load.py [--repeats 3]
"""
from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def read_all_latency(nb) -> float:
    fresh = nb.load()
    start = time.perf_counter()
    for device in fresh.devices:
        fresh.latency(device)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch

    import np_lib.nasbench201 as nb

    bench = nb.load()  # first call: imports and the process-wide checksum memo are warm afterwards
    figures = {
        "load_s": median_seconds(nb.load, args.repeats),
        "all_27_latency_tables_s": float(np.median([read_all_latency(nb) for _ in range(args.repeats)])),
        "encode_15625_s": median_seconds(lambda: nb.encode(bench.cells), args.repeats),
        "mutate_and_index_15625_s": median_seconds(lambda: bench.index(nb.mutate(bench.cells, 0)), args.repeats),
        "parse_15625_strings_s": median_seconds(lambda: nb.parse_many(bench.strings), args.repeats),
        "load_average_1min": os.getloadavg()[0],
        "torch": torch.__version__,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
