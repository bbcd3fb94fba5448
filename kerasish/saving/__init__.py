"""Saving and loading weights (Keras's legacy HDF5 layout)."""
from .legacy_h5 import load_weights, save_weights

__all__ = ["load_weights", "save_weights"]
