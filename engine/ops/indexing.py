"""Gathers (take = the embedding lookup, take_along_axis) with scatter-add backward; one_hot."""
from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np

from .. import backend
from ..autograd import Function
from ._utils import normalize_axis

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["take", "take_along_axis", "one_hot"]


def _indices_like(indices, x):
    """Indices as an integer array on ``x``'s device (Tensors pass through to ``apply``)."""
    from ..tensor import Tensor

    if isinstance(indices, Tensor):
        return indices
    xp = backend.get_array_module(x.data if isinstance(x, Tensor) else x)
    return xp.asarray(indices)


def _check_indices(op, xp, indices, n, axis):
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers. Received: indices.dtype={indices.dtype}")
    # NOTE: one reduction and one host sync; CuPy would silently wrap bad indices otherwise.
    if indices.size and bool(((indices < -n) | (indices >= n)).any()):
        raise ValueError(
            f"{op}: indices must be in the range [{-n}, {n}) for axis {axis} of size {n}. "
            f"Received: indices with min={int(indices.min())}, max={int(indices.max())}"
        )


def _wrap_negative(xp, indices, n):
    idx = indices.astype(np.int64, copy=False)
    return xp.where(idx < 0, idx + n, idx) if indices.dtype.kind == "i" else idx


def _first_of_runs(xp, s):
    """Mask of the first element of each run of equal values in the 1-D array ``s``."""
    m = xp.empty(s.shape, dtype=bool)
    m[:1] = True
    xp.not_equal(s[1:], s[:-1], out=m[1:])
    return m


def _take_grad(xp, gy, indices, shape, axis):
    """Gradient of ``take(x, indices, axis)``: ``gy`` scatter-added into zeros of ``shape``.

    NOTE: no ``add.at`` (numpy's is ~6 ms for the W3 embedding (10000, 256), indices
    (64, 100)). The indices are sorted once; the first occurrence of every index is a plain
    row assignment, and the repeats are added in passes, each a set with no repeated index
    (so a fancy-index ``+=`` is exact); passes = the largest multiplicity (~5 there), ~2x faster.
    """
    n, pre, post = shape[axis], int(np.prod(shape[:axis])), int(np.prod(shape[axis + 1:]))
    flat = _wrap_negative(xp, indices, n).reshape(-1)
    g3 = gy.reshape(pre, flat.size, post)
    gx = xp.zeros((pre, n, post), dtype=gy.dtype)
    if flat.size:
        order = xp.argsort(flat, kind="stable")
        first = _first_of_runs(xp, flat[order])
        sel = order[first]
        gx[:, flat[sel]] = g3[:, sel]
        rest = order[~first]
        while rest.size:
            first = _first_of_runs(xp, flat[rest])
            sel = rest[first]
            gx[:, flat[sel]] += g3[:, sel]
            rest = rest[~first]
    return gx.reshape(shape)


class Take(Function):
    def forward(self, xp, x, indices, axis):
        self.shape, self.axis, self.indices = x.shape, axis, indices
        flat = x.reshape(-1) if axis is None else x
        _check_indices("take", xp, indices, flat.shape[axis or 0], axis)
        return xp.take(flat, indices, axis=axis or 0)

    def backward(self, xp, gy):
        if self.axis is None:
            size = int(np.prod(self.shape))
            return _take_grad(xp, gy, self.indices, (size,), 0).reshape(self.shape), None
        return _take_grad(xp, gy, self.indices, self.shape, self.axis), None


def take(x, indices, axis=None) -> Tensor:
    """Takes the slices of ``x`` at ``indices`` along ``axis`` (the embedding lookup).

    Args:
        x: the tensor to gather from.
        indices: integer indices; negative ones count from the end.
        axis: the axis to gather along; None gathers from the flattened ``x``.

    Returns:
        Tensor of shape ``x.shape[:axis] + indices.shape + x.shape[axis + 1:]``.

    >>> take(Tensor([[1.0, 2.0], [3.0, 4.0]]), [1, 1, 0], axis=0).shape
    (3, 2)
    """
    ndim = len(x.shape) if hasattr(x, "shape") else np.ndim(x)
    if axis is not None:
        (axis,) = normalize_axis(axis, ndim, "take")
    return Take.apply(x, _indices_like(indices, x), axis=axis)


class TakeAlongAxis(Function):
    def forward(self, xp, x, indices, axis):
        self.shape = x.shape
        flat = x.reshape(-1) if axis is None else x
        if indices.ndim != flat.ndim:
            raise ValueError(
                f"take_along_axis: indices must have the rank of x ({flat.ndim}, flattened if "
                f"axis=None). Received: indices.shape={indices.shape}, x.shape={x.shape}"
            )
        ax, shape = axis or 0, flat.shape
        _check_indices("take_along_axis", xp, indices, shape[ax], ax)
        # One linear index per output element; the other axes broadcast as numpy's do.
        strides = [int(np.prod(shape[d + 1:])) for d in range(flat.ndim)]
        lin = _wrap_negative(xp, indices, shape[ax]) * strides[ax]
        for d in range(flat.ndim):
            if d != ax:
                lin = lin + xp.arange(shape[d]).reshape(
                    [-1 if e == d else 1 for e in range(flat.ndim)]) * strides[d]
        self.lin = lin
        return flat.reshape(-1)[lin]

    def backward(self, xp, gy):
        gx = xp.zeros(int(np.prod(self.shape)), dtype=gy.dtype)
        xp.add.at(gx, self.lin.reshape(-1), gy.reshape(-1))
        return gx.reshape(self.shape), None


def take_along_axis(x, indices, axis=None) -> Tensor:
    """Picks ``x`` at ``indices`` along ``axis`` (``numpy.take_along_axis``).

    Args:
        x: the tensor.
        indices: integer tensor with the rank of ``x``; other axes broadcast against ``x``.
        axis: the axis to pick along; None works on the flattened ``x`` (1-D indices).
    """
    ndim = len(x.shape) if hasattr(x, "shape") else np.ndim(x)
    if axis is not None:
        (axis,) = normalize_axis(axis, ndim, "take_along_axis")
    return TakeAlongAxis.apply(x, _indices_like(indices, x), axis=axis)


class OneHot(Function):
    def forward(self, xp, x, num_classes, axis, dtype):
        y = (x[..., None] == xp.arange(num_classes)).astype(dtype)
        return y if axis == x.ndim else xp.moveaxis(y, -1, axis)

    def backward(self, xp, gy):  # a constant of x: no gradient
        return (None,)


def one_hot(x, num_classes, axis=-1, dtype=None) -> Tensor:
    """One-hot encodes the integer tensor ``x``; indices outside [0, num_classes) give zeros.

    Args:
        x: integer tensor of class indices.
        num_classes: length of the new axis.
        axis: where the new axis goes in the result (default last).
        dtype: of the result; float32 by default.

    Returns:
        Tensor with shape ``x.shape`` plus a ``num_classes`` axis at ``axis`` (no gradient).
    """
    if not isinstance(num_classes, numbers.Integral) or num_classes <= 0:
        raise ValueError(
            f"one_hot: num_classes must be a positive int. Received: num_classes={num_classes}"
        )
    ndim = len(x.shape) if hasattr(x, "shape") else np.ndim(x)
    (axis,) = normalize_axis(axis, ndim + 1, "one_hot")
    return OneHot.apply(x, num_classes=int(num_classes), axis=axis,
                        dtype=np.dtype(dtype or np.float32))
