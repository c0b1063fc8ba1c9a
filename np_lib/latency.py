"""Per-layer latency tables, measured on your own hardware with PyTorch.

Section 4.2 constrains the search by inference time ("between 75ms and 85ms on
a Pixel-1 phone"), which ProxylessNAS and Once-for-All estimate with lookup
tables: one measured latency per distinct layer, a model's latency being the
sum of its layers. This module builds such a table for any chain network by
timing its layers on the local device, so a search can target *your* hardware:

1. describe the network as a :class:`ChainNetwork`: a stem, per searchable
   position the module of each op choice (None for a no-op), a head, and the
   input shape (:func:`macro_network` does NAS-Bench-Macro's);
2. :func:`measure` times every distinct (position, choice) on its own input
   tensor: warm-up calls, then the median of ``repeats`` timed calls, batch 1,
   ``torch.set_num_threads(1)`` by default (one thread gives the most stable
   numbers on a shared CPU);
3. :func:`load_or_measure` keeps the table as JSON in the cache directory.

Timings change from run to run (other processes, frequency scaling), so a
measured table is not reproducible bit for bit. :func:`reference_table` is one
table measured during development (2-core AMD EPYC VM, torch 2.13, one thread,
``rounds=50, repeats=20``) and stored here, for results that must not change between runs
(the notebooks under nbval); measure your own for a real search. Each entry also
records its multiply-accumulates (MACs), a deterministic proxy.
"""
from __future__ import annotations

import json
import platform
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .storage import atomic_path, cache_dir

_FORMAT = 1


@dataclass
class ChainNetwork:
    """A network of fixed parts and searchable positions, as far as latency is concerned.

    ``stem`` and ``head`` run in every model; ``positions[p][c]`` is the module of
    choice ``c`` at position ``p`` (None: a no-op that costs nothing);
    ``input_shapes[p]`` is the ``(C, H, W)`` that position receives.
    """
    name: str
    input_shape: tuple[int, int, int]
    stem: nn.Module
    positions: list[list[nn.Module | None]]
    input_shapes: list[tuple[int, int, int]]
    head: nn.Module
    head_input_shape: tuple[int, int, int]
    op_names: tuple[str, ...]


@dataclass(frozen=True)
class LatencyTable:
    """Measured latency (ms) and MACs of a :class:`ChainNetwork`'s parts.

    ``fixed``: ``{"stem": ms, "head": ms}``; ``layers[p][c]``: ms of choice ``c``
    at position ``p``; ``macs`` / ``fixed_macs`` the same in multiply-accumulates.
    ``meta``: how it was measured (device, threads, repeats, torch version).
    """
    network: str
    op_names: tuple[str, ...]
    fixed: dict[str, float]
    layers: np.ndarray
    fixed_macs: dict[str, int]
    macs: np.ndarray
    meta: dict = field(default_factory=dict)

    @property
    def fixed_cost(self) -> float:
        return float(sum(self.fixed.values()))

    def latency(self, archs) -> np.ndarray:
        """Sum of the table over each ``(n, positions)`` architecture, plus the fixed parts."""
        archs = np.asarray(archs)
        return self.fixed_cost + self.layers[np.arange(self.layers.shape[0]), archs].sum(axis=1)

    def total_macs(self, archs) -> np.ndarray:
        archs = np.asarray(archs)
        return sum(self.fixed_macs.values()) + self.macs[np.arange(self.macs.shape[0]), archs].sum(axis=1)

    def to_dict(self) -> dict:
        return {"format": _FORMAT, "network": self.network, "op_names": list(self.op_names),
                "fixed": self.fixed, "layers": self.layers.tolist(), "fixed_macs": self.fixed_macs,
                "macs": self.macs.tolist(), "meta": self.meta}

    @classmethod
    def from_dict(cls, d: dict) -> "LatencyTable":
        if d.get("format") != _FORMAT:
            raise ValueError(f"not a latency table of format {_FORMAT} (got format {d.get('format')!r})")
        return cls(d["network"], tuple(d["op_names"]), {k: float(v) for k, v in d["fixed"].items()},
                   np.array(d["layers"], float), {k: int(v) for k, v in d["fixed_macs"].items()},
                   np.array(d["macs"], np.int64), dict(d.get("meta", {})))

    def save(self, path: str | Path) -> Path:
        """Write the table as JSON, atomically."""
        path = Path(path)
        with atomic_path(path) as tmp:
            tmp.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    @classmethod
    def load(cls, path: str | Path) -> "LatencyTable":
        return cls.from_dict(json.loads(Path(path).read_text()))


# -- NAS-Bench-Macro's network (github.com/xiusu/NAS-Bench-Macro, train/model.py) ---------------------

class MBConv(nn.Module):
    """MobileNetV2 inverted residual: 1x1 expand, kxk depthwise, 1x1 project; BN, ReLU; residual if shapes match."""

    def __init__(self, c_in: int, c_out: int, stride: int, expansion: int, kernel: int):
        super().__init__()
        hidden = c_in * expansion
        self.conv = nn.Sequential(
            nn.Conv2d(c_in, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, hidden, kernel, stride, kernel // 2, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, c_out, 1, bias=False), nn.BatchNorm2d(c_out))
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x):
        return x + self.conv(x) if self.residual else self.conv(x)


MACRO_OPS = ("identity", "MB3 3x3", "MB6 5x5")
MACRO_STAGES = (2, 3, 3)
MACRO_STEM_WIDTH = 32
MACRO_HEAD_WIDTH = 1280


def macro_network(input_size: int = 32, num_classes: int = 10) -> ChainNetwork:
    """NAS-Bench-Macro's CIFAR network: 3x3 stem to 32 channels (stride 1); stages of 2, 3, 3
    layers whose first layer has stride 2 and doubles the width (there an identity is a 1x1
    conv + BN); head: 1x1 conv to 1280, BN, ReLU, global pooling, linear classifier."""
    c, size = MACRO_STEM_WIDTH, input_size
    stem = nn.Sequential(nn.Conv2d(3, c, 3, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(inplace=True))
    positions, shapes = [], []
    for depth in MACRO_STAGES:
        for i in range(depth):
            stride, c_out = (2, 2 * c) if i == 0 else (1, c)
            identity = (nn.Sequential(nn.Conv2d(c, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
                        if stride != 1 else None)
            positions.append([identity, MBConv(c, c_out, stride, 3, 3), MBConv(c, c_out, stride, 6, 5)])
            shapes.append((c, size, size))
            c, size = c_out, size // stride
    head = nn.Sequential(nn.Conv2d(c, MACRO_HEAD_WIDTH, 1, bias=False), nn.BatchNorm2d(MACRO_HEAD_WIDTH),
                         nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(MACRO_HEAD_WIDTH, num_classes))
    return ChainNetwork("nas_bench_macro", (3, input_size, input_size), stem, positions, shapes, head,
                        (c, size, size), MACRO_OPS)


# -- measuring ----------------------------------------------------------------------------------------

def count_macs(module: nn.Module, input_shape) -> int:
    """Multiply-accumulates of the convolutions and linear layers of one forward pass (batch 1).

    Batch norm, activations and pooling are not counted, as in the FLOPs that
    NAS-Bench-Macro reports (tests/test_latency.py checks all 6,561 against it).
    """
    total = 0

    def hook(layer, inputs, output):
        nonlocal total
        if isinstance(layer, nn.Conv2d):
            k = layer.kernel_size[0] * layer.kernel_size[1] * layer.in_channels // layer.groups
            total += output.numel() * k
        elif isinstance(layer, nn.Linear):
            total += output.numel() * layer.in_features

    handles = [m.register_forward_hook(hook) for m in module.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.inference_mode():
            module.eval()(torch.zeros(1, *input_shape))
    finally:
        for h in handles:
            h.remove()
    return total


def time_calls(module: nn.Module, x: torch.Tensor, repeats: int) -> list[float]:
    """Wall time in ms of each of ``repeats`` calls of ``module(x)``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        module(x)
        times.append((time.perf_counter_ns() - start) / 1e6)
    return times


def measure(network: ChainNetwork, *, rounds: int = 5, repeats: int = 10, warmup: int = 5,
            num_threads: int | None = 1, seed: int = 0, progress: bool = True) -> LatencyTable:
    """Time every part of ``network`` on this machine (module docstring); a second or two by default.

    Each part gets ``warmup`` untimed calls, then ``rounds`` round-robin passes
    over all parts time ``repeats`` calls each; its latency is the median of
    those ``rounds * repeats`` calls. Round-robin, not part after part, so a
    burst of load from another process slows every part a little rather than
    a few parts a lot. ``num_threads``: torch CPU threads while timing (None:
    leave torch's setting), restored afterwards; ``seed`` seeds the inputs.
    """
    if rounds < 1 or repeats < 1 or warmup < 0:
        raise ValueError(f"need rounds >= 1, repeats >= 1 and warmup >= 0, got {rounds}, {repeats}, {warmup}")
    parts = [("stem", network.stem, network.input_shape), ("head", network.head, network.head_input_shape)]
    parts += [((p, c), m, network.input_shapes[p]) for p, ops in enumerate(network.positions)
              for c, m in enumerate(ops) if m is not None]
    before = torch.get_num_threads()
    try:
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        with torch.random.fork_rng(devices=[]), torch.inference_mode():
            torch.manual_seed(seed)
            inputs = [torch.randn(1, *shape) for _, _, shape in parts]
            for (_, m, _), x in zip(parts, inputs):
                m.eval()
                time_calls(m, x, warmup)
            times = [[] for _ in parts]
            for _ in tqdm(range(rounds), desc=f"timing {network.name}", unit="round", disable=not progress):
                for (_, m, _), x, t in zip(parts, inputs, times):
                    t.extend(time_calls(m, x, repeats))
    finally:
        torch.set_num_threads(before)
    layers = np.zeros((len(network.positions), len(network.op_names)))
    macs = np.zeros(layers.shape, np.int64)
    fixed, fixed_macs = {}, {}
    for (key, m, shape), t in zip(parts, times):
        if isinstance(key, str):
            fixed[key], fixed_macs[key] = statistics.median(t), count_macs(m, shape)
        else:
            layers[key], macs[key] = statistics.median(t), count_macs(m, shape)
    meta = {"device": "cpu", "processor": platform.processor() or platform.machine(), "torch": torch.__version__,
            "num_threads": num_threads, "batch_size": 1, "input_shape": list(network.input_shape),
            "rounds": rounds, "repeats": repeats, "warmup": warmup}
    return LatencyTable(network.name, network.op_names, fixed, layers, fixed_macs, macs, meta)


def load_or_measure(network: ChainNetwork, *, refresh: bool = False, **options) -> LatencyTable:
    """The cached table of ``network`` (``cache_dir()/latency/<name>_<C>x<H>x<W>.json``), measured if absent."""
    c, h, w = network.input_shape
    path = cache_dir() / "latency" / f"{network.name}_{c}x{h}x{w}.json"
    if path.is_file() and not refresh:
        return LatencyTable.load(path)
    table = measure(network, **options)
    table.save(path)
    return table


def reference_table() -> LatencyTable:
    """NAS-Bench-Macro at 32x32, measured once during development (module docstring): fixed numbers."""
    return LatencyTable.from_dict(_MACRO_REFERENCE)


# measure(macro_network(), rounds=50, repeats=20, warmup=20, num_threads=1) on the development machine
# (2-core AMD EPYC VM shared with other jobs, torch 2.13 CPU), rounded to 0.1 us.
_MACRO_REFERENCE = {
    "format": 1, "network": "nas_bench_macro", "op_names": ["identity", "MB3 3x3", "MB6 5x5"],
    "fixed": {"stem": 0.1122, "head": 0.3868},
    "layers": [[0.1872, 0.5321, 0.7902], [0.0, 0.5762, 0.8662], [0.0767, 0.4698, 0.6687],
               [0.0, 0.5359, 0.8019], [0.0, 0.5367, 0.7681], [0.0686, 0.47, 0.6724],
               [0.0, 0.6084, 0.9426], [0.0, 0.6182, 0.9478]],
    "fixed_macs": {"stem": 884736, "head": 5255680},
    "macs": [[524288, 4939776, 10665984], [0, 6733824, 15040512], [524288, 4829184, 10051584],
             [0, 6512640, 13811712], [0, 6512640, 13811712], [524288, 4773888, 9744384],
             [0, 6402048, 13197312], [0, 6402048, 13197312]],
    "meta": {"device": "cpu", "processor": "x86_64 (AMD EPYC, 2 cores)", "torch": "2.13.0+cpu", "num_threads": 1,
             "batch_size": 1, "input_shape": [3, 32, 32], "rounds": 50, "repeats": 20, "warmup": 20},
}
