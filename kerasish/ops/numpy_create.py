"""``keras.ops.numpy``'s tensor constructors: constants, ranges, grids, matrices and windows.

Without ``dtype`` they follow Keras: ``floatx()`` for constants and windows, and for ranges the
promoted type of the arguments (``arange(3)`` is int32, ``arange(0.0, 3)`` float32).
``linspace``, ``logspace`` and ``geomspace`` are differentiable in ``start`` and ``stop``.
"""
from __future__ import annotations

import math

import numpy as np

from engine import ops as E
from engine.ops._utils import normalize_axis

from .. import config, dtypes
from ..symbolic import KerasTensor
from ._convert import dtype_of, floating, same, tensors, to_tensor, wrap, xp_of
from ._symbolic import _shape, broadcast_shapes, keras_op


def _shape_of(shape):
    return (int(shape),) if np.ndim(shape) == 0 else tuple(int(d) for d in shape)


def _new(array):
    """A new constant tensor, on the device of ``kerasish.config.device()``."""
    t = wrap(array)
    return t.to("gpu") if config.device() == "gpu" else t


def _floatx(dtype):
    return dtypes.standardize_dtype(dtype or config.floatx())


def _constant(xp_name):
    def make(shape, dtype=None):
        return _new(getattr(np, xp_name)(_shape_of(shape), dtype=_floatx(dtype)))

    make.__name__ = make.__qualname__ = xp_name
    make.__doc__ = f"A new tensor of ``shape`` filled like ``numpy.{xp_name}`` (``floatx()``)."
    return make


zeros, ones, empty = _constant("zeros"), _constant("ones"), _constant("empty")


def full(shape, fill_value, dtype=None):
    """A new tensor of ``shape`` filled with ``fill_value`` (``floatx()`` unless ``dtype``)."""
    value = to_tensor(fill_value).data
    return _new(np.broadcast_to(np.asarray(value, dtype=_floatx(dtype)), _shape_of(shape)).copy())


def _like_spec(x, *args, dtype=None):
    return KerasTensor(_shape(x), dtype=dtypes.standardize_dtype(dtype or dtype_of(x)))


def _like(name):
    @keras_op(spec=_like_spec)
    def make(x, dtype=None):
        (t,) = tensors(x)
        xp = xp_of(t)
        return wrap(getattr(xp, name)(t.shape, dtype=dtypes.standardize_dtype(dtype or t.dtype)))

    make.__name__ = make.__qualname__ = f"{name}_like"
    make.__doc__ = f"A new tensor of ``x``'s shape (and dtype unless given), as ``{name}``."
    return make


zeros_like, ones_like, empty_like = _like("zeros"), _like("ones"), _like("empty")


@keras_op(spec=_like_spec)
def full_like(x, fill_value, dtype=None):
    """A new tensor of ``x``'s shape (and dtype unless given) filled with ``fill_value``."""
    (t,) = tensors(x)
    return wrap(xp_of(t).full(t.shape, to_tensor(fill_value).numpy(),
                              dtype=dtypes.standardize_dtype(dtype or t.dtype)))


def array(x, dtype=None):
    """``x`` as a tensor (lists become float32 or int32, as ``keras.ops.convert_to_tensor``)."""
    return to_tensor(x, dtype=None if dtype is None else dtypes.standardize_dtype(dtype))


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in ``[start, stop)``; the dtype promotes its arguments' types."""
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    if dtype is None:
        dtype = dtypes.result_type(*(dtype_of(v) for v in (start, stop, step)))
    return _new(np.arange(start, stop, step, dtype=dtypes.standardize_dtype(dtype)))


def eye(N, M=None, k=0, dtype=None):
    """A 2-D tensor with ones on the ``k``-th diagonal."""
    return _new(np.eye(N, M, k, dtype=_floatx(dtype)))


def identity(n, dtype=None):
    """The ``n`` by ``n`` identity matrix."""
    return _new(np.identity(n, dtype=_floatx(dtype)))


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the ``k``-th diagonal, zeros above."""
    return _new(np.tri(N, M, k, dtype=_floatx(dtype)))


def _window(name):
    def make(x):
        return _new(getattr(np, name)(int(x)).astype(config.floatx()))

    make.__name__ = make.__qualname__ = name
    make.__doc__ = f"The {name.title()} window of ``x`` points, as ``numpy.{name}``."
    return make


bartlett, blackman, hamming, hanning = (_window(n) for n in (
    "bartlett", "blackman", "hamming", "hanning"))


def kaiser(x, beta):
    """The Kaiser window of ``x`` points with shape parameter ``beta``."""
    return _new(np.kaiser(int(x), float(beta)).astype(config.floatx()))


# -- ranges differentiable in their ends --------------------------------------------------------

def _space_spec(start, stop, num=50, endpoint=True, *args, dtype=None, axis=0, **kwargs):
    shape = broadcast_shapes(_shape(start), _shape(stop))
    a = normalize_axis(axis, len(shape) + 1)[0]
    return KerasTensor(shape[:a] + (num,) + shape[a:],
                       dtype=dtype or floating(dtype_of(start), dtype_of(stop)))


def _linspace(start, stop, num, endpoint, axis, dtype):
    """``(values, step)``: ``num`` points from ``start`` to ``stop`` placed along ``axis``."""
    lo, hi = tensors(start, stop, dtype=floating(dtype_of(start), dtype_of(stop)))
    shape = broadcast_shapes(lo.shape, hi.shape)
    a = normalize_axis(axis, len(shape) + 1)[0]
    div = (num - 1) if endpoint else num
    xp = xp_of(lo)
    frac = (xp.arange(num) / div if div > 0 else xp.zeros(num)).astype(lo.dtype)
    frac = frac.reshape((1,) * a + (num,) + (1,) * (len(shape) - a))
    lo_, hi_ = (E.expand_dims(E.broadcast_to(t, shape), a) for t in (lo, hi))
    span = E.subtract(hi_, lo_)
    y = E.add(lo_, E.multiply(span, frac))
    if endpoint and num > 1:  # NOTE: the last point is exactly `stop`, as NumPy's
        last = xp.arange(num).reshape(frac.shape) == num - 1
        y = E.where(last, E.broadcast_to(hi_, y.shape), y)
    step = E.divide(span, div) if div > 0 else None
    if dtype is not None:
        y = E.cast(y, dtypes.standardize_dtype(dtype))
    return y, step


@keras_op(spec=_space_spec)
def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """``num`` evenly spaced points from ``start`` to ``stop`` (and the step with ``retstep``)."""
    y, step = _linspace(start, stop, num, endpoint, axis, dtype)
    if retstep:
        return y, (E.squeeze(step, axis) if step is not None else wrap(np.asarray(np.nan)))
    return y


@keras_op(spec=_space_spec)
def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """``base ** linspace(start, stop)``."""
    y, _ = _linspace(start, stop, num, endpoint, axis, None)
    y = E.exp(E.multiply(y, math.log(base)))
    return y if dtype is None else E.cast(y, dtypes.standardize_dtype(dtype))


@keras_op(spec=_space_spec)
def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` points from ``start`` to ``stop`` evenly spaced on a log scale (same signs)."""
    lo, hi = tensors(start, stop, dtype=floating(dtype_of(start), dtype_of(stop)))
    sign = E.sign(lo)
    y, _ = _linspace(E.log(E.abs(lo)), E.log(E.abs(hi)), num, endpoint, axis, None)
    shape = broadcast_shapes(lo.shape, hi.shape)
    a = normalize_axis(axis, len(shape) + 1)[0]
    y = E.multiply(E.expand_dims(E.broadcast_to(sign, shape), a), E.exp(y))
    return y if dtype is None else E.cast(y, dtypes.standardize_dtype(dtype))


def _vander_spec(x, N=None, increasing=False):
    n = _shape(x)[0]
    return KerasTensor((n, n if N is None else N), dtype=same(dtype_of(x)))


@keras_op(spec=_vander_spec)
def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-D ``x``: columns ``x ** (N-1), ..., x ** 0``."""
    (t,) = tensors(x)
    n = t.shape[0] if N is None else int(N)
    powers = np.arange(n) if increasing else np.arange(n)[::-1]
    if t.dtype.kind not in "fc":
        return wrap(xp_of(t).asarray(t.data)[:, None] ** xp_of(t).asarray(powers))
    xp = xp_of(t)
    return E.power(E.reshape(t, (-1, 1)), xp.asarray(powers.astype(t.dtype)))


__all__ = ["zeros", "ones", "empty", "full", "zeros_like", "ones_like", "empty_like", "full_like",
           "array", "arange", "eye", "identity", "tri", "bartlett", "blackman", "hamming",
           "hanning", "kaiser", "linspace", "logspace", "geomspace", "vander"]
