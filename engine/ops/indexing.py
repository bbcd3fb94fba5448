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


_deterministic = False
_index_flags = {}  # device -> a bool array on it: an out-of-range index met in a replayed plan


def set_op_determinism(enabled: bool) -> None:
    """TensorFlow's ``enable_op_determinism``: the same bits run to run. Recorded only: the
    CPU's sums, the GPU's embedding gradient (a sorted segment sum) and cuDNN's backward
    (``engine/cudnn.py``) already are, as compiled plans need."""
    global _deterministic
    _deterministic = bool(enabled)


def op_determinism() -> bool:
    return _deterministic


def _host_checks(xp) -> bool:
    """Whether a check may read the device: always on the CPU, on a GPU only outside a replayed
    plan (a host read there would stall every step)."""
    from ..autograd import _state

    return xp is np or not getattr(_state, "replaying", False)


def _guard(xp, bad, y=None, lead=0):
    """The device-side guard of a replayed plan: ``bad`` (a bool array) is or-ed into the
    device's flag (read by ``raise_index_errors``), and ``y``'s entries at ``bad`` become NaN
    (floats; ``bad`` lines up with ``y``'s axes from ``lead`` on) so nothing wraps silently."""
    device = backend.device_of(bad)
    flag = _index_flags.get(device)
    if flag is None:
        flag = _index_flags[device] = xp.zeros((), dtype=bool)
    xp.logical_or(flag, bad.any(), out=flag)
    if y is not None and y.dtype.kind in "fc":
        bad = bad.reshape((1,) * lead + bad.shape + (1,) * (y.ndim - lead - bad.ndim))
        y = xp.where(bad, y.dtype.type(np.nan), y)
    return y


def flag_invalid(bad):
    """Flags the True entries of the device bool array ``bad`` as out-of-range ids without a
    host read (``raise_index_errors`` reports them); returns ``bad``."""
    _guard(backend.get_array_module(bad), bad)
    return bad


def raise_index_errors() -> None:
    """Raises if a replayed plan met an out-of-range index since the last call (one host read
    per device that ran a guarded plan), then clears the flags."""
    found = [d for d, flag in _index_flags.items() if bool(flag)]
    for flag in _index_flags.values():
        flag[...] = False
    if found:
        raise ValueError(
            "A step on the device met an index out of range (an embedding, class or label id "
            "beyond its table); the outputs at those positions were set to NaN (a metric "
            "counted no match). Run the steps eagerly on the CPU to see the op and the values. "
            f"Received: devices={found}")


def _check_indices(op, xp, indices, n, axis):
    """Raises on an index outside [-n, n); in a replayed plan on a GPU, returns the bool mask
    of bad indices instead (no host read) for ``_guard``, else None."""
    if indices.dtype.kind not in "iu":
        raise TypeError(f"{op}: indices must be integers. Received: indices.dtype={indices.dtype}")
    if not indices.size:
        return None
    bad = (indices < -n) | (indices >= n)
    if not _host_checks(xp):
        return bad
    # NOTE: one reduction and one host sync; CuPy would silently wrap bad indices otherwise.
    if bool(bad.any()):
        raise ValueError(
            f"{op}: indices must be in the range [{-n}, {n}) for axis {axis} of size {n}. "
            f"Received: indices with min={int(indices.min())}, max={int(indices.max())}"
        )
    return None


def _wrap_negative(xp, indices, n):
    idx = indices.astype(np.int64, copy=False)
    return xp.where(idx < 0, idx + n, idx) if indices.dtype.kind == "i" else idx


def _first_of_runs(xp, s):
    """Mask of the first element of each run of equal values in the 1-D array ``s``."""
    m = xp.empty(s.shape, dtype=bool)
    m[:1] = True
    xp.not_equal(s[1:], s[:-1], out=m[1:])
    return m


def _segment_sum_sorted(xp, flat, rows, n):
    """``rows`` (N, m) summed by ``flat`` (N,) into (n, m) in a fixed order: a stable sort, a
    segmented scan (log2 N steps), and each segment's last element written to its row. No
    atomics and no data-dependent shapes (no host sync)."""
    order = xp.argsort(flat, kind="stable")
    s, v = flat[order], rows[order]
    d = 1
    while d < s.size:
        add = xp.where((s[d:] == s[:-d])[:, None], v[:-d], v.dtype.type(0))
        v[d:] += add  # NOTE: ``add`` is a new array, computed from the values before this step
        d *= 2
    last = xp.empty(s.shape, dtype=bool)
    last[-1:] = True
    xp.not_equal(s[1:], s[:-1], out=last[:-1])
    out = xp.zeros((n + 1,) + rows.shape[1:], dtype=rows.dtype)
    out[xp.where(last, s, n)] = v  # one write per row; row n takes the rest and is dropped
    return out[:n]


def _scatter_add_rows(xp, flat, rows, n):
    """``rows`` (N, m) summed by ``flat`` (N,) into (n, m) on a GPU, in a fixed order.

    NOTE: always the sorted segment sum, never an atomic scatter-add: atomics sum in a
    different order each run, and a compiled plan is kept only when its replay equals an eager
    step bit for bit, so an embedding model would stay eager on the GPU for good."""
    return _segment_sum_sorted(xp, flat, rows, n)


_PASSES = 4  # CPU: repeats added by fancy-index passes before the rest goes to one add.at


def _take_grad(xp, gy, indices, shape, axis):
    """Gradient of ``take(x, indices, axis)``: ``gy`` scatter-added into zeros of ``shape``.

    On a GPU: one scatter-add (``_scatter_add_rows``), no host sync. On the CPU, NOTE: numpy's
    ``add.at`` over rows is slow (~60 ms for the W3 embedding (10000, 256), indices (64, 100)):
    the indices are sorted once, the first occurrence of every index is a plain row assignment
    and up to ``_PASSES`` repeats are added in passes, each a set with no repeated index; what
    is left (a padding id repeated hundreds of times) goes to one ``add.at``. Every row is then
    summed in the order of ``indices``, as ``add.at`` alone would.
    """
    n, pre, post = shape[axis], int(np.prod(shape[:axis])), int(np.prod(shape[axis + 1:]))
    flat = _wrap_negative(xp, indices, n).reshape(-1)
    g3 = gy.reshape(pre, flat.size, post)
    if xp is not np:
        rows = g3.transpose(1, 0, 2).reshape(flat.size, pre * post)
        gx = _scatter_add_rows(xp, xp.clip(flat, 0, n - 1), rows, n)
        return gx.reshape(n, pre, post).transpose(1, 0, 2).reshape(shape)
    gx = xp.zeros((pre, n, post), dtype=gy.dtype)
    if flat.size:
        order = xp.argsort(flat, kind="stable")
        first = _first_of_runs(xp, flat[order])
        sel = order[first]
        gx[:, flat[sel]] = g3[:, sel]
        rest = order[~first]
        for _ in range(_PASSES):
            if not rest.size:
                break
            first = _first_of_runs(xp, flat[rest])
            sel = rest[first]
            gx[:, flat[sel]] += g3[:, sel]
            rest = rest[~first]
        if rest.size:
            np.add.at(gx, (slice(None), flat[rest]), g3[:, rest])
    return gx.reshape(shape)


class Take(Function):
    def forward(self, xp, x, indices, axis):
        self.shape, self.axis, self.indices = x.shape, axis, indices
        flat = x.reshape(-1) if axis is None else x
        bad = _check_indices("take", xp, indices, flat.shape[axis or 0], axis)
        if bad is None:
            return xp.take(flat, indices, axis=axis or 0)
        y = xp.take(flat, xp.where(bad, 0, indices), axis=axis or 0)
        return _guard(xp, bad, y, lead=axis or 0)

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
        bad = _check_indices("take_along_axis", xp, indices, shape[ax], ax)
        if bad is not None:
            indices = xp.where(bad, 0, indices)
        # One linear index per output element; the other axes broadcast as numpy's do.
        strides = [int(np.prod(shape[d + 1:])) for d in range(flat.ndim)]
        lin = _wrap_negative(xp, indices, shape[ax]) * strides[ax]
        for d in range(flat.ndim):
            if d != ax:
                lin = lin + xp.arange(shape[d]).reshape(
                    [-1 if e == d else 1 for e in range(flat.ndim)]) * strides[d]
        self.lin = lin
        y = flat.reshape(-1)[lin]
        return y if bad is None else _guard(xp, xp.broadcast_to(bad, y.shape), y)

    def backward(self, xp, gy):
        size, lin, g = int(np.prod(self.shape)), self.lin.reshape(-1), gy.reshape(-1)
        if xp is np:
            gx = xp.zeros(size, dtype=gy.dtype)
            xp.add.at(gx, lin, g)
        else:
            gx = _scatter_add_rows(xp, lin, g[:, None], size)
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
