"""Small helpers shared by the nn, linalg, image, core and math parts of ``kerasish.ops``."""
from __future__ import annotations

import numpy as np

from engine import Tensor, backend
from engine import ops as E

from .. import config
from ..symbolic import KerasTensor


def tensor(x, dtype=None):
    """An engine Tensor of `x` (Tensors pass through; lists and numbers get floatx or int32).

    Host values go to ``config.device()``, where new tensors live (K5).
    """
    if isinstance(x, Tensor):
        return x if dtype is None or x.dtype == np.dtype(dtype) else E.cast(x, dtype)
    if not hasattr(x, "dtype"):
        arr = np.asarray(x)
        if dtype is None and arr.dtype.kind == "f":
            dtype = config.floatx()
        elif dtype is None and arr.dtype == np.int64:
            dtype = "int32"
        x = arr
    t = Tensor(x if dtype is None else x.astype(dtype, copy=False))
    if t.device == "cpu" and config.device() != "cpu":
        t = t.to(config.device())
    return t


def array(x):
    """The raw xp array behind ``x`` (no graph)."""
    return x.data if isinstance(x, Tensor) else (x if hasattr(x, "dtype") else np.asarray(x))


def xp_of(*xs):
    return backend.get_array_module(*[array(x) for x in xs if x is not None])


def is_float(x):
    return np.dtype(x.dtype).kind == "f"


def float_tensor(x):
    """``x`` as a Tensor; integer and bool inputs become floatx (Keras's float-only ops)."""
    x = tensor(x)
    return x if x.dtype.kind in "fc" else E.cast(x, config.floatx())


def const(value, like):
    """A constant Tensor on ``like``'s device with its dtype."""
    xp = xp_of(like)
    return Tensor(xp.asarray(value, dtype=array(like).dtype))


def data_format(value):
    value = config.image_data_format() if value is None else str(value).lower()
    if value not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={value}")
    return value


def to_last(x, fmt):
    """channels_first -> channels_last (a transpose); channels_last passes through."""
    if fmt == "channels_last":
        return x
    nd = len(x.shape)
    return E.transpose(x, (0,) + tuple(range(2, nd)) + (1,))


def from_last(x, fmt):
    if fmt == "channels_last":
        return x
    nd = len(x.shape)
    return E.transpose(x, (0, nd - 1) + tuple(range(1, nd - 1)))


def spec(shape, dtype="float32"):
    return KerasTensor(tuple(shape), dtype=np.dtype(dtype).name)


def shape_of(x):
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def dtype_of(x, default=None):
    if hasattr(x, "dtype"):
        return np.dtype(x.dtype).name
    return default or config.floatx()


def tuple_of(value, n, name="value"):
    if isinstance(value, int):
        return (value,) * n
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise ValueError(f"`{name}` must be an int or a tuple of {n} ints. Received: "
                         f"{name}={value}")
    return value


def axes_of(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axis = axis if isinstance(axis, (list, tuple)) else (axis,)
    return tuple(sorted(int(a) % ndim for a in axis))
