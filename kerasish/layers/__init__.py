"""Every layer class, flat, as ``keras.layers`` has them."""
from .core import Dense
from .input_layer import Input, InputLayer
from .input_spec import InputSpec
from .layer import Layer
