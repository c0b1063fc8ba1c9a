"""np_lib: a reference implementation of "Neural Predictor for Neural Architecture Search" (Wen et al., 2020)."""
from .lazy import exports

# Lazy, so that `import np_lib` (the CLI, data tools) does not pay for importing torch.
_EXPORTS = {"NeuralClassifier": "predictor", "NeuralPredictor": "predictor", "TwoStagePredictor": "predictor"}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = exports(__name__, _EXPORTS)
