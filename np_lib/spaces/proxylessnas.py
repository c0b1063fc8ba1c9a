"""The ProxylessNAS mobile search space of section 4.2, priced by its Pixel-1 latency table.

Layout (ProxylessNAS code, ``search/imagenet_arch_search.py``; data/proxylessnas/README.md):
input 224, a fixed 3x3 stride-2 stem to 32 channels, then 22 searchable layers:

* layer 0: an MBConv of expansion 1 to 16 channels, kernel {3, 5, 7};
* six stages of widths 24, 40, 80, 96, 192, 320 with 4, 4, 4, 4, 4, 1 layers
  and first-layer strides 2, 2, 2, 1, 2, 1. Each layer is an MBConv of
  expansion {3, 6} x kernel {3, 5, 7}, or a skip where the layer is not the
  first of its stage ("The first layer of a block is always present");

then a fixed 1x1 feature-mix conv to 1280 and the classifier.
3 * 6^6 * 7^15 = 6.64e17 models, the paper's count.

Encoding: each layer is a node whose one-hot has the paper's length 7:
``MB3 3x3, MB3 5x5, MB3 7x7, MB6 3x3, MB6 5x5, MB6 7x7, skip``. Layer 0 has only
expansion 1; its kernels take the first three codes ("small expansion"), the
node's position telling it apart (the paper does not say how it coded it).

Latency: the table's mean of every layer the model has, plus the fixed stem,
feature-mix and logits entries (7.5 ms together); skipped layers cost 0, as in
ProxylessNAS's own estimator. There are no accuracies for this space
(:meth:`ProxylessNAS.evaluate` says so).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from ..datasets import locate
from .blocks import Block, BlockChainSpace

#: ``(expansion, kernel)`` of op codes 0-5; code 6 is the skip.
MBCONV_OPS = tuple((e, k) for e in (3, 6) for k in (3, 5, 7))
OP_NAMES = tuple(f"MB{e} {k}x{k}" for e, k in MBCONV_OPS) + ("skip",)
SKIP = 6

INPUT_SIZE = 224
STEM_WIDTH = 32
FIRST_WIDTH = 16
STAGE_WIDTHS = (24, 40, 80, 96, 192, 320)
STAGE_DEPTHS = (4, 4, 4, 4, 4, 1)
STAGE_STRIDES = (2, 2, 2, 1, 2, 1)
HEAD_WIDTH = 1280

#: The paper's latency target on a Pixel 1, in ms (section 4.2).
PAPER_BAND = (75.0, 85.0)

TABLE_FILE = Path("proxylessnas") / "mobile_trim.yaml"
CONFIG_FILE = Path("proxylessnas") / "proxyless_mobile.config"


@dataclass(frozen=True)
class Layer:
    """One searchable layer: its input/output feature maps and whether it may be skipped."""
    size_in: int
    size_out: int
    width_in: int
    width_out: int
    stride: int
    first_of_stage: bool

    def key(self, expansion: int, kernel: int) -> str:
        """The layer's entry in ``mobile_trim.yaml``: an identity skip exists on non-first layers."""
        return (f"expanded_conv-input:{self.size_in}x{self.size_in}x{self.width_in}-output:"
                f"{self.size_out}x{self.size_out}x{self.width_out}-expand:{expansion}-kernel:{kernel}-"
                f"stride:{self.stride}-idskip:{0 if self.first_of_stage else 1}")


def layers() -> list[Layer]:
    """The 22 searchable layers in order (module docstring)."""
    size = INPUT_SIZE // 2
    out = [Layer(size, size, STEM_WIDTH, FIRST_WIDTH, 1, True)]
    width = FIRST_WIDTH
    for stage_width, depth, stride in zip(STAGE_WIDTHS, STAGE_DEPTHS, STAGE_STRIDES):
        for i in range(depth):
            s = stride if i == 0 else 1
            out.append(Layer(size, size // s, width, stage_width, s, i == 0))
            size, width = size // s, stage_width
    return out


def blocks() -> list[Block]:
    """The space as blocks (:mod:`np_lib.spaces.blocks`): each layer one block, its own choice;
    the first layer of a stage always present ("The first layer of a block is always present"),
    the others present or skipped. Layer 0 has the three kernels of expansion 1 (codes 0-2)."""
    out = []
    for i, layer in enumerate(layers()):
        out.append(Block((0, 1, 2) if i == 0 else tuple(range(SKIP)), min_depth=1 if layer.first_of_stage else 0))
    return out


def fixed_keys() -> list[str]:
    """Table entries every model pays: stem, feature mix and logits."""
    last = INPUT_SIZE // 32
    return [f"Conv-input:{INPUT_SIZE}x{INPUT_SIZE}x3-output:{INPUT_SIZE // 2}x{INPUT_SIZE // 2}x{STEM_WIDTH}",
            f"Conv_1-input:{last}x{last}x{STAGE_WIDTHS[-1]}-output:{last}x{last}x{HEAD_WIDTH}",
            f"Logits-input:{last}x{last}x{HEAD_WIDTH}-output:1000"]


def read_table(path: str | Path) -> dict[str, float]:
    """``{key: mean ms}`` from a ProxylessNAS-style YAML lookup table."""
    with open(path) as f:
        table = yaml.safe_load(f)
    if not isinstance(table, dict) or not all(isinstance(v, dict) and "mean" in v for v in table.values()):
        raise ValueError(f"{path} is not a latency lookup table of {{key: {{mean, ...}}}} entries")
    return {key: float(entry["mean"]) for key, entry in table.items()}


class ProxylessNAS(BlockChainSpace):
    """The section-4.2 space with Pixel-1 latency from ``mobile_trim.yaml`` (module docstring).

    ``table_path`` defaults to ``data_dir()/proxylessnas/mobile_trim.yaml``
    (``python -m np_lib fetch proxylessnas``).
    ``used_keys`` lists the table entries the space prices (all 72).
    """

    name = "proxylessnas"

    def __init__(self, table_path: str | Path | None = None):
        path = Path(table_path) if table_path is not None else locate("proxylessnas", TABLE_FILE.as_posix())
        if not path.is_file():
            raise FileNotFoundError(f"no ProxylessNAS latency table at {path}; set NP_LIB_DATA_DIR to the "
                                    f"folder holding {TABLE_FILE}")
        table = read_table(path)
        self.layers = layers()
        cost = np.full((len(self.layers), len(OP_NAMES)), np.nan)
        keys = list(fixed_keys())
        for i, layer in enumerate(self.layers):
            expansions = (1,) if i == 0 else (3, 6)
            for code, kernel in enumerate((3, 5, 7) * len(expansions)):
                key = layer.key(expansions[code // 3], kernel)
                cost[i, code] = _lookup(table, key, path)
                keys.append(key)
            if not layer.first_of_stage:
                cost[i, SKIP] = 0.0
        self.used_keys = sorted(set(keys))
        super().__init__(OP_NAMES, blocks(), skip=SKIP, layer_cost=cost,
                         fixed_cost=sum(_lookup(table, k, path) for k in fixed_keys()))


def _lookup(table: dict[str, float], key: str, path: Path) -> float:
    try:
        return table[key]
    except KeyError:
        raise KeyError(f"{path.name} has no entry {key!r}: not the ProxylessNAS mobile table?") from None


@dataclass(frozen=True)
class ProxylessConfig:
    """A released ProxylessNAS network mapped onto the search space.

    ``arch``: its ``(22,)`` op codes. ``widths``: the output width of each of
    its 22 layers as released; ``width_mismatches``: ``(layer, released,
    space)`` where they differ from the search space, which the Pixel-1 table
    cannot price (ProxylessNAS-Mobile uses 32 channels, not 24, at 56x56).
    """
    arch: np.ndarray
    widths: tuple[int, ...]
    width_mismatches: tuple[tuple[int, int, int], ...]


def read_config(path: str | Path | None = None) -> ProxylessConfig:
    """Read a ProxylessNAS ``.config`` (JSON); default ``proxyless_mobile.config`` in the data folder."""
    path = Path(path) if path is not None else locate("proxylessnas", CONFIG_FILE.as_posix())
    with open(path) as f:
        config = json.load(f)
    blocks = config.get("blocks")
    space_layers = layers()
    if not isinstance(blocks, list) or len(blocks) != len(space_layers):
        raise ValueError(f"{path}: expected {len(space_layers)} blocks of the ProxylessNAS mobile space")
    arch, widths, mismatches = [], [], []
    for i, (block, layer) in enumerate(zip(blocks, space_layers)):
        conv = block["mobile_inverted_conv"]
        if conv["name"] == "ZeroLayer":
            if layer.first_of_stage:
                raise ValueError(f"{path}: block {i} is skipped but is the first of its stage")
            arch.append(SKIP)
            widths.append(widths[-1])
            continue
        expansion, kernel = int(conv["expand_ratio"]), int(conv["kernel_size"])
        small = 1 if i == 0 else 3
        if expansion not in (small, 6 if i else small) or kernel not in (3, 5, 7) or conv["stride"] != layer.stride:
            raise ValueError(f"{path}: block {i} (expansion {expansion}, kernel {kernel}, stride "
                             f"{conv['stride']}) is not a choice of the search space at layer {i}")
        arch.append((0 if expansion == small else 3) + (3, 5, 7).index(kernel))
        widths.append(int(conv["out_channels"]))
        if widths[-1] != layer.width_out:
            mismatches.append((i, widths[-1], layer.width_out))
    return ProxylessConfig(np.array(arch, np.int8), tuple(widths), tuple(mismatches))
