"""How fast the section-4.2 pipeline runs on this machine; prints one JSON object.

Figures (medians over ``--repeats`` runs, seconds; each with process ``cpu`` seconds):

* ``in_band_proxylessnas``: 112,000 ProxylessNAS models with Pixel-1 latency in
  75-85 ms (rejection sampling, about 14 M draws). Target: under 30 s.
* ``in_band_ofa``: 112,119 OFA MobileNetV3 models in the notebook's 25-28 ms band,
  and ``evaluate_ofa``: the accuracy surrogate on all of them.
* ``predict_112000``: a fitted NeuralPredictor with the paper's ProxylessNAS
  setting (18 graph layers, D = 96, FC 512 and 128) on 112,000 ProxylessNAS
  models through the chain fast path (encoding included), with 1 thread (its
  default) and with as many as torch's setting (``num_threads=None``: chunks in
  parallel threads, one torch thread each). Target: under 20 s. ``generic_per_1000`` and
  ``fast_per_1000``: the generic path (``model.predict(space.encode(...))``,
  torch's thread setting) and the fast path (one thread) per 1,000 models, on ``--generic`` models, and
  ``speedup_cpu`` their ratio in CPU time (less sensitive to other load than wall time).
* ``fit_step_ms``: one optimiser step of that predictor at batch size 10 (N = 119).
* ``load_average``: the machine's 1-minute load before and after. The machine
  is shared: other processes change every figure, so read them together.

The floor: 18 layers x 22 nodes x (96 x 192) multiply-adds per model is 1.6
TFLOP for 112,000 models, about 11 s at 150 GFLOP/s (two AVX2 cores).

Usage::

    NP_LIB_DATA_DIR=... PYTHONPATH=. python benchmarks/chain_speed.py [--repeats 1] [--generic 4096] [--no-readme]

The figures also replace this script's section of benchmarks/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

import numpy as np
import torch

from np_lib.predictor import NeuralPredictor
from readme import write_section  # benchmarks/readme.py, beside this script
from np_lib.spaces.ofa import OFAMobileNetV3
from np_lib.spaces.proxylessnas import PAPER_BAND, ProxylessNAS

POOL = 112_000
N = 119
OFA_BAND = (25.0, 28.0)
PAPER_PREDICTOR = dict(num_layers=18, D=96, fc_sizes=(512, 128), init="looks_linear")  # section 4.2; the init np_lib needs for 18 layers


def timed(fn, repeats: int) -> tuple[dict, object]:
    """Median wall and process-CPU seconds of ``fn()``, and its last result."""
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return {"wall": round(statistics.median(walls), 2), "cpu": round(statistics.median(cpus), 2)}, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--generic", type=int, default=4096, help="models for the generic-path timing")
    parser.add_argument("--no-readme", action="store_true", help="print only; leave benchmarks/README.md alone")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    out = {"torch": torch.__version__, "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads()}

    proxyless = ProxylessNAS()
    out["in_band_proxylessnas"], pool = timed(
        lambda: proxyless.sample_in_band(POOL, PAPER_BAND, seed=0, progress=False), args.repeats)
    ofa = OFAMobileNetV3(224)
    out["in_band_ofa"], ofa_pool = timed(
        lambda: ofa.sample_in_band(POOL + N, OFA_BAND, seed=0, progress=False), args.repeats)
    out["evaluate_ofa"], _ = timed(lambda: ofa.evaluate(ofa_pool, seed=0), args.repeats)

    train, labels = proxyless.encode(pool[:N]), np.linspace(0.72, 0.78, N)
    NeuralPredictor(epochs=1, **PAPER_PREDICTOR).fit(train, labels)  # the first fit imports torch._dynamo
    model = NeuralPredictor(epochs=5, seed=0, **PAPER_PREDICTOR)
    steps = model.epochs * -(-N // model.batch_size)
    fit, _ = timed(lambda: model.fit(train, labels), 1)
    out["fit_step_ms"] = {k: round(v / steps * 1e3, 1) for k, v in fit.items()}

    predict = {}
    for key, n_threads in (("threads_1", 1), (f"threads_torch_{torch.get_num_threads()}", None)):
        predict[key], _ = timed(
            lambda: proxyless.predict(model, pool, num_threads=n_threads, progress=False), args.repeats)
    subset = pool[:args.generic]
    generic, _ = timed(lambda: model.predict(proxyless.encode(subset)), args.repeats)
    fast, _ = timed(lambda: proxyless.predict(model, subset, progress=False), args.repeats)
    predict["generic_per_1000"] = {k: round(v / len(subset) * 1000, 3) for k, v in generic.items()}
    predict["fast_per_1000"] = {k: round(v / len(subset) * 1000, 3) for k, v in fast.items()}
    predict["speedup_cpu"] = round(generic["cpu"] / fast["cpu"], 2)
    out["predict_112000"] = predict
    out["load_average"] = {"before": load_before, "after": os.getloadavg()[0]}
    out["repeats"] = args.repeats
    print(json.dumps(out, indent=2))
    if not args.no_readme:
        write_section("chain_speed", "Chain predictions and in-band sampling (section 4.2)", out)


if __name__ == "__main__":
    main()
