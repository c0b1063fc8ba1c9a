"""Pictures of cells: the DAG, and its encoding as in the paper's Figure 2."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch

from .cell import OPS, Cell

SHORT_NAMES = {"input": "input", "conv1x1-bn-relu": "conv1x1", "conv3x3-bn-relu": "conv3x3",
               "maxpool3x3": "max-pool", "output": "output"}
_COLOURS = {"input": "#cccccc", "conv1x1-bn-relu": "#8dd3c7", "conv3x3-bn-relu": "#80b1d3",
            "maxpool3x3": "#fdb462", "output": "#cccccc"}


def draw_cell(cell: Cell, ax=None, title: str | None = None):
    """Draw a cell left to right in vertex order; arcs bend more the more vertices they skip."""
    if ax is None:
        _, ax = plt.subplots(figsize=(1.4 * cell.num_vertices, 2.6))
    n = cell.num_vertices
    top = 0.5
    for i, j in zip(*np.nonzero(cell.matrix)):
        span = j - i
        rad = 0.0 if span == 1 else 0.25 + 0.05 * span
        ax.add_patch(FancyArrowPatch((i, 0), (j, 0), connectionstyle=f"arc3,rad={-rad}",
                                     arrowstyle="-|>", mutation_scale=14, shrinkA=18, shrinkB=18,
                                     color="#444444", lw=1.2))
        top = max(top, rad * span / 2 + 0.45)  # an arc3 curve peaks at rad * chord / 2
    for v, op in enumerate(cell.op_names):
        ax.scatter([v], [0], s=1500, color=_COLOURS[op], edgecolor="black", zorder=3)
        ax.text(v, 0, f"{v}\n{SHORT_NAMES[op]}", ha="center", va="center", fontsize=8, zorder=4)
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylim(-0.5, top)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def draw_encoding(cell: Cell, axes=None):
    """Figure 2: the one-hot node features, the adjacency A and its transpose Aᵀ."""
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(12, 3.6), gridspec_kw={"width_ratios": [5, 7, 7]},
                               layout="constrained")
    n = cell.num_vertices
    onehot = np.eye(len(OPS), dtype=int)[list(cell.ops)]
    labels = [f"{v} {SHORT_NAMES[op]}" for v, op in enumerate(cell.op_names)]
    panels = [(onehot, [SHORT_NAMES[o] for o in OPS], "node features (one-hot)"),
              (cell.matrix, range(n), "A (forward)"), (cell.matrix.T, range(n), "Aᵀ (backward)")]
    for ax, (mat, xlabels, title) in zip(axes, panels):
        ax.imshow(mat, cmap="Greys", vmin=0, vmax=1.6)
        for (r, c), val in np.ndenumerate(mat):
            ax.text(c, r, int(val), ha="center", va="center", fontsize=8, color="white" if val else "black")
        ax.set_xticks(range(mat.shape[1]), list(xlabels), rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(n), labels, fontsize=8)
        ax.set_title(title, fontsize=10)
    return axes
