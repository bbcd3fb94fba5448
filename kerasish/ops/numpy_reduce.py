"""``keras.ops.numpy``'s reductions and statistics: sums, extremes, moments, order statistics,
their NaN-ignoring versions, cumulative sums and products, histograms.

Order statistics (``median``, ``quantile``, ``percentile``) sort the values (``take_along_axis``
of ``argsort``), so they are differentiable like Keras's on JAX: the gradient goes to the
one or two entries the result interpolates between.
"""
from __future__ import annotations

import builtins
import math

import numpy as np

from engine import ops as E
from engine.ops._utils import normalize_axis

from .. import dtypes
from ..symbolic import KerasTensor
from ._convert import dtype_of, floating, same, summed, tensors, to_tensor, wrap, xp_of
from ._symbolic import _shape, keras_op


def _reduced_shape(shape, axis, keepdims):
    axes = normalize_axis(axis, len(shape))
    return tuple(1 if i in axes else d for i, d in enumerate(shape) if keepdims or i not in axes)


def _reduce_spec(rule):
    def spec(x, axis=None, keepdims=False, *args, **kwargs):
        return KerasTensor(_reduced_shape(_shape(x), axis, keepdims), dtype=rule(dtype_of(x)))

    return spec


def _reduction(name, rule, f, doc):
    """``name(x, axis=None, keepdims=False)`` computing ``f(tensor, axis, keepdims)``."""

    def op(x, axis=None, keepdims=False):
        # NOTE: index and boolean results say nothing of the dtype to compute in
        out = rule(dtype_of(x))
        (t,) = tensors(x, dtype=None if rule in (_int32, _bool) else out)
        y = f(t, axis, keepdims)
        return y if y.dtype == out else E.cast(y, out)  # NumPy sums small ints as int64

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return keras_op(spec=_reduce_spec(rule))(op)


def _int32(d):
    return "int32"


def _bool(d):
    return "bool"


def _raw(method):
    return lambda t, axis, keepdims: wrap(getattr(xp_of(t), method)(
        t.data, axis=None if axis is None else normalize_axis(axis, t.ndim), keepdims=keepdims))


def _nan_filled(t, value):
    """``t`` with NaN replaced by ``value`` (the gradient flows to the other entries)."""
    if t.dtype.kind not in "fc":
        return t
    return E.where(xp_of(t).isnan(t.data), value, t)


def _not_nan_count(t, axis, keepdims):
    return wrap(xp_of(t).sum(~xp_of(t).isnan(t.data), axis=normalize_axis(axis, t.ndim),
                             keepdims=keepdims).astype(t.dtype))


def _nanmean(t, axis, keepdims):
    return E.divide(E.sum(_nan_filled(t, 0.0), axis, keepdims), _not_nan_count(t, axis, keepdims))


def _nanvar(t, axis, keepdims):
    d = E.subtract(t, _nanmean(t, axis, True))
    return _nanmean(E.square(d), axis, keepdims)


_REDUCTIONS = {
    # name: (dtype rule, function of (tensor, axis, keepdims))
    "sum": (summed, E.sum), "prod": (summed, E.prod),
    "mean": (floating, E.mean), "var": (floating, E.var), "std": (floating, E.std),
    "amax": (same, E.max), "amin": (same, E.min),
    "argmax": (_int32, E.argmax), "argmin": (_int32, E.argmin),
    "all": (_bool, _raw("all")), "any": (_bool, _raw("any")),
    "ptp": (same, lambda t, a, k: E.subtract(E.max(t, a, k), E.min(t, a, k))),
    "nansum": (summed, lambda t, a, k: E.sum(_nan_filled(t, 0.0), a, k)),
    "nanprod": (summed, lambda t, a, k: E.prod(_nan_filled(t, 1.0), a, k)),
    "nanmax": (same, lambda t, a, k: E.max(_nan_filled(t, -np.inf), a, k)),
    "nanmin": (same, lambda t, a, k: E.min(_nan_filled(t, np.inf), a, k)),
    "nanargmax": (_int32, lambda t, a, k: E.argmax(_nan_filled(t, -np.inf), a, k)),
    "nanargmin": (_int32, lambda t, a, k: E.argmin(_nan_filled(t, np.inf), a, k)),
    "nanmean": (floating, _nanmean), "nanvar": (floating, _nanvar),
    "nanstd": (floating, lambda t, a, k: E.sqrt(_nanvar(t, a, k))),
}

for _name, (_rule, _f) in _REDUCTIONS.items():
    globals()[_name] = _reduction(_name, _rule, _f,
                                  f"``keras.ops.{_name}(x, axis=None, keepdims=False)``.")
_prod = globals()["prod"]


def _prod_spec(x, axis=None, keepdims=False, dtype=None):
    spec = _reduce_spec(summed)(x, axis, keepdims)
    return spec if dtype is None else KerasTensor(spec.shape, dtype=dtypes.standardize_dtype(
        dtype))


@keras_op(spec=_prod_spec)
def prod(x, axis=None, keepdims=False, dtype=None):
    """The product of the entries along ``axis`` (in ``dtype`` when given)."""
    y = _prod(x, axis, keepdims)
    return y if dtype is None else E.cast(y, dtypes.standardize_dtype(dtype))


def _extreme_spec(x, axis=None, keepdims=False, initial=None):
    return _reduce_spec(same)(x, axis, keepdims)


@keras_op(spec=_extreme_spec)
def max(x, axis=None, keepdims=False, initial=None):
    """The largest entry along ``axis``, at least ``initial`` when given."""
    (t,) = tensors(x)
    y = E.max(t, axis, keepdims)
    return y if initial is None else E.maximum(y, initial)


@keras_op(spec=_extreme_spec)
def min(x, axis=None, keepdims=False, initial=None):
    """The smallest entry along ``axis``, at most ``initial`` when given."""
    (t,) = tensors(x)
    y = E.min(t, axis, keepdims)
    return y if initial is None else E.minimum(y, initial)


def _count_spec(x, axis=None):
    return KerasTensor(_reduced_shape(_shape(x), axis, False), dtype="int32")


@keras_op(spec=_count_spec)
def count_nonzero(x, axis=None):
    """How many entries along ``axis`` are not zero (int32)."""
    (t,) = tensors(x)
    return wrap(xp_of(t).count_nonzero(t.data, axis=normalize_axis(axis, t.ndim))
                .astype(np.int32).reshape(_reduced_shape(t.shape, axis, False)))


def _average_spec(x, axis=None, weights=None):
    rule = floating if weights is None else (lambda d: floating(d, dtype_of(weights)))
    return _reduce_spec(rule)(x, axis)


@keras_op(spec=_average_spec)
def average(x, axis=None, weights=None):
    """The mean along ``axis``, weighted by ``weights`` (1-D along ``axis``, or ``x``'s shape)."""
    if weights is None:
        (t,) = tensors(x, dtype=floating(dtype_of(x)))
        return E.mean(t, axis)
    t, w = tensors(x, weights, dtype=floating(dtype_of(x), dtype_of(weights)))
    if w.ndim == 1 and t.ndim > 1 and axis is not None:
        (a,) = normalize_axis(axis, t.ndim, "average")
        w = E.reshape(w, tuple(-1 if i == a else 1 for i in range(t.ndim)))
    return E.divide(E.sum(E.multiply(t, w), axis), E.sum(E.broadcast_to(w, t.shape), axis))


# -- order statistics -------------------------------------------------------------------------

_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile_tensor(t, q, axis, method, keepdims, ignore_nan, name):
    """Quantiles ``q`` (in [0, 1]) of ``t`` along ``axis``; q's axes lead the result."""
    if method not in _METHODS:
        raise ValueError(f"{name}: `method` must be one of {_METHODS}. Received: method={method!r}")
    xp = xp_of(t)
    q = np.asarray(q.numpy() if hasattr(q, "numpy") else q, dtype=np.float64)
    if ((q < 0) | (q > 1)).any():
        raise ValueError(f"{name}: quantiles must be in [0, 1] (percentiles in [0, 100]). "
                         f"Received: q={q}")
    axes = normalize_axis(axis, t.ndim, name)
    rest = [i for i in range(t.ndim) if i not in axes]
    moved = E.transpose(t, tuple(rest) + axes)
    kept = tuple(t.shape[i] for i in rest)
    flat = E.reshape(moved, kept + (-1,))
    order = xp.argsort(flat.data, axis=-1, kind="stable")  # NOTE: NaNs sort last
    ordered = E.take_along_axis(flat, order, axis=-1)
    if ignore_nan:
        n = (~xp.isnan(flat.data)).sum(axis=-1, keepdims=True)
    else:
        n = xp.full(kept + (1,), flat.shape[-1])
    pos = xp.asarray(q.reshape(-1)) * xp.maximum(n - 1, 0)  # (..., len(q)) positions
    lo, hi = xp.floor(pos).astype(np.int64), xp.ceil(pos).astype(np.int64)
    if method == "lower":
        hi = lo
    elif method == "higher":
        lo = hi
    elif method == "nearest":
        lo = hi = xp.rint(pos).astype(np.int64)
    frac = 0.5 if method == "midpoint" else (pos - lo).astype(t.dtype)
    a, b = E.take_along_axis(ordered, lo, axis=-1), E.take_along_axis(ordered, hi, axis=-1)
    y = E.add(a, E.multiply(E.subtract(b, a), frac))
    if ignore_nan:  # an all-NaN slice gives NaN
        y = E.where(n == 0, np.nan, y)
    if keepdims:
        y = E.reshape(y, tuple(1 if i in axes else d for i, d in enumerate(t.shape)) + (-1,))
    y = E.reshape(y, y.shape[:-1] + q.shape)
    return E.transpose(y, tuple(range(y.ndim - q.ndim, y.ndim)) + tuple(range(y.ndim - q.ndim)))


def _quantile_spec(x, q, axis=None, method="linear", keepdims=False):
    q_shape = tuple(np.shape(q)) if not hasattr(q, "shape") else tuple(q.shape)
    return KerasTensor(q_shape + _reduced_shape(_shape(x), axis, keepdims),
                       dtype=floating(dtype_of(x)))


def _order_statistic(name, scale, ignore_nan):
    def op(x, q, axis=None, method="linear", keepdims=False):
        (t,) = tensors(x, dtype=floating(dtype_of(x)))
        q = np.asarray(q.numpy() if hasattr(q, "numpy") else q, dtype=np.float64) / scale
        return _quantile_tensor(t, q, axis, method, keepdims, ignore_nan, name)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"The {'percentiles' if scale == 100 else 'quantiles'} ``q`` of ``x`` along "
                  f"``axis`` (NumPy's methods){', NaNs left out' if ignore_nan else ''}.")
    return keras_op(spec=_quantile_spec)(op)


quantile = _order_statistic("quantile", 1, False)
percentile = _order_statistic("percentile", 100, False)
nanquantile = _order_statistic("nanquantile", 1, True)
nanpercentile = _order_statistic("nanpercentile", 100, True)


def _median_spec(x, axis=None, keepdims=False):
    return _reduce_spec(floating)(x, axis, keepdims)


@keras_op(spec=_median_spec)
def median(x, axis=None, keepdims=False):
    """The median along ``axis`` (the mean of the two middle values for an even count)."""
    (t,) = tensors(x, dtype=floating(dtype_of(x)))
    return _quantile_tensor(t, 0.5, axis, "linear", keepdims, False, "median")


@keras_op(spec=_median_spec)
def nanmedian(x, axis=None, keepdims=False):
    """The median along ``axis``, NaNs left out."""
    (t,) = tensors(x, dtype=floating(dtype_of(x)))
    return _quantile_tensor(t, 0.5, axis, "linear", keepdims, True, "nanmedian")


# -- cumulative -------------------------------------------------------------------------------

def _cumulative_dtype(d):
    return "int32" if d in ("bool", bool) else same(d)


def _cumulative_spec(x, axis=None, dtype=None):
    shape = _shape(x)
    if axis is None:
        shape = (None if None in shape else math.prod(shape),)
    return KerasTensor(shape, dtype=dtype or _cumulative_dtype(dtype_of(x)))


def _cumulative(name, f, fill):
    def op(x, axis=None, dtype=None):
        out = dtypes.standardize_dtype(dtype or _cumulative_dtype(dtype_of(x)))
        (t,) = tensors(x, dtype=out)
        if fill is not None:
            t = _nan_filled(t, fill)
        y = f(t, axis=axis)
        return y if y.dtype == out else E.cast(y, out)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"Cumulative {'sum' if 'sum' in name else 'product'} along ``axis`` (over the "
                  f"flattened tensor if None){', NaNs counted as ' + str(fill) if fill else ''}.")
    return keras_op(spec=_cumulative_spec)(op)


cumsum = _cumulative("cumsum", E.cumsum, None)
cumprod = _cumulative("cumprod", E.cumprod, None)
nancumsum = _cumulative("nancumsum", E.cumsum, 0.0)
nancumprod = _cumulative("nancumprod", E.cumprod, 1.0)


# -- counting ----------------------------------------------------------------------------------

def _histogram_spec(x, bins=10, range=None):
    return (KerasTensor((bins,), dtype="int32"), KerasTensor((bins + 1,), dtype=floating(
        dtype_of(x))))


@keras_op(spec=_histogram_spec)
def histogram(x, bins=10, range=None):
    """Counts of the values of the 1-D ``x`` in ``bins`` equal bins: ``(counts, edges)``."""
    (t,) = tensors(x)
    if t.ndim != 1:
        raise ValueError(f"histogram: the input tensor must be 1-dimensional. Received: "
                         f"x.shape={t.shape}")
    counts, edges = xp_of(t).histogram(t.data, bins=bins, range=range)
    return wrap(counts.astype(np.int32)), wrap(edges.astype(floating(dtype_of(x))))


def _bincount_spec(x, weights=None, minlength=0, sparse=False):
    dtype = "int32" if weights is None else dtype_of(weights)
    return KerasTensor(_shape(x)[:-1] + (None,), dtype=dtype)


@keras_op(spec=_bincount_spec)
def bincount(x, weights=None, minlength=0, sparse=False):
    """How often each non-negative integer appears in ``x`` (1-D, or per row of a 2-D ``x``)."""
    if sparse:
        raise NotImplementedError("bincount: sparse outputs need a sparse tensor type, which "
                                  "kerasish does not have. Received: sparse=True")
    (t,) = tensors(x)
    xp = xp_of(t)
    w = None if weights is None else to_tensor(weights).data
    length = builtins.max(int(t.data.max()) + 1 if t.size else 0, minlength)
    if t.ndim == 1:
        y = xp.bincount(t.data, weights=w, minlength=length)
    else:
        y = xp.stack([xp.bincount(row, weights=None if w is None else w[i], minlength=length)
                      for i, row in enumerate(t.data)])
    return wrap(y.astype(np.int32 if w is None else w.dtype))


# -- statistics of whole tensors ----------------------------------------------------------------

def _corrcoef_spec(x):
    n = _shape(x)[0] if len(_shape(x)) == 2 else 1
    return KerasTensor((n, n) if len(_shape(x)) == 2 else (), dtype=floating(dtype_of(x)))


@keras_op(spec=_corrcoef_spec)
def corrcoef(x):
    """Pearson correlation coefficients of the rows of ``x`` (variables by observations)."""
    (t,) = tensors(x, dtype=floating(dtype_of(x)))
    rows = E.reshape(t, (1, -1)) if t.ndim == 1 else t
    d = E.subtract(rows, E.mean(rows, axis=1, keepdims=True))
    c = E.matmul(d, E.transpose(d))
    s = E.sqrt(E.sum(E.square(d), axis=1))
    r = E.clip(E.divide(c, E.multiply(E.reshape(s, (-1, 1)), E.reshape(s, (1, -1)))), -1, 1)
    return E.reshape(r, ()) if t.ndim == 1 else r


def _trapezoid_spec(y, x=None, dx=1.0, axis=-1):
    shape = list(_shape(y))
    del shape[axis]
    return KerasTensor(tuple(shape), dtype=floating(dtype_of(y)))


@keras_op(spec=_trapezoid_spec)
def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of ``y`` along ``axis`` by the trapezoidal rule (at ``x``, or step ``dx``)."""
    (t,) = tensors(y, dtype=floating(dtype_of(y)))
    (a,) = normalize_axis(axis, t.ndim, "trapezoid")
    lead = (slice(None),) * a
    mid = E.multiply(E.add(t[lead + (slice(1, None),)], t[lead + (slice(None, -1),)]), 0.5)
    if x is None:
        return E.multiply(E.sum(mid, axis=a), dx)
    (xs,) = tensors(x, dtype=t.dtype)
    if xs.ndim == 1:
        steps = E.subtract(xs[1:], xs[:-1])
        steps = E.reshape(steps, tuple(-1 if i == a else 1 for i in range(t.ndim)))
    else:
        steps = E.subtract(xs[lead + (slice(1, None),)], xs[lead + (slice(None, -1),)])
    return E.sum(E.multiply(mid, steps), axis=a)


__all__ = sorted(list(_REDUCTIONS) + [
    "max", "min", "count_nonzero", "average", "quantile", "percentile", "nanquantile",
    "nanpercentile", "median", "nanmedian", "cumsum", "cumprod", "nancumsum", "nancumprod",
    "histogram", "bincount", "corrcoef", "trapezoid"])
