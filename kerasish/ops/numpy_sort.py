"""``keras.ops.numpy``'s sorting, searching and set functions.

``sort`` is differentiable (a gather by ``argsort``: the gradient goes back to where each entry
came from); indices, positions and set operations are integers or booleans, without gradient.
"""
from __future__ import annotations

import numpy as np

from engine import ops as E

from ..symbolic import KerasTensor
from ._convert import dtype_of, same, tensors, wrap, xp_of
from ._symbolic import _shape, keras_op


def _t(x):
    return tensors(x)[0]


def _kt(shape, x, dtype=None):
    return KerasTensor(shape, dtype=dtype or same(dtype_of(x)))


def _int32(array):
    return wrap(array.astype(np.int32))


# -- sorting and searching ----------------------------------------------------------------------

def _argsort_array(t, axis):
    xp = xp_of(t)
    if axis is None:
        return xp.argsort(t.data.reshape(-1), kind="stable")
    return xp.argsort(t.data, axis=axis, kind="stable")


@keras_op(spec=lambda x, axis=-1: _kt(_shape(x), x))
def sort(x, axis=-1):
    """``x`` sorted along ``axis`` (the gradient goes back to where each entry came from)."""
    t = _t(x)
    if axis is None:
        t, axis = E.reshape(t, (-1,)), -1
    return E.take_along_axis(t, _argsort_array(t, axis), axis=axis)


@keras_op(spec=lambda x, axis=-1: _kt(_shape(x) if axis is not None else (None,), x, "int32"))
def argsort(x, axis=-1):
    """The indices that sort ``x`` along ``axis`` (a stable sort; int32)."""
    return _int32(_argsort_array(_t(x), axis))


@keras_op(spec=lambda x, kth, axis=-1: _kt(_shape(x), x, "int32"))
def argpartition(x, kth, axis=-1):
    """Indices that put the ``kth`` entry where sorting would, smaller ones before it (int32)."""
    t = _t(x)
    return _int32(xp_of(t).argpartition(t.data, kth, axis=axis))


@keras_op(spec=lambda sorted_sequence, values, side="left": _kt(_shape(values), values, "int32"))
def searchsorted(sorted_sequence, values, side="left"):
    """Where ``values`` would go in the 1-D ``sorted_sequence`` to keep it sorted (int32)."""
    s, v = tensors(sorted_sequence, values)
    if s.ndim != 1:
        raise ValueError("searchsorted: `sorted_sequence` must be 1-D. "
                         f"Received: sorted_sequence.shape={s.shape}")
    return _int32(xp_of(s).searchsorted(s.data, v.data, side=side))


@keras_op(spec=lambda x, bins: _kt(_shape(x), x, "int32"))
def digitize(x, bins):
    """The index of the bin of ``bins`` (increasing edges) each value of ``x`` falls in."""
    t, b = tensors(x, bins)
    return _int32(xp_of(t).digitize(t.data, b.data))


@keras_op(spec=lambda x: tuple(KerasTensor((None,), dtype="int32") for _ in _shape(x)))
def nonzero(x):
    """The indices of the non-zero entries, one int32 tensor per axis."""
    t = _t(x)
    return tuple(_int32(i) for i in xp_of(t).nonzero(t.data))


def _unique_spec(x, sorted=True, return_index=False, return_inverse=False,
                 return_counts=False, axis=None, size=None, fill_value=None):
    values = _kt((size,) if axis is None else _shape(x), x)
    extra = [KerasTensor((size,), dtype="int32") if f else None
             for f in (return_index, return_inverse, return_counts)]
    if return_inverse:
        extra[1] = KerasTensor(_shape(x) if axis is None else (_shape(x)[axis],), dtype="int32")
    extra = [e for e in extra if e is not None]
    return (values, *extra) if extra else values


@keras_op(spec=_unique_spec)
def unique(x, sorted=True, return_index=False, return_inverse=False, return_counts=False,
           axis=None, size=None, fill_value=None):
    """The distinct values of ``x`` (sorted), optionally with first indices, the inverse map and
    counts; ``size`` pads (with ``fill_value``) or cuts the results to a fixed length."""
    t = _t(x)
    xp = xp_of(t)
    out = xp.unique(t.data, return_index=return_index, return_inverse=return_inverse,
                    return_counts=return_counts, axis=axis)
    out = list(out) if isinstance(out, tuple) else [out]
    if return_inverse:
        inv = 1 + return_index
        out[inv] = out[inv].reshape(t.shape if axis is None else (t.shape[axis],))
    if size is not None:
        for i, a in enumerate(out):
            if i == 1 + return_index and return_inverse:
                continue
            pad = size - a.shape[0]
            if pad > 0:
                fill = 0 if fill_value is None or i > 0 else fill_value
                a = xp.concatenate([a, xp.full((pad,) + a.shape[1:], fill, dtype=a.dtype)])
            out[i] = a[:size]
    out = [wrap(a) if i == 0 else _int32(a) for i, a in enumerate(out)]
    return tuple(out) if len(out) > 1 else out[0]


@keras_op(spec=lambda indices, shape: tuple(_kt(_shape(indices), indices, "int32")
                                            for _ in shape))
def unravel_index(indices, shape):
    """Flat ``indices`` as one tensor of coordinates per axis of ``shape``."""
    i = _t(indices)
    return tuple(_int32(c) for c in xp_of(i).unravel_index(i.data, tuple(shape)))


@keras_op(spec=lambda x1, x2, assume_unique=False, invert=False: _kt(_shape(x1), x1, "bool"))
def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each entry of ``x1`` appears in ``x2`` (or does not, with ``invert``)."""
    a, b = tensors(x1, x2)
    return wrap(xp_of(a).isin(a.data, b.data, assume_unique=assume_unique, invert=invert))


__all__ = ["sort", "argsort", "argpartition", "searchsorted", "digitize", "nonzero", "unique",
           "unravel_index", "isin"]
