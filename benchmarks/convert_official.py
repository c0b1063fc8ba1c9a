"""Time converting and loading a full-size NAS-Bench-101 only108 file.

Writes a synthetic ``nasbench_only108.tfrecord`` in the exact official format
(all 423,624 cells of the enumerated space x 3 runs = 1,270,872 records,
metrics from ``official.synthetic_metrics``) into a temporary folder, then
times ``official.convert`` and ``benchmark.load`` (the first load converts
into the cache, later ones read the cache; median of 3) and prints JSON.

    PYTHONPATH=. python benchmarks/convert_official.py [--workers N] [--keep DIR]

Targets (Neural Predictor reproduction plan): convert under 60 s and load
from the cache under 2 s on a 2-core machine.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=None, help="convert() processes (default: all cores)")
    parser.add_argument("--keep", type=Path, default=None, help="work in this folder and keep the files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        print(json.dumps(run(work, args.workers), indent=2))


def run(work: Path, workers: int | None) -> dict:
    from np_lib.nasbench101 import benchmark, official
    from np_lib.nasbench101.space import enumerate_cells

    figures = {"cpus": os.cpu_count()}
    start = time.perf_counter()
    cells = enumerate_cells()  # from the user's cache after the first run
    figures["enumerate_cells_s"] = round(time.perf_counter() - start, 2)
    os.environ["NP_LIB_CACHE_DIR"] = str(work / "cache")  # the Parquet cache of load() goes here

    source = work / "nasbench_only108.tfrecord"
    start = time.perf_counter()
    metrics = official.synthetic_metrics(len(cells), epochs=(108,), seed=0)
    figures["records"] = official.write_official_file(source, cells, metrics, progress=True)
    figures["write_s"] = round(time.perf_counter() - start, 1)
    figures["file_mb"] = round(source.stat().st_size / 1e6, 1)

    start = time.perf_counter()
    official.convert(source, work / "converted.parquet", workers=workers)
    figures["convert_s"] = round(time.perf_counter() - start, 2)
    figures["parquet_mb"] = round((work / "converted.parquet").stat().st_size / 1e6, 1)

    start = time.perf_counter()
    bench = benchmark.load(source)  # converts into the cache (all cores)
    figures["first_load_s"] = round(time.perf_counter() - start, 2)
    loads = []
    for _ in range(3):
        start = time.perf_counter()
        bench = benchmark.load(source)
        loads.append(time.perf_counter() - start)
    figures["load_from_cache_s_median_of_3"] = round(statistics.median(loads), 3)
    figures["load_from_cache_s_all"] = [round(t, 3) for t in loads]

    # The load must give back exactly what was written.
    assert bench.cells.hashes.tolist() == cells.hashes.tolist()
    assert (bench.runs("validation_accuracy", 108) == metrics.validation_accuracy[:, 0, :, 2]).all()
    figures["cells"] = len(bench)
    return figures


if __name__ == "__main__":
    main()
