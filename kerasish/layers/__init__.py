"""Every layer class, flat, as ``keras.layers`` has them."""
from .activation_layers import ELU, LeakyReLU, PReLU, ReLU, Softmax
from .core import (Activation, Dense, Dropout, Flatten, Identity, Lambda, Masking, Permute,
                   RepeatVector, Reshape)
from .embedding import Embedding
from .input_layer import Input, InputLayer
from .input_spec import InputSpec
from .layer import Layer
from .merging import (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract, add,
                      average, concatenate, dot, maximum, minimum, multiply, subtract)
from .normalization import BatchNormalization, LayerNormalization
