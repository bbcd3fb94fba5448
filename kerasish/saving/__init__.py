"""Saving and loading: whole models (``.keras`` archives, legacy ``.h5``) and weights (Keras 3's
``.weights.h5`` layout, Keras's legacy HDF5 layout), chosen by the file name (``api.py``)."""
from .api import load_model, load_weights, save_model, save_weights

__all__ = ["load_model", "load_weights", "save_model", "save_weights"]
