"""The Once-for-All MobileNetV3 space: Note10 latency tables and OFA's accuracy predictor.

The stand-in for section 4.2's experiment, which needs ImageNet accuracies that
do not exist for the ProxylessNAS space. Once-for-All (Cai et al., ICLR 2020)
released, for its own MobileNetV3 space, per-layer latency tables of a Samsung
Note10 and an MLP fitted to the ImageNet top-1 of sub-networks of its supernet
(data/ofa_mbv3/README.md). Both are real artefacts, but the accuracy is a
SURROGATE: smooth, noiseless, and fitted to weight-shared sub-networks, not to
networks trained from scratch. Results on it show how the method behaves on a
realistic accuracy landscape, not what it would find on ImageNet.

Layout (OFA MobileNetV3, width 1.2): a fixed stem to 24 channels and a fixed
first block (3x3, expansion 1), then 5 stages of widths 32, 48, 96, 136, 192,
first-layer strides 2, 2, 2, 1, 2, each of depth d in {2, 3, 4}; each layer an
MBConv of kernel {3, 5, 7} x expansion {3, 4, 6}; a fixed head (1x1 conv to
1152, pooling, 1x1 conv to 1536, classifier). Resolution is fixed per space
(``resolution``, one of the tables' 160-224).

Architectures are ``(n, 20)`` int8 arrays: 5 stages x 4 layer slots, op code
``3 * expansion_index + kernel_index`` (0-8), or 9 (``skip``) for the slots
beyond a stage's depth, so a stage's skips are a suffix of at most two. As a
graph, every slot is a node (skips included), as in ProxylessNAS.

Simulated training: ``validation_accuracy`` = surrogate + ``noise_std`` x a
fixed normal per (model, seed); ``test_accuracy`` = the noiseless surrogate.
The default ``noise_std`` 0.14 % is NAS-Bench-Macro's median standard deviation
over its three training seeds (data/nas_bench_macro/README.md): a measured
seed-to-seed spread of MBConv chains, on CIFAR-10.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..datasets import locate
from ..validation import as_rng, check_count
from .base import Evaluation
from .blocks import Block, BlockChainSpace
from .chain import hashed_normal
from .proxylessnas import read_table

KERNELS = (3, 5, 7)
EXPANSIONS = (3, 4, 6)
DEPTHS = (2, 3, 4)
OP_NAMES = tuple(f"MB{e} {k}x{k}" for e in EXPANSIONS for k in KERNELS) + ("skip",)
SKIP = 9
MAX_DEPTH = 4

STEM_WIDTH = 24
STAGE_WIDTHS = (32, 48, 96, 136, 192)
STAGE_STRIDES = (2, 2, 2, 1, 2)
STAGE_SE = (0, 1, 0, 1, 1)          # squeeze-excite per stage (MobileNetV3)
STAGE_HSWISH = (0, 0, 1, 1, 1)      # h-swish per stage
HEAD_WIDTHS = (1152, 1536)
RESOLUTIONS = (160, 176, 192, 208, 224)

#: Median seed-to-seed standard deviation of NAS-Bench-Macro (3 seeds, CIFAR-10), as a fraction.
SEED_STD = 0.0014

FOLDER = Path("ofa_mbv3")


def _ceil_half(size: int) -> int:
    return (size + 1) // 2


def table_keys(resolution: int) -> tuple[list[str], list[list[list[str]]]]:
    """``(fixed, layers)``: the table keys every model pays, and ``layers[stage][slot][code]``."""
    size = _ceil_half(resolution)
    fixed = [f"Conv-input:{resolution}x{resolution}x3-output:{size}x{size}x{STEM_WIDTH}",
             f"expanded_conv-input:{size}x{size}x{STEM_WIDTH}-output:{size}x{size}x{STEM_WIDTH}-expand:"
             f"{STEM_WIDTH}-kernel:3-stride:1-idskip:1-se:0-hs:0"]
    width, stages = STEM_WIDTH, []
    for out, stride, se, hs in zip(STAGE_WIDTHS, STAGE_STRIDES, STAGE_SE, STAGE_HSWISH):
        slots = []
        for slot in range(MAX_DEPTH):
            s = stride if slot == 0 else 1
            size_out = _ceil_half(size) if s == 2 else size
            slots.append([f"expanded_conv-input:{size}x{size}x{width}-output:{size_out}x{size_out}x{out}-expand:"
                          f"{width * e}-kernel:{k}-stride:{s}-idskip:{int(slot > 0)}-se:{se}-hs:{hs}"
                          for e in EXPANSIONS for k in KERNELS])
            size, width = size_out, out
        stages.append(slots)
    mix, last = HEAD_WIDTHS
    fixed += [f"Conv_1-input:{size}x{size}x{width}-output:{size}x{size}x{mix}",
              f"AvgPool2D-input:{size}x{size}x{mix}-output:1x1x{mix}",
              f"Conv_2-input:1x1x{mix}-output:1x1x{last}",
              f"Logits-input:1x1x{last}-output:1000"]
    return fixed, stages


class OFAMobileNetV3(BlockChainSpace):
    """The OFA MobileNetV3 space at one ``resolution``, Note10 latency, OFA's accuracy surrogate.

    ``noise_std`` (fraction) is the simulated seed noise of ``validation_accuracy``
    (module docstring); ``folder`` defaults to ``data_dir()/ofa_mbv3``.
    """

    name = "ofa_mbv3"

    def __init__(self, resolution: int = 224, noise_std: float = SEED_STD, folder: str | Path | None = None):
        if resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of the Note10 tables' {RESOLUTIONS}, got {resolution!r}")
        if not noise_std >= 0:
            raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
        self.resolution = resolution
        self.noise_std = float(noise_std)
        self.folder = (Path(folder) if folder is not None
                       else locate("ofa-mbv3", f"{resolution}_lookup_table.yaml").parents[1])
        path = self.folder / "note10" / f"{resolution}_lookup_table.yaml"
        if not path.is_file():
            raise FileNotFoundError(f"no Note10 latency table at {path}; set NP_LIB_DATA_DIR to the folder "
                                    f"holding {FOLDER}/")
        table = read_table(path)
        fixed, stages = table_keys(resolution)
        slots = [slot for stage in stages for slot in stage]
        self.used_keys = sorted(set(fixed + [key for slot in slots for key in slot]))
        missing = [k for k in self.used_keys if k not in table]
        if missing:
            raise KeyError(f"{path.name} lacks {len(missing)} entries of the OFA MobileNetV3 space, "
                           f"e.g. {missing[0]!r}")
        cost = np.array([[table[k] for k in slot] + [0.0] for slot in slots])
        # Each stage a block of 2-4 present layers, each its own kernel and expansion; ``size`` is
        # then per stage 9^2 + 9^3 + 9^4, to the power of 5 stages.
        stages = [Block(tuple(range(SKIP)), max_depth=MAX_DEPTH, min_depth=min(DEPTHS))] * len(STAGE_WIDTHS)
        super().__init__(OP_NAMES, stages, skip=SKIP, layer_cost=cost, fixed_cost=sum(table[k] for k in fixed))

    def sample(self, n: int, seed) -> np.ndarray:
        """OFA's own sampler (``sample_active_subnet``): each stage's depth uniform in {2, 3, 4},
        each layer's kernel and expansion uniform. Not uniform over distinct models: deep
        stages are 81x as numerous but drawn as often as shallow ones. This is how OFA
        draws "random models" and matches data/ofa_mbv3/README.md's latency spread.
        :meth:`BlockChainSpace.sample <np_lib.spaces.blocks.BlockChainSpace.sample>` draws
        uniformly over distinct models instead."""
        n = check_count(n)
        rng = as_rng(seed)
        archs = rng.integers(0, SKIP, size=(n, len(self.counts)), dtype=np.int8)
        depth = rng.integers(min(DEPTHS), MAX_DEPTH + 1, size=(n, len(STAGE_WIDTHS)), dtype=np.int8)
        beyond = np.tile(np.arange(MAX_DEPTH), len(STAGE_WIDTHS)) >= np.repeat(depth, MAX_DEPTH, axis=1)
        archs[beyond] = SKIP
        return archs

    def depths(self, archs) -> np.ndarray:
        """``(n, 5)`` depth of each stage."""
        archs = self.check(archs)
        return (archs != SKIP).reshape(len(archs), len(STAGE_WIDTHS), MAX_DEPTH).sum(axis=2)

    # -- accuracy ---------------------------------------------------------------------------------

    @cached_property
    def accuracy_model(self) -> nn.Module:
        """OFA's released MLP ``128 -> 400 -> 400 -> 400 -> 1`` (ReLU), loaded with weights_only."""
        path = self.folder / "acc_predictor.pth"
        if not path.is_file():
            raise FileNotFoundError(f"no OFA accuracy predictor at {path}; "
                                    "get it with `python -m np_lib fetch ofa-mbv3`")
        net = nn.Sequential(nn.Linear(128, 400), nn.ReLU(), nn.Linear(400, 400), nn.ReLU(),
                            nn.Linear(400, 400), nn.ReLU(), nn.Linear(400, 1))
        net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return net.eval()

    def features(self, archs) -> np.ndarray:
        """OFA's 128-value input (data/ofa_mbv3/README.md): per slot a kernel one-hot (60),
        then per slot an expansion one-hot (60), skipped slots all zero, then a one-hot of
        the resolution at ``(r - 112) // 16`` (8)."""
        archs = self.check(archs)
        out = np.zeros((len(archs), 128), np.float32)
        rows, slots = np.nonzero(archs != SKIP)
        codes = archs[rows, slots]
        out[rows, 3 * slots + codes % 3] = 1.0
        out[rows, 60 + 3 * slots + codes // 3] = 1.0
        out[:, 120 + (self.resolution - 112) // 16] = 1.0
        return out

    def surrogate_accuracy(self, archs) -> np.ndarray:
        """OFA's predicted ImageNet top-1 (fraction), noiseless."""
        x = torch.from_numpy(self.features(archs))
        with torch.inference_mode():
            out = [self.accuracy_model(x[s:s + 65536]).squeeze(-1) for s in range(0, len(x), 65536)]
        return torch.cat(out).double().numpy() if out else np.zeros(0)

    def evaluate(self, archs, seed) -> Evaluation:
        """Validation: surrogate + ``noise_std`` x a fixed normal per (model, seed); test: the surrogate."""
        accuracy = self.surrogate_accuracy(archs)
        noise = self.noise_std * hashed_normal(self.check(archs), int(seed))
        return Evaluation(int(seed), accuracy + noise, accuracy, np.full(len(accuracy), np.nan))
