"""``keras.utils.to_categorical`` and ``keras.utils.normalize``."""
from __future__ import annotations

import numpy as np

from engine import Tensor
from engine import ops


def to_categorical(x, num_classes=None):
    """Class indices as one-hot rows (a trailing axis of size 1 is dropped first).

    NumPy-like input gives a NumPy float64 array (as Keras); an engine Tensor gives a float32
    Tensor.

    Args:
        x: Integer class indices.
        num_classes: Number of classes; None = ``max(x) + 1``.

    >>> to_categorical([0, 2], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.]])
    """
    if isinstance(x, Tensor):
        if x.ndim > 1 and x.shape[-1] == 1:
            x = ops.reshape(x, x.shape[:-1])
        if num_classes is None:
            num_classes = int(x.data.max()) + 1
        return ops.one_hot(x, int(num_classes))
    x = np.array(x, dtype="int64")
    shape = x.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = shape[:-1]
    x = x.reshape(-1)
    if not num_classes:
        num_classes = int(np.max(x)) + 1
    out = np.zeros((x.shape[0], int(num_classes)))
    out[np.arange(x.shape[0]), x] = 1
    return out.reshape(tuple(shape) + (int(num_classes),))


def normalize(x, axis=-1, order=2):
    """``x`` divided by its ``order``-norm along ``axis`` (zero norms left as they are).

    A NumPy array gives a NumPy array; an engine Tensor gives a Tensor (differentiable; norms
    below ``keras.config.epsilon()`` are clipped to it, as Keras's ``ops.normalize``).

    >>> normalize(np.array([[3.0, 4.0]]))
    array([[0.6, 0.8]])
    """
    if isinstance(x, Tensor):
        from ..config import epsilon

        if not isinstance(order, int) or order < 1:
            raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
        eps = np.asarray(epsilon(), dtype=x.dtype)
        norm = ops.power(ops.sum(ops.power(ops.abs(x), order), axis=axis, keepdims=True),
                         np.asarray(1.0 / order, dtype=x.dtype))
        return ops.divide(x, ops.maximum(norm, eps))
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    axis = axis or -1  # NOTE: Keras's quirk: axis=0 expands the norm on the last axis
    return x / np.expand_dims(norm, axis)
