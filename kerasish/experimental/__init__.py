"""tf.keras 2's ``keras.experimental`` premade models: ``LinearModel`` and ``WideDeepModel``."""
from .linear_model import LinearModel
from .wide_deep_model import WideDeepModel

__all__ = ["LinearModel", "WideDeepModel"]
