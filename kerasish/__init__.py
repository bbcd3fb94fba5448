"""kerasish: the Keras modeling API on kerasish's own tensor engine (``engine``).

>>> import kerasish as keras
>>> inputs = keras.Input((8,))
>>> model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
"""
from . import (activations, backend, callbacks, config, datasets, distribution, initializers,
               layers, losses, metrics, models, ops, optimizers, preprocessing, random,
               regularizers, summary, tree, utils)
from . import constraints, dtype_policies, mixed_precision
from . import distillation, legacy, saving
from . import experimental  # tf.keras 2's premade LinearModel, WideDeepModel
from .initializers import Initializer
from .layers import Input, InputLayer, InputSpec, Layer
from .losses import Loss
from .metrics import Metric
from .models import Functional, Model, Sequential
from .operation import Function, Operation
from .optimizers import Optimizer
from .regularizers import Regularizer
from .scopes import StatelessScope, SymbolicScope, device, name_scope
from .symbolic import KerasTensor
from .variables import Variable

__version__ = "0.1.0"


def version() -> str:
    """kerasish's version string (``keras.version()``)."""
    return __version__


def __getattr__(name):
    if name == "wrappers":  # NOTE: lazy: it imports scikit-learn (seconds)
        import importlib

        return importlib.import_module(".wrappers", __name__)
    if name in ("DTypePolicy", "FloatDTypePolicy"):
        try:
            from . import dtype_policies
        except ImportError as e:  # not written yet: absent, as an attribute
            raise AttributeError(f"kerasish.{name} is not available: {e}") from e
        return getattr(dtype_policies, name)
    # NOTE: the one reference from kerasish up to the model zoo, lazy so that `kerasish` never
    # needs `applications` to import: `keras.applications.InceptionV3` works as in Keras.
    if name == "applications":
        import importlib

        return importlib.import_module("applications")
    raise AttributeError(f"module 'kerasish' has no attribute {name!r}")


__all__ = ["Input", "InputLayer", "Layer", "Model", "Sequential", "Functional", "Variable",
           "Function", "Initializer", "InputSpec", "KerasTensor", "Loss", "Metric", "Operation",
           "Optimizer", "Regularizer", "StatelessScope", "SymbolicScope", "device",
           "name_scope", "version", "activations", "backend", "callbacks", "config", "datasets",
           "distribution", "initializers", "layers", "losses", "metrics", "models", "ops",
           "optimizers",
           "preprocessing", "random", "regularizers", "summary", "tree", "utils", "wrappers",
           "constraints", "dtype_policies", "mixed_precision"]
