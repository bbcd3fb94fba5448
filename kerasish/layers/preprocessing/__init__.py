"""Preprocessing layers (Keras's ``keras.layers`` names), one file per idea."""
from .category_encoding import CategoryEncoding
from .discretization import Discretization
from .normalization import Normalization
from .rescaling import Rescaling

__all__ = ["CategoryEncoding", "Discretization", "Normalization", "Rescaling"]
