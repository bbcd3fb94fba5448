"""Saving and loading weights: Keras 3's ``.weights.h5`` layout and Keras's legacy HDF5 layout,
chosen by the file name (``api.py``)."""
from .api import load_weights, save_weights

__all__ = ["load_weights", "save_weights"]
