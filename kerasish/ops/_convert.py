"""Arguments of ``keras.ops`` functions turned into engine Tensors, with Keras's dtypes.

Python scalars are *weak*: ``dtype_of(2.0)`` is the type ``float``, which ``dtypes.result_type``
lets the other operand's type win over. Lists become arrays as ``keras.ops.convert_to_tensor``
makes them (float32 and int32, not NumPy's 64-bit defaults).
"""
from __future__ import annotations

import numpy as np

from engine import Tensor, backend
from engine import ops as E

from .. import dtypes

_PYTHON_SCALARS = (bool, int, float, complex)


def dtype_of(x):
    """Keras's dtype name for ``x``, or the Python type of a scalar (a weak type)."""
    for t in _PYTHON_SCALARS:  # NOTE: bool first: True is an int too
        if type(x) is t:
            return t
    if hasattr(x, "dtype"):
        return dtypes.standardize_dtype(x.dtype)
    return _list_dtype(np.asarray(x))


def _list_dtype(a):
    if a.dtype.kind == "f":
        return "float32" if a.size else dtypes.standardize_dtype(None)
    if a.dtype.kind in "iu":
        return "int32"
    return dtypes.standardize_dtype(a.dtype)


def device_of(*xs):
    """"gpu" when any argument is a CuPy array (or a Tensor over one), else "cpu"."""
    for x in xs:
        data = x.data if isinstance(x, Tensor) else x
        if hasattr(data, "shape") and backend.device_of(data) == "gpu":
            return "gpu"
    return "cpu"


def to_tensor(x, dtype=None, device=None) -> Tensor:
    """``x`` as an engine Tensor (cast, differentiably, to ``dtype`` when given)."""
    if isinstance(x, Tensor):
        t = x
    elif isinstance(x, np.generic):
        t = Tensor(np.asarray(x))
    elif hasattr(x, "shape") and hasattr(x, "dtype"):
        t = Tensor(x)
    else:
        scalar = type(x) in _PYTHON_SCALARS
        default = dtypes.result_type(dtype_of(x)) if scalar else _list_dtype(np.asarray(x))
        t = Tensor(np.asarray(x, dtype=dtypes.standardize_dtype(dtype or default)))
    if device == "gpu" and t.device == "cpu":
        t = t.to("gpu")
    if dtype is not None and t.dtype != np.dtype(dtypes.standardize_dtype(dtype)):
        t = E.cast(t, dtypes.standardize_dtype(dtype))
    return t


def tensors(*xs, dtype=None):
    """Every argument as a Tensor on one device, all cast to ``dtype`` when given."""
    device = device_of(*xs)
    return [to_tensor(x, dtype, device) for x in xs]


def xp_of(*ts):
    return backend.get_array_module(*[t.data for t in ts])


def wrap(array) -> Tensor:
    """A Tensor over a computed array (no gradient: integer, boolean or piecewise results)."""
    return Tensor(array)


def same(*ds):
    """The promoted dtype of the operands (Keras's result_type)."""
    return dtypes.result_type(*ds)


def floating(*ds):
    """The promoted dtype, but at least floating (integers and bools give ``floatx()``)."""
    return dtypes.result_type(*ds, float)


def boolean(*ds):
    return "bool"


def summed(d):
    """``sum``/``prod``'s dtype: small ints and bools widen to 32 bits, as Keras."""
    d = dtypes.standardize_dtype(d) if d not in (int, float, bool) else dtypes.result_type(d)
    if d in ("bool", "int8", "int16"):
        return "int32"
    if d in ("uint8", "uint16"):
        return "uint32"
    return d
