"""kerasish: the Keras modeling API on kerasish's own tensor engine (``engine``).

>>> import kerasish as keras
>>> inputs = keras.Input((8,))
>>> model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
"""
from . import (activations, callbacks, config, datasets, initializers, layers, losses, metrics,
               models, optimizers, regularizers, utils)
from .layers import Input, InputLayer, Layer
from .models import Functional, Model, Sequential
from .variables import Variable

__version__ = "0.1.0"
__all__ = ["Input", "InputLayer", "Layer", "Model", "Sequential", "Functional", "Variable",
           "activations", "callbacks", "config", "datasets", "initializers", "layers", "losses",
           "metrics", "models", "optimizers", "regularizers", "utils"]
