"""What ``adapt()`` accepts, as Keras 3 does: one array (or Tensor), a PyDataset, or an
iterable of batches (``(x, y)`` tuples give their ``x``)."""
from __future__ import annotations

import itertools

import numpy as np

from engine import Tensor, backend

from ...data import PyDataset


def _x_of(batch):
    return batch[0] if isinstance(batch, tuple) else batch


def host_array(x):
    """A NumPy array from a batch (Tensor, CuPy or NumPy array, list)."""
    if isinstance(x, Tensor):
        return backend.to_numpy(x.data)
    if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, np.ndarray):
        return backend.to_numpy(x)
    return np.asarray(x)


def adapt_data(data, layer_name):
    """``(array, None)`` for one array, else ``(None, batches)``: an iterator of NumPy batches
    whose first one has been looked at (so an empty iterable fails here, as in Keras)."""
    if isinstance(data, (np.ndarray, Tensor)) or (hasattr(data, "shape") and
                                                  hasattr(data, "dtype")):
        return host_array(data), None
    if isinstance(data, PyDataset):
        return None, (host_array(_x_of(data[i])) for i in range(len(data)))
    if not hasattr(data, "__iter__") or isinstance(data, (str, bytes, dict)):
        raise TypeError(f"Unsupported data type: {type(data)}. `adapt` of layer '{layer_name}' "
                        "supports NumPy arrays, tensors, `keras.utils.PyDataset`, and iterables "
                        "of batches (e.g. list, generator).")
    iterator = iter(data)
    first = next(iterator, None)
    if first is None:
        raise ValueError("adapt() received an empty iterable (no batches). Expected at least "
                         "one batch. Pass a non-empty iterable of arrays or tensors, e.g. "
                         "layer.adapt([x]) or layer.adapt(list_of_batches).")
    return None, (host_array(_x_of(b)) for b in itertools.chain([first], iterator))
