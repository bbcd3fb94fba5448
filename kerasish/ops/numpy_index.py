"""``keras.ops.numpy``'s indexing, diagonals and triangles, differences, selections, grids, and
facts about a tensor (``ndim``, ``size``, ``view``, ``vectorize``).

Gathers (``take``, ``get_item``, ``diagonal``) are differentiable: the gradient is scattered
back.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from engine import ops as E
from engine.ops._utils import normalize_axis

from ..symbolic import KerasTensor, is_keras_tensor
from ._convert import dtype_of, same, summed, tensors, to_tensor, wrap, xp_of
from ._symbolic import _shape, broadcast_shapes, keras_op


def _t(x):
    return tensors(x)[0]


def _kt(shape, x, dtype=None):
    return KerasTensor(shape, dtype=dtype or same(dtype_of(x)))


def _int32(array):
    return wrap(array.astype(np.int32))


# -- indexing ---------------------------------------------------------------------------------

def _slice_length(d, s):
    if d is not None:
        return len(range(d)[s])
    ints = all(v is None or isinstance(v, int) and v >= 0 for v in (s.start, s.stop))
    if ints and s.stop is not None and (s.step or 1) > 0:
        return len(range(s.start or 0, s.stop, s.step or 1))
    return None


def _getitem_shape(shape, key):
    """The shape of ``x[key]`` for ints, slices, None, Ellipsis and one integer array."""
    key = key if isinstance(key, tuple) else (key,)
    real = sum(1 for k in key if k is not None and k is not Ellipsis)
    if real > len(shape):
        raise IndexError(f"get_item: too many indices for a tensor of rank {len(shape)}. "
                         f"Received: key={key}")
    fill = (slice(None),) * (len(shape) - real)
    if any(k is Ellipsis for k in key):
        i = next(i for i, k in enumerate(key) if k is Ellipsis)
        key = key[:i] + fill + key[i + 1:]
    else:
        key = key + fill
    out, dims = [], iter(shape)
    for k in key:
        if k is None:
            out.append(1)
        elif isinstance(k, numbers.Integral):
            next(dims)
        elif isinstance(k, slice):
            out.append(_slice_length(next(dims), k))
        else:
            next(dims)
            index_shape = _shape(k)
            if dtype_of(k) == "bool":
                out.append(None)
                for _ in index_shape[1:]:
                    next(dims)
            else:
                out.extend(index_shape)
    return tuple(out)


def _key(key):
    """A list holding slices, None or Ellipsis is a tuple key (a saved config's JSON list)."""
    if isinstance(key, list) and any(k is None or k is Ellipsis or isinstance(k, slice)
                                     for k in key):
        return tuple(key)
    return key


def _get_item_spec(x, key):
    return _kt(_getitem_shape(_shape(x), _key(key)), x)


@keras_op(spec=_get_item_spec)
def get_item(x, key):
    """``x[key]``: ints, slices, None, Ellipsis, integer arrays and boolean masks."""
    return E.getitem(_t(x), _key(key))


def _take_spec(x, indices, axis=None):
    ind = _shape(indices)
    if axis is None:
        return _kt(ind, x)
    shape = _shape(x)
    (a,) = normalize_axis(axis, len(shape), "take")
    return _kt(shape[:a] + ind + shape[a + 1:], x)


@keras_op(spec=_take_spec)
def take(x, indices, axis=None):
    """Entries of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` if None)."""
    t = _t(x)
    i = to_tensor(indices, device=t.device) if not isinstance(indices, numbers.Integral) else (
        indices)
    return E.take(t, i, axis=axis)


def _take_along_spec(x, indices, axis=None):
    if axis is None:
        return _kt(_shape(indices), x)
    shape, ind = _shape(x), _shape(indices)
    (a,) = normalize_axis(axis, len(shape), "take_along_axis")
    out = broadcast_shapes(shape[:a] + (1,) + shape[a + 1:], ind[:a] + (1,) + ind[a + 1:])
    return _kt(out[:a] + (ind[a],) + out[a + 1:], x)


@keras_op(spec=_take_along_spec)
def take_along_axis(x, indices, axis=None):
    """Entries of ``x`` at ``indices`` matched along ``axis`` (``numpy.take_along_axis``)."""
    t = _t(x)
    return E.take_along_axis(t, to_tensor(indices, device=t.device), axis=axis)


# -- diagonals and triangles ------------------------------------------------------------------

def _diagonal_shape(shape, offset, axis1, axis2):
    a, b = axis1 % len(shape), axis2 % len(shape)
    n, m = shape[a], shape[b]
    if n is None or m is None:
        k = None
    else:
        k = max(0, min(n, m - offset) if offset >= 0 else min(n + offset, m))
    return tuple(d for i, d in enumerate(shape) if i not in (a, b)) + (k,)


@keras_op(spec=lambda x, offset=0, axis1=0, axis2=1: _kt(
    _diagonal_shape(_shape(x), offset, axis1, axis2), x))
def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal at ``offset`` of the planes ``(axis1, axis2)``, as the last axis."""
    t = _t(x)
    a, b = axis1 % t.ndim, axis2 % t.ndim
    rest = [i for i in range(t.ndim) if i not in (a, b)]
    moved = E.transpose(t, tuple(rest) + (a, b))
    k = _diagonal_shape(t.shape, offset, a, b)[-1]
    xp = xp_of(t)
    rows = xp.arange(k) + max(-offset, 0)
    return moved[(Ellipsis, rows, rows + offset)]


@keras_op(spec=lambda x, offset=0, axis1=0, axis2=1: _kt(
    _diagonal_shape(_shape(x), offset, axis1, axis2)[:-1], x, summed(dtype_of(x))))
def trace(x, offset=0, axis1=0, axis2=1):
    """The sum of the diagonal at ``offset`` of the planes ``(axis1, axis2)``."""
    (t,) = tensors(x, dtype=summed(dtype_of(x)))
    return E.sum(diagonal(t, offset, axis1, axis2), axis=-1)


def _diag_spec(x, k=0):
    shape = _shape(x)
    if len(shape) == 1:
        n = None if shape[0] is None else shape[0] + abs(k)
        return _kt((n, n), x)
    return _kt(_diagonal_shape(shape, k, 0, 1), x)


def _diag_matrix(t, k):
    """The square matrix with the 1-D ``t`` on its ``k``-th diagonal (differentiable)."""
    xp, n = xp_of(t), t.shape[0]
    size = n + abs(k)
    rows = xp.zeros((n, size), dtype=t.dtype)
    cols = xp.zeros((n, size), dtype=t.dtype)
    i = xp.arange(n)
    rows[i, i + max(-k, 0)] = 1
    cols[i, i + max(k, 0)] = 1
    return E.matmul(E.transpose(rows), E.multiply(E.reshape(t, (n, 1)), cols))


@keras_op(spec=_diag_spec)
def diag(x, k=0):
    """A 1-D ``x`` on the ``k``-th diagonal of a square matrix, or the diagonal of a 2-D ``x``."""
    t = _t(x)
    if t.ndim == 1:
        return _diag_matrix(t, k)
    if t.ndim != 2:
        raise ValueError(f"diag: `x` must be 1-D or 2-D. Received: x.shape={t.shape}")
    return diagonal(t, k)


@keras_op(spec=lambda x, k=0: _diag_spec(KerasTensor((None if None in _shape(x) else math.prod(
    _shape(x)),), dtype=same(dtype_of(x))), k))
def diagflat(x, k=0):
    """The flattened ``x`` on the ``k``-th diagonal of a square matrix."""
    return _diag_matrix(E.reshape(_t(x), (-1,)), k)


def _triangle(name, lower):
    def op(x, k=0):
        t = _t(x)
        xp = xp_of(t)
        n, m = t.shape[-2:]
        keep = xp.tri(n, m, k, dtype=bool) if lower else ~xp.tri(n, m, k - 1, dtype=bool)
        if t.dtype.kind not in "fc":
            return wrap(xp.where(keep, t.data, 0).astype(t.dtype))
        return E.where(keep, t, 0.0)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"The {'lower' if lower else 'upper'} triangle of the last two axes "
                  f"({'below' if lower else 'above'} the ``k``-th diagonal), zeros elsewhere.")
    return keras_op(spec=lambda x, k=0: _kt(_shape(x), x))(op)


tril, triu = _triangle("tril", True), _triangle("triu", False)


# -- differences, selections, grids -------------------------------------------------------------

def _diff_spec(a, n=1, axis=-1):
    shape = list(_shape(a))
    ax = axis % len(shape)
    shape[ax] = None if shape[ax] is None else max(shape[ax] - n, 0)
    return _kt(tuple(shape), a)


@keras_op(spec=_diff_spec)
def diff(a, n=1, axis=-1):
    """The ``n``-th discrete difference along ``axis``."""
    t = _t(a)
    (ax,) = normalize_axis(axis, t.ndim, "diff")
    lead = (slice(None),) * ax
    for _ in range(n):
        hi, lo = t[lead + (slice(1, None),)], t[lead + (slice(None, -1),)]
        t = E.not_equal(hi, lo) if t.dtype == bool else E.subtract(hi, lo)
    return t


def _select_spec(condlist, choicelist, default=0):
    shapes = [_shape(c) for c in list(condlist) + list(choicelist)] + [_shape(default)]
    return KerasTensor(broadcast_shapes(*shapes),
                       dtype=same(*[dtype_of(c) for c in choicelist]))


@keras_op(spec=_select_spec)
def select(condlist, choicelist, default=0):
    """Per entry, the choice of the first condition that holds (else ``default``)."""
    if len(condlist) != len(choicelist) or not condlist:
        raise ValueError("select: `condlist` and `choicelist` must be non-empty lists of one "
                         f"length. Received: {len(condlist)} conditions, {len(choicelist)} "
                         "choices")
    dtype = same(*[dtype_of(c) for c in choicelist])
    choices = tensors(*choicelist, dtype=dtype)
    conds = tensors(*condlist, dtype="bool")
    (y,) = tensors(default, dtype=dtype)
    for c, v in zip(reversed(conds), reversed(choices)):
        y = E.where(c, v, y)
    shape = broadcast_shapes(*[tuple(t.shape) for t in conds + choices])
    return y if tuple(y.shape) == shape else E.broadcast_to(y, shape)


def _meshgrid_shape(shapes, indexing):
    sizes = [math.prod(s) if None not in s else None for s in shapes]
    if indexing == "xy" and len(sizes) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    return tuple(sizes)


def _meshgrid_spec(*x, indexing="xy"):
    shape = _meshgrid_shape([_shape(t) for t in x], indexing)
    return [_kt(shape, t) for t in x]


@keras_op(spec=_meshgrid_spec)
def meshgrid(*x, indexing="xy"):
    """Coordinate grids from 1-D tensors (``"xy"``: Cartesian, ``"ij"``: matrix indexing)."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"meshgrid: `indexing` must be 'xy' or 'ij'. Received: {indexing!r}")
    ts = tensors(*x)
    shape = _meshgrid_shape([t.shape for t in ts], indexing)
    out = []
    for i, t in enumerate(ts):
        pos = {0: 1, 1: 0}.get(i, i) if indexing == "xy" and len(ts) >= 2 else i
        view = tuple(-1 if j == pos else 1 for j in range(len(ts)))
        out.append(E.broadcast_to(E.reshape(t, view), shape))
    return out


# -- facts about a tensor ---------------------------------------------------------------------

@keras_op(spec=lambda x: KerasTensor((), dtype="int32"))
def ndim(x):
    """The rank of ``x`` (a Python int)."""
    return len(_shape(x))


@keras_op(spec=lambda x: KerasTensor((), dtype="int32"))
def size(x):
    """The number of entries of ``x`` (a Python int)."""
    return math.prod(_shape(x))


def _view_spec(x, dtype=None):
    if dtype is None:
        return _kt(_shape(x), x)
    shape = list(_shape(x))
    old, new = np.dtype(dtype_of(x)).itemsize, np.dtype(dtype).itemsize
    if shape and shape[-1] is not None:
        shape[-1] = shape[-1] * old // new
    return KerasTensor(tuple(shape), dtype=np.dtype(dtype).name)


@keras_op(spec=_view_spec)
def view(x, dtype=None):
    """The bytes of ``x`` read as ``dtype`` (the last axis rescaled); no gradient."""
    t = _t(x)
    return t if dtype is None else wrap(t.data.view(np.dtype(dtype)))


def vectorize(pyfunc, *, excluded=None, signature=None):
    """``pyfunc`` applied entry by entry over its broadcast array arguments (NumPy's
    ``vectorize``); without gradient. Not for symbolic KerasTensors.

    >>> vectorize(lambda a, b: a + b)([1, 2], 2)
    """
    fn = np.vectorize(pyfunc, excluded=excluded or set(), signature=signature)

    def vectorized(*args, **kwargs):
        if any(is_keras_tensor(a) for a in list(args) + list(kwargs.values())):
            raise NotImplementedError("vectorize: a Python function applied per entry cannot "
                                      "run on a symbolic KerasTensor; wrap it in a Lambda layer.")
        plain = [np.asarray(a) if hasattr(a, "shape") else a for a in args]
        out = fn(*plain, **kwargs)
        return tuple(wrap(np.asarray(o)) for o in out) if isinstance(out, tuple) else wrap(
            np.asarray(out))

    return vectorized


__all__ = ["get_item", "take", "take_along_axis", "diagonal", "trace", "diag", "diagflat", "tril",
           "triu", "diff", "select", "meshgrid", "ndim", "size", "view", "vectorize"]
