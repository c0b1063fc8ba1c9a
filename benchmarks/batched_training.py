"""Would training the R predictors of an experiment as ONE batched model be faster? Prints JSON.

The question of the issue: "train the R predictors of an experiment as one
batched model where that is faster (measure it)". A Neural Predictor fit at
N = 172 is 18 optimiser steps of 10 graphs per epoch; each step is a handful of
small matmuls (7-node graphs, D = 144), so per-step overhead (Python, op
dispatch, the optimiser) is a large share of it. Stacking R independent
networks along a leading dimension (weights ``(R, ...)``, one ``bmm`` per layer,
loss = the sum of the R losses, so every network gets exactly its own gradient
and its own Adam update) runs R steps in one. This script measures what that buys:

* ``independent``: R fits of :class:`np_lib.NeuralPredictor` one after the
  other, as an experiment does today (seconds per model).
* ``batched``: the same R networks (same initial weights, same shuffles and
  dropout masks, drawn exactly as ``np_lib.training.train`` draws them) trained
  as one stacked model; seconds per model, and the largest difference of its
  predictions from the independent fits (float reassociation only: it is the
  same computation).
* ``processes``: the independent fits spread over a ``ProcessPoolExecutor`` of
  ``--workers`` processes (one torch thread each), the alternative that needs no
  second implementation of the training loop.

All on one torch thread per process, on different random N-cell training sets
of the NAS-Bench-101 data ``np_lib.nasbench101.load()`` finds. The two-stage
predictor's regressor is trained on the cells above 91% only, a different
number per run, which the stacked model could only handle by padding or by
grouping runs of equal size; the single-size case measured here is the best
case for batching. Usage::

    NP_LIB_DATA_DIR=... PYTHONPATH=. python benchmarks/batched_training.py [--R 1 2 4 8] [--epochs 20]
"""
from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from np_lib.gcn import GCN, DropoutMasks, GraphInputs
from np_lib.predictor import ACCURACY_RANGE, NeuralPredictor, _logit
from np_lib.nasbench101.encoding import encode

N, BATCH, LR, WEIGHT_DECAY, DROPOUT = 172, 10, 1e-4, 1e-3, 0.1


class StackedGCN(nn.Module):
    """R copies of :class:`np_lib.gcn.GCN` (3 graph layers, one hidden FC layer) as stacked weights."""

    def __init__(self, nets: list[GCN]):
        super().__init__()
        R = len(nets)
        # BiGraphConv weight (2, in, out) per net -> (R * 2, in, out): both directions of all nets in one bmm.
        self.convs = nn.ParameterList(
            nn.Parameter(torch.stack([net.convs[i].weight.detach() for net in nets]).reshape(
                R * 2, *nets[0].convs[i].weight.shape[1:]).clone()) for i in range(len(nets[0].convs)))
        (fc,) = {len(net.fcs) for net in nets}
        assert fc == 1, "one hidden FC layer (NAS-Bench-101's predictor)"
        self.fc_w = nn.Parameter(torch.stack([net.fcs[0].weight.detach().T for net in nets]).clone())
        self.fc_b = nn.Parameter(torch.stack([net.fcs[0].bias.detach()[None] for net in nets]).clone())
        self.out_w = nn.Parameter(torch.stack([net.out.weight.detach().T for net in nets]).clone())
        self.out_b = nn.Parameter(torch.stack([net.out.bias.detach()[None] for net in nets]).clone())
        self.R = R

    def forward(self, features, propagation, pooling, graph_masks=None, fc_masks=None):
        R, B, V, _ = features.shape
        v = features
        for i, w in enumerate(self.convs):
            d = v.shape[-1]
            u = (propagation @ v).view(R, B, 2, V, d).transpose(1, 2).reshape(R * 2, B * V, d)
            v = torch.relu(torch.bmm(u, w)).view(R, 2, B * V, -1).mean(dim=1).view(R, B, V, -1)
            if graph_masks is not None:
                v = v * graph_masks[i]
        h = torch.relu(torch.baddbmm(self.fc_b, (pooling @ v).squeeze(2), self.fc_w))
        if fc_masks is not None:
            h = h * fc_masks
        return torch.baddbmm(self.out_b, h, self.out_w).squeeze(-1)


def regression_loss(z, t):
    low, high = ACCURACY_RANGE
    return F.mse_loss(100.0 * (low + (high - low) * torch.sigmoid(z)), t)


def initial_net(seed: int, num_features: int, y: np.ndarray) -> GCN:
    """The network ``NeuralPredictor(seed=seed).fit`` starts from (same seeding, same output bias)."""
    low, high = ACCURACY_RANGE
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = GCN(num_features)
    with torch.no_grad():
        net.out.bias.fill_(_logit((y.mean() - low) / (high - low)))
    return net


def train_stacked(inputs: list[GraphInputs], labels: list[np.ndarray], seeds: list[int], epochs: int) -> StackedGCN:
    """Train R networks as one; every random draw is the one ``np_lib.training.train`` makes for that net."""
    nets = [initial_net(s, x.features.shape[2], y) for s, x, y in zip(seeds, inputs, labels)]
    model = StackedGCN(nets)
    rngs = [np.random.default_rng(s) for s in seeds]
    targets = [torch.as_tensor(100.0 * y, dtype=torch.float32) for y in labels]
    opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=WEIGHT_DECAY, fused=True)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    n, V = len(inputs[0]), inputs[0].features.shape[1]
    for _ in range(epochs):
        per_net = []
        for net, x, t, rng in zip(nets, inputs, targets, rngs):
            order = torch.from_numpy(rng.permutation(n))
            per_net.append((x.index(order), t[order], DropoutMasks.draw(net, n, V, DROPOUT, rng)))
        features = torch.stack([xe.features for xe, _, _ in per_net])
        propagation = torch.stack([xe.propagation for xe, _, _ in per_net])
        pooling = torch.stack([xe.pooling for xe, _, _ in per_net])
        target = torch.stack([te for _, te, _ in per_net])
        graph_masks = torch.stack([m.graph for _, _, m in per_net], dim=1)  # (L, R, n, V, D)
        fc_masks = torch.stack([m.fc[0] for _, _, m in per_net])
        for start in range(0, n, BATCH):
            s = slice(start, start + BATCH)
            opt.zero_grad(set_to_none=True)
            z = model(features[:, s], propagation[:, s], pooling[:, s], graph_masks[:, :, s], fc_masks[:, s])
            # sum of the per-network mean losses: each network's gradient is its own loss's
            sum(regression_loss(z[r], target[r, s]) for r in range(model.R)).backward()
            opt.step()
        schedule.step()
    return model


def fit_one(args):
    cells, y, seed, epochs = args
    torch.set_num_threads(1)
    start = time.perf_counter()
    NeuralPredictor(epochs=epochs, seed=seed).fit(cells, y)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--R", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--epochs", type=int, default=20, help="per fit (paper setting: 300; cost is linear in it)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(1)

    from np_lib.nasbench101 import load

    bench = load(progress=False)
    y_all = bench.simulate(0).validation_accuracy
    R_max = max(args.R)
    rng = np.random.default_rng(0)
    subsets = [rng.choice(len(bench), N, replace=False) for _ in range(R_max)]
    seeds = list(range(R_max))
    probe = bench.cells[rng.choice(len(bench), 2000, replace=False)]
    probe_x = GraphInputs.from_graphs(encode(probe))
    out = {"cpu_count": os.cpu_count(), "load_average_before": os.getloadavg()[0], "epochs": args.epochs,
           "N": N, "by_R": {}}

    NeuralPredictor(epochs=1).fit(bench.cells[subsets[0]], y_all[subsets[0]])  # first-fit overhead, not timed
    for R in args.R:
        start = time.perf_counter()
        independent = [NeuralPredictor(epochs=args.epochs, seed=seeds[r]).fit(bench.cells[subsets[r]],
                                                                              y_all[subsets[r]])
                       for r in range(R)]
        t_independent = time.perf_counter() - start
        start = time.perf_counter()
        stacked = train_stacked([GraphInputs.from_graphs(encode(bench.cells[subsets[r]])) for r in range(R)],
                                [y_all[subsets[r]] for r in range(R)], seeds[:R], args.epochs)
        t_batched = time.perf_counter() - start
        with torch.inference_mode():
            px = [probe_x] * R
            z = stacked(torch.stack([p.features for p in px]), torch.stack([p.propagation for p in px]),
                        torch.stack([p.pooling for p in px]))
        low, high = ACCURACY_RANGE
        batched_pred = (low + (high - low) * torch.sigmoid(z)).double().numpy()
        diff = max(float(np.abs(batched_pred[r] - independent[r].predict(probe)).max()) for r in range(R))
        out["by_R"][str(R)] = {"independent_s_per_model": round(t_independent / R, 3),
                               "batched_s_per_model": round(t_batched / R, 3),
                               "speedup": round(t_independent / t_batched, 2),
                               "max_prediction_difference": diff}
        print(json.dumps({R: out["by_R"][str(R)]}), flush=True)

    R = R_max
    jobs = [(bench.cells[subsets[r]], y_all[subsets[r]], seeds[r], args.epochs) for r in range(R)]
    start = time.perf_counter()
    for job in jobs:
        fit_one(job)
    serial = time.perf_counter() - start
    with ProcessPoolExecutor(args.workers) as pool:
        list(pool.map(fit_one, jobs[:args.workers]))  # start the workers (import torch) untimed
        start = time.perf_counter()
        list(pool.map(fit_one, jobs))
        parallel = time.perf_counter() - start
    out["processes"] = {"R": R, "workers": args.workers, "serial_s_per_model": round(serial / R, 3),
                        "pool_s_per_model": round(parallel / R, 3), "speedup": round(serial / parallel, 2)}
    out["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
