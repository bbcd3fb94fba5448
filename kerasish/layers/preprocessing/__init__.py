"""Preprocessing layers (Keras's ``keras.layers`` names), one file per idea."""
from .normalization import Normalization
from .rescaling import Rescaling

__all__ = ["Normalization", "Rescaling"]
