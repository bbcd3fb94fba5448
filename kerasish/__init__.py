"""kerasish: the Keras modeling API on kerasish's own tensor engine (``engine``).

>>> import kerasish as keras
>>> inputs = keras.Input((8,))
>>> model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
"""
from . import (activations, callbacks, config, datasets, distribution, initializers, layers,
               losses, metrics, models, optimizers, regularizers, summary, utils)
from .layers import Input, InputLayer, Layer
from .models import Functional, Model, Sequential
from .variables import Variable

__version__ = "0.1.0"


def __getattr__(name):
    # NOTE: the one reference from kerasish up to the model zoo, lazy so that `kerasish` never
    # needs `applications` to import: `keras.applications.InceptionV3` works as in Keras.
    if name == "applications":
        import importlib

        return importlib.import_module("applications")
    raise AttributeError(f"module 'kerasish' has no attribute {name!r}")


__all__ = ["Input", "InputLayer", "Layer", "Model", "Sequential", "Functional", "Variable",
           "activations", "callbacks", "config", "datasets", "distribution", "initializers",
           "layers", "losses", "metrics", "models", "optimizers", "regularizers", "summary",
           "utils"]
