"""np_lib: a reference implementation of "Neural Predictor for Neural Architecture Search" (Wen et al., 2020)."""

__all__ = ["NeuralClassifier", "NeuralPredictor", "TwoStagePredictor"]


def __getattr__(name):
    # Lazy, so that `import np_lib` (the CLI, data tools) does not pay for importing torch.
    if name in __all__:
        from . import predictor

        return getattr(predictor, name)
    raise AttributeError(f"module 'np_lib' has no attribute {name!r}")
