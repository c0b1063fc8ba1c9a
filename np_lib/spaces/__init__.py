"""Search spaces behind one interface (:class:`SearchSpace`): sample, encode, latency, evaluate.

* :class:`ProxylessNAS`: section 4.2's space, Pixel-1 latency table, no accuracies;
* :class:`OFAMobileNetV3`: Once-for-All's space, Note10 latency, accuracy surrogate;
* :class:`NASBenchMacro`: 6,561 really trained MBConv chains, latency measured locally;
* :class:`BlockChainSpace`: a chain declared from :class:`Block` s (depths, shared choices);
* :class:`PoolSpace`: your own table of trained models (``PoolSpace.from_dataframe``);
* :class:`NASBench101Space`: the NAS-Bench-101 pool of section 4.1, adapted.

Names are imported on first use, so ``import np_lib.spaces`` stays cheap.
"""
from ..lazy import exports

_EXPORTS = {
    "SearchSpace": "base", "Evaluation": "base", "sample_in_band": "base", "in_band": "base", "predict": "base",
    "ChainSpace": "chain", "Block": "blocks", "BlockChainSpace": "blocks",
    "ProxylessNAS": "proxylessnas", "read_config": "proxylessnas",
    "OFAMobileNetV3": "ofa", "NASBenchMacro": "macro", "PoolSpace": "pool", "NASBench101Space": "nasbench101",
}
__all__ = list(_EXPORTS)

__getattr__, __dir__ = exports(__name__, _EXPORTS)
