"""NAS-Bench-201 (Dong & Yang, ICLR 2020): a complete cell benchmark with real latency.

Cells and arch strings (:func:`parse`, :func:`format_cell`, :func:`is_connected`),
the space (:func:`random_cells`, :func:`mutate`, :func:`all_cells`), the graph the
GCN reads (:func:`encode`), pictures (:func:`draw_cell`), and the benchmark data
(:func:`load`: accuracies of all 15,625 cells, latency on 27 devices), and latency
targets (:func:`in_band_pool`, :func:`soft_pareto_targets`: section 4.2 per device).

Names are imported on first use (PEP 562), as in :mod:`np_lib.nasbench101`.
"""
from ..lazy import exports

_EXPORTS = {
    "OPS": "cell", "EDGES": "cell", "NUM_CELLS": "cell", "InvalidArchString": "cell",
    "parse": "cell", "parse_many": "cell", "format_cell": "cell", "format_many": "cell",
    "to_code": "cell", "from_code": "cell", "all_cells": "cell", "is_connected": "cell",
    "random_cells": "space", "sample_indices": "space", "mutate": "space",
    "encode": "encoding", "graphs": "encoding", "GRAPH_OPS": "encoding",
    "NASBench201": "benchmark", "DEVICES": "benchmark", "load": "benchmark",
    "NASBench201Space": "search_space",
    "band_at_quantiles": "targets", "in_band_cells": "targets", "in_band_pool": "targets",
    "soft_pareto_targets": "targets", "TargetsResult": "targets", "compare_targets": "targets",
    "draw_cell": "draw", "draw_graph": "draw",
}
__all__ = list(_EXPORTS)

__getattr__, __dir__ = exports(__name__, _EXPORTS)
