"""NAS-Bench-101 (Ying et al., 2019): the search space of the paper's section 4.1.

Cells (:class:`Cell`, :class:`CellArray`), the space (:func:`random_cell`,
:func:`sample_cells`, :func:`mutate`, :func:`enumerate_cells`), the graph
encoding (:func:`encode`), and the benchmark data (:func:`load`, :func:`download`).

Names are imported on first use (PEP 562): worker processes that only parse
records (``official.convert``) then start without importing torch and pandas.
"""
from ..lazy import exports

_EXPORTS = {
    "Cell": "cell", "CellArray": "cell", "InvalidCellError": "cell", "OPS": "cell",
    "NASBench101": "benchmark", "TrainingOutcomes": "benchmark", "load": "benchmark", "DataError": "benchmark",
    "download": "fetch", "encode": "encoding",
    "NUM_CELLS": "space", "enumerate_cells": "space", "mutate": "space", "random_cell": "space",
    "sample_cells": "space",
}
__all__ = list(_EXPORTS)

__getattr__, __dir__ = exports(__name__, _EXPORTS)
