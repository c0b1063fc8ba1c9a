"""Architectures as graphs: the input of the Neural Predictor (section 3.2, Figure 2).

Every architecture becomes a directed graph whose nodes carry a one-hot code of
their operation. Graphs of one search space are padded to a common node count
``V`` and stacked, so a whole pool is three dense tensors:

* ``adjacency`` ``(B, V, V)``: ``A[b, i, j] = 1`` for an edge i -> j;
* ``features``  ``(B, V, F)``: one-hot op codes, all-zero rows for padding;
* ``mask``      ``(B, V)``: True for real nodes.

This module is search-space agnostic: NAS-Bench-101 cells
(:func:`np_lib.nasbench101.encode`) and chain-shaped spaces (:func:`linear_graphs`)
both end here. Dense tensors rather than sparse edge lists because the graphs are
tiny (7 nodes for NAS-Bench-101, ~22 for ProxylessNAS): batched matrix products
beat scatter-based message passing by a wide margin at that size.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass(frozen=True)
class GraphBatch:
    """A batch of padded graphs; see the module docstring for the three tensors."""

    adjacency: torch.Tensor
    features: torch.Tensor
    mask: torch.Tensor

    def __post_init__(self):
        b, v, f = self.features.shape
        if self.adjacency.shape != (b, v, v) or self.mask.shape != (b, v):
            raise ValueError(f"inconsistent shapes: adjacency {tuple(self.adjacency.shape)}, "
                             f"features {tuple(self.features.shape)}, mask {tuple(self.mask.shape)}")

    def __len__(self) -> int:
        return self.features.shape[0]

    def __getitem__(self, index) -> "GraphBatch":
        if isinstance(index, np.ndarray):
            index = torch.from_numpy(index)
        if isinstance(index, int):
            index = slice(index, index + 1)
        return GraphBatch(self.adjacency[index], self.features[index], self.mask[index])

    @property
    def num_nodes(self) -> int:
        return self.features.shape[1]

    @property
    def num_features(self) -> int:
        return self.features.shape[2]

    def to(self, device) -> "GraphBatch":
        return GraphBatch(self.adjacency.to(device), self.features.to(device), self.mask.to(device))

    def propagation_matrices(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(Â, Ǎ)``: the normalised forward and backward propagation matrices.

        Following Kipf & Welling (the paper's [10]) self-loops are added and rows
        are normalised by node degree: ``Â = D⁻¹(A + I)`` (row i averages node i
        and its successors, so ``ÂV`` moves information against the edges) and
        ``Ǎ = D'⁻¹(Aᵀ + I)`` (node i and its predecessors: along the edges).
        Section 3.2's bidirectional layer averages the two. Padded nodes get
        neither a self-loop nor edges, so their rows stay zero and they never
        feed a real node.
        """
        return (normalized_adjacency(self.adjacency, self.mask),
                normalized_adjacency(self.adjacency.transpose(1, 2), self.mask))

    def to_pyg(self):
        """A torch-geometric ``Batch`` of ``Data(x, edge_index)``, padding dropped."""
        from torch_geometric.data import Batch, Data

        graphs = []
        for adj, x, m in zip(self.adjacency, self.features, self.mask):
            n = int(m.sum())
            edge_index = adj[:n, :n].nonzero().t().contiguous()
            graphs.append(Data(x=x[:n], edge_index=edge_index, num_nodes=n))
        return Batch.from_data_list(graphs)

    @classmethod
    def from_pyg(cls, batch, num_nodes: int) -> "GraphBatch":
        """Back from a torch-geometric ``Batch`` (nodes of each graph in their stored order)."""
        from torch_geometric.utils import to_dense_adj, to_dense_batch

        x, mask = to_dense_batch(batch.x, batch.batch, max_num_nodes=num_nodes)
        adj = to_dense_adj(batch.edge_index, batch.batch, max_num_nodes=num_nodes)
        return cls(adj, x, mask)


def normalized_adjacency(adjacency: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``D⁻¹(A + I)`` over real nodes, batched: ``(B, V, V) -> (B, V, V)``."""
    a = adjacency + torch.diag_embed(mask.to(adjacency.dtype))
    degree = a.sum(dim=-1, keepdim=True)
    return a / degree.clamp_min(1.0)


def one_hot_graphs(adjacency: np.ndarray, labels: np.ndarray, num_classes: int) -> GraphBatch:
    """Build a :class:`GraphBatch` from integer node labels (-1 marks padding).

    ``adjacency`` is ``(B, V, V)`` 0/1, ``labels`` ``(B, V)`` in ``[0, num_classes)``
    or -1. Vectorised: 20,001 NAS-Bench-101 cells encode in a few milliseconds.
    """
    adjacency = np.asarray(adjacency)
    labels = np.asarray(labels)
    if labels.ndim != 2 or adjacency.shape != labels.shape + labels.shape[-1:]:
        raise ValueError(f"adjacency {adjacency.shape} and labels {labels.shape} do not describe "
                         f"(B, V, V) and (B, V) arrays")
    if labels.size and (labels.max() >= num_classes or labels.min() < -1):
        raise ValueError(f"labels must lie in [0, {num_classes}) or be -1 for padding")
    mask = labels >= 0
    if adjacency[~mask].any() or adjacency.transpose(0, 2, 1)[~mask].any():
        raise ValueError("padded nodes (label -1) must have no edges")
    features = np.zeros(labels.shape + (num_classes,), np.float32)
    b, v = np.nonzero(mask)
    features[b, v, labels[b, v]] = 1.0
    return GraphBatch(torch.from_numpy(adjacency.astype(np.float32)),
                      torch.from_numpy(features), torch.from_numpy(mask))


def linear_graphs(labels, num_classes: int, skip: int | None = None) -> GraphBatch:
    """Chain graphs ``0 -> 1 -> ... -> L-1``: one node per layer (ProxylessNAS-style spaces, section 4.2).

    ``labels`` is ``(B, L)`` choice indices per layer (e.g. 7 classes: MBConv
    expansion {3, 6} x kernel {3, 5, 7}, or skip). By default every layer stays
    a node, a skipped layer included, as in the paper: the one-hot code says it
    is a skip. With ``skip`` (a label), layers holding it are dropped from the
    chain instead: the remaining layers are linked in order and the graph is
    padded to ``L`` nodes (a pool whose "no layer here" is not an operation).
    """
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise ValueError(f"labels must be (B, L), got shape {labels.shape}")
    if (labels < 0).any():
        raise ValueError("chain graphs have no padding: labels must be >= 0")
    bsz, length = labels.shape
    if skip is None:
        chain = np.eye(length, k=1, dtype=np.uint8)
        return one_hot_graphs(np.broadcast_to(chain, (bsz, length, length)), labels, num_classes)
    kept = labels != skip
    # Stable sort on "is skipped" moves each row's kept layers to the front, in order.
    order = np.argsort(~kept, axis=1, kind="stable")
    nodes = np.where(np.take_along_axis(kept, order, axis=1), np.take_along_axis(labels, order, axis=1), -1)
    real = nodes >= 0
    adjacency = (real[:, :-1] & real[:, 1:]).astype(np.uint8)
    chains = np.zeros((bsz, length, length), np.uint8)
    i = np.arange(length - 1)
    chains[:, i, i + 1] = adjacency
    return one_hot_graphs(chains, nodes, num_classes)
