"""Pictures of NAS-Bench-201 cells: the cell (ops on edges) and the graph the GCN reads (ops on nodes).

Same layout as :func:`np_lib.nasbench101.draw.draw_cell` (vertices left to
right, arcs bending more the more vertices they skip), for the notebook's
drawn example of the conversion in :mod:`np_lib.nasbench201.encoding`.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import FancyArrowPatch

from .cell import EDGES, NONE, NUM_NODES, OPS, check_cells, format_cell
from .encoding import GRAPH_OPS, graphs

SHORT_NAMES = {"input": "input", "output": "output", "none": "none", "skip_connect": "skip",
               "nor_conv_1x1": "conv1x1", "nor_conv_3x3": "conv3x3", "avg_pool_3x3": "avg-pool"}
_COLOURS = {"input": "#cccccc", "output": "#cccccc", "skip_connect": "#ffffb3", "nor_conv_1x1": "#8dd3c7",
            "nor_conv_3x3": "#80b1d3", "avg_pool_3x3": "#fdb462", "none": "#eeeeee"}


def _arc(ax, i, j, **style):
    span = j - i
    rad = 0.0 if span == 1 else 0.25 + 0.05 * span
    ax.add_patch(FancyArrowPatch((i, 0), (j, 0), connectionstyle=f"arc3,rad={-rad}", arrowstyle="-|>",
                                 mutation_scale=14, shrinkA=18, shrinkB=18, **style))
    return rad * span / 2  # an arc3 curve peaks at rad * chord / 2


def _finish(ax, n, top, title):
    ax.set_xlim(-0.6, n - 0.4)
    ax.set_ylim(-0.5, top + 0.45)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def draw_cell(cell, ax=None, title: str | None = None):
    """The cell as NAS-Bench-201 defines it: 4 nodes, each edge labelled with its op (``none`` dashed)."""
    (row,) = check_cells(cell)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    top = 0.0
    for e, (j, i) in enumerate(EDGES):
        op = OPS[row[e]]
        live = row[e] != NONE
        height = _arc(ax, j, i, color="#444444" if live else "#bbbbbb", lw=1.2, ls="-" if live else "--")
        top = max(top, height)
        # label at the arc's peak: the midpoint raised by the arc's height
        ax.text((i + j) / 2, height, SHORT_NAMES[op], ha="center", va="center", fontsize=7,
                color="black" if live else "#999999",
                bbox=dict(boxstyle="round,pad=0.15", fc=_COLOURS[op], ec="none"))
    for v in range(NUM_NODES):
        ax.scatter([v], [0], s=700, color="white", edgecolor="black", zorder=3)
        ax.text(v, 0, str(v), ha="center", va="center", fontsize=9, zorder=4)
    return _finish(ax, NUM_NODES, top, title if title is not None else format_cell(row))


def draw_graph(cell, ax=None, title: str | None = None):
    """The graph the GCN reads: input, one node per live edge on an input -> output path, output."""
    adjacency, labels = graphs(cell)
    adjacency, labels = adjacency[0], labels[0]
    n = int((labels >= 0).sum())
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * n + 0.5, 2.8))
    top = 0.0
    for i, j in zip(*np.nonzero(adjacency[:n, :n])):
        top = max(top, _arc(ax, i, j, color="#444444", lw=1.2))
    for v in range(n):
        op = GRAPH_OPS[labels[v]]
        ax.scatter([v], [0], s=1500, color=_COLOURS[op], edgecolor="black", zorder=3)
        ax.text(v, 0, f"{v}\n{SHORT_NAMES[op]}", ha="center", va="center", fontsize=8, zorder=4)
    return _finish(ax, n, top, title)
