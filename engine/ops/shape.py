"""Shape ops: reshape, transpose, joins and splits, padding, tiling, casts, indexing, devices."""
from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np

from .. import backend
from ..autograd import Function
from ._utils import normalize_axis, unbroadcast
from .indexing import _scatter_add_rows, _take_grad

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = [
    "reshape", "transpose", "expand_dims", "squeeze", "broadcast_to", "concatenate", "stack",
    "split", "pad", "tile", "repeat", "flip", "cast", "getitem",
]


def _add_at(xp, out, index, values):
    """``out[index] += values`` with repeated indices summed (``np.add.at``). On a GPU, the
    sorted segment sum over flat positions: a fixed order, where atomics would change the
    bits run to run (and a compiled plan's bitwise check with them)."""
    if xp is np:
        np.add.at(out, index, values)
        return
    flat = xp.arange(out.size).reshape(out.shape)[index]
    values = xp.broadcast_to(values, flat.shape).reshape(flat.size, 1)
    out += _scatter_add_rows(xp, flat.reshape(-1), values, out.size).reshape(out.shape)


def _shape(x):
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _ints(value):
    return (int(value),) if isinstance(value, numbers.Integral) else tuple(int(v) for v in value)


class Reshape(Function):
    def forward(self, xp, x, shape):
        self.shape = x.shape
        return x.reshape(shape)

    def backward(self, xp, gy):
        return (gy.reshape(self.shape),)


def _resolve_shape(newshape, old):
    shape, size = list(_ints(newshape)), int(np.prod(old))
    unknown = [i for i, n in enumerate(shape) if n == -1]
    known = int(np.prod([n for n in shape if n != -1]))
    if len(unknown) == 1 and known > 0 and size % known == 0:
        shape[unknown[0]] = size // known
    if min(shape, default=0) < 0 or int(np.prod(shape)) != size:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {old} ({size} elements) into "
            f"{tuple(_ints(newshape))}. Received: newshape={newshape}"
        )
    return tuple(shape)


def reshape(x, newshape) -> Tensor:
    """Gives ``x`` a new shape with the same number of elements; one entry may be -1."""
    return Reshape.apply(x, shape=_resolve_shape(newshape, _shape(x)))


class Transpose(Function):
    def forward(self, xp, x, axes):
        self.inverse = tuple(np.argsort(axes))
        return xp.transpose(x, axes)

    def backward(self, xp, gy):
        return (xp.transpose(gy, self.inverse),)


def transpose(x, axes=None) -> Tensor:
    """Permutes the axes of ``x``; ``axes=None`` reverses them."""
    ndim = len(_shape(x))
    perm = tuple(range(ndim))[::-1] if axes is None else _ints(axes)
    if sorted(a % ndim if -ndim <= a < ndim else a + ndim for a in perm) != list(range(ndim)):
        raise ValueError(
            f"transpose: axes must be a permutation of the {ndim} axes of x. "
            f"Received: axes={axes}, x.shape={_shape(x)}"
        )
    return Transpose.apply(x, axes=tuple(a % ndim for a in perm))


def expand_dims(x, axis) -> Tensor:
    """Inserts axes of length 1 at the positions ``axis`` (an int or a tuple) of the result."""
    shape = _shape(x)
    axes = normalize_axis(axis, len(shape) + len(_ints(axis)), "expand_dims")
    rest = iter(shape)
    return Reshape.apply(x, shape=tuple(1 if a in axes else next(rest)
                                        for a in range(len(shape) + len(axes))))


def squeeze(x, axis=None) -> Tensor:
    """Removes axes of length 1: all of them, or those in ``axis`` (which must have length 1)."""
    shape = _shape(x)
    if axis is None:
        axes = tuple(a for a, n in enumerate(shape) if n == 1)
    else:
        axes = normalize_axis(axis, len(shape), "squeeze")
        if any(shape[a] != 1 for a in axes):
            raise ValueError(
                f"squeeze: can only squeeze axes of length 1. Received: axis={axis}, "
                f"x.shape={shape}"
            )
    return Reshape.apply(x, shape=tuple(n for a, n in enumerate(shape) if a not in axes))


class BroadcastTo(Function):
    def forward(self, xp, x, shape):
        self.shape = x.shape
        # NOTE: a read-only view, as numpy.broadcast_to; ops never write into their inputs.
        return xp.broadcast_to(x, shape)

    def backward(self, xp, gy):
        return (unbroadcast(gy, self.shape),)


def broadcast_to(x, shape) -> Tensor:
    """Broadcasts ``x`` to ``shape`` (numpy rules); the gradient is summed back."""
    old, shape = _shape(x), _ints(shape)
    lead = len(shape) - len(old)
    if lead < 0 or any(n not in (1, m) for n, m in zip(old, shape[lead:])):
        raise ValueError(
            f"broadcast_to: cannot broadcast a tensor of shape {old} to {shape}. "
            f"Received: shape={shape}"
        )
    return BroadcastTo.apply(x, shape=shape)


class Concatenate(Function):
    def forward(self, xp, *xs, axis):
        self.dtypes = [x.dtype for x in xs]
        self.bounds = np.cumsum([0] + [x.shape[axis] for x in xs])
        self.axis = axis
        return xp.concatenate(xs, axis=axis)

    def backward(self, xp, gy):
        lead = (slice(None),) * self.axis
        return tuple(
            gy[lead + (slice(a, b),)].astype(dt, copy=False) if need else None
            for a, b, dt, need in zip(self.bounds[:-1], self.bounds[1:], self.dtypes,
                                      self.needs_input_grad)
        )


def concatenate(xs, axis=0) -> Tensor:
    """Joins the tensors of the list ``xs`` along an existing axis."""
    shapes = [_shape(x) for x in xs]
    if not shapes:
        raise ValueError("concatenate: needs at least one tensor. Received: xs=[]")
    if len({len(s) for s in shapes}) != 1 or len(shapes[0]) == 0:
        raise ValueError(f"concatenate: all inputs must have the same rank (at least 1). "
                         f"Received: shapes={shapes}")
    (ax,) = normalize_axis(axis, len(shapes[0]), "concatenate")
    if len({s[:ax] + s[ax + 1:] for s in shapes}) != 1:
        raise ValueError(
            f"concatenate: all inputs must have the same shape except along axis {ax}. "
            f"Received: shapes={shapes}"
        )
    return Concatenate.apply(*xs, axis=ax)


class Stack(Function):
    def forward(self, xp, *xs, axis):
        self.dtypes, self.axis = [x.dtype for x in xs], axis
        return xp.stack(xs, axis=axis)

    def backward(self, xp, gy):
        lead = (slice(None),) * self.axis
        return tuple(gy[lead + (i,)].astype(dt, copy=False) if need else None
                     for i, (dt, need) in enumerate(zip(self.dtypes, self.needs_input_grad)))


def stack(x, axis=0) -> Tensor:
    """Joins the list of same-shape tensors ``x`` along a new axis."""
    shapes = [_shape(t) for t in x]
    if not shapes or len(set(shapes)) != 1:
        raise ValueError(f"stack: all inputs must have the same shape. Received: shapes={shapes}")
    (ax,) = normalize_axis(axis, len(shapes[0]) + 1, "stack")
    return Stack.apply(*x, axis=ax)


def split(x, indices_or_sections, axis=0) -> list:
    """Splits ``x`` along ``axis`` into equal sections (an int) or at the given indices.

    Returns:
        A list of tensors.
    """
    shape = _shape(x)
    (ax,) = normalize_axis(axis, len(shape), "split")
    n = shape[ax]
    if isinstance(indices_or_sections, numbers.Integral):
        k = int(indices_or_sections)
        if k <= 0 or n % k:
            raise ValueError(
                f"split: axis {ax} of length {n} cannot be split into {k} equal sections. "
                f"Received: indices_or_sections={indices_or_sections}, x.shape={shape}"
            )
        cuts = [n // k * i for i in range(1, k)]
    else:
        cuts = list(_ints(indices_or_sections))
    lead = (slice(None),) * ax
    return [getitem(x, lead + (slice(a, b),)) for a, b in zip([0] + cuts, cuts + [None])]


class Pad(Function):
    def forward(self, xp, x, widths, mode, constant_values):
        self.widths, self.shape = widths, x.shape
        if mode == "constant":
            self.maps = None
            return xp.pad(x, widths, mode="constant", constant_values=constant_values)
        # Per axis, the source index of every output position (pad is separable per axis).
        self.maps = [xp.pad(xp.arange(n), w, mode=mode) for n, w in zip(x.shape, widths)]
        return xp.pad(x, widths, mode=mode)

    def backward(self, xp, gy):
        inner = tuple(slice(b, b + n) for (b, _), n in zip(self.widths, self.shape))
        if self.maps is None:
            return (gy[inner],)
        g = gy
        for ax, ((b, a), n, src) in enumerate(zip(self.widths, self.shape, self.maps)):
            if b == a == 0:
                continue
            # The interior maps one-to-one; only the padded border positions scatter-add.
            gm = xp.moveaxis(g, ax, 0)
            out = gm[b:b + n].copy()
            border = xp.concatenate([xp.arange(b), xp.arange(b + n, b + n + a)])
            _add_at(xp, out, src[border], gm[border])
            g = xp.moveaxis(out, 0, ax)
        return (g,)


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(x, pad_width, mode="constant", constant_values=None) -> Tensor:
    """Pads ``x`` as ``numpy.pad`` does.

    Args:
        x: the tensor.
        pad_width: ``((before_1, after_1), ..., (before_N, after_N))``, one ``(before, after)``
            pair for every axis, or one int for all.
        mode: one of "constant", "edge", "reflect", "symmetric", "wrap".
        constant_values: the fill value of mode "constant" (default 0).
    """
    shape = _shape(x)
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (len(shape), 2))
    except ValueError:
        widths = None
    if widths is None or (widths < 0).any():
        raise ValueError(
            f"pad: pad_width must be non-negative (before, after) pairs, one per axis of a "
            f"rank-{len(shape)} tensor. Received: pad_width={pad_width}"
        )
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {_PAD_MODES}. Received: mode={mode!r}")
    if constant_values is not None and mode != "constant":
        raise ValueError(
            "pad: `constant_values` can only be given with mode='constant'. "
            f"Received: mode={mode!r}, constant_values={constant_values}"
        )
    widths = tuple((int(b), int(a)) for b, a in widths)
    if mode != "constant" and any(n == 0 and w != (0, 0) for n, w in zip(shape, widths)):
        raise ValueError(f"pad: cannot pad an empty axis in mode {mode!r}. "
                         f"Received: x.shape={shape}")
    return Pad.apply(x, widths=widths, mode=mode, constant_values=constant_values or 0)


class Tile(Function):
    def forward(self, xp, x, repeats):
        self.shape, self.repeats = x.shape, repeats
        return xp.tile(x, repeats)

    def backward(self, xp, gy):
        reps = self.repeats
        src = (1,) * (gy.ndim - len(self.shape)) + self.shape
        reps = (1,) * (gy.ndim - len(reps)) + reps
        # Output index along an axis is copy * n + i: split it into (copy, i) and sum copies.
        g = gy.reshape(tuple(v for pair in zip(reps, src) for v in pair))
        return (g.sum(axis=tuple(range(0, 2 * gy.ndim, 2))).reshape(self.shape),)


def tile(x, repeats) -> Tensor:
    """Repeats the whole of ``x`` ``repeats[i]`` times along each axis (``numpy.tile``)."""
    return Tile.apply(x, repeats=_ints(repeats))


class Repeat(Function):
    def forward(self, xp, x, repeats, axis):
        self.shape, self.repeats, self.axis = x.shape, repeats, axis
        flat = x.reshape(-1) if axis is None else x
        return xp.repeat(flat, repeats if len(repeats) > 1 else repeats[0], axis=axis or 0)

    def backward(self, xp, gy):
        ax = self.axis or 0
        n = int(np.prod(self.shape)) if self.axis is None else self.shape[ax]
        gm = xp.moveaxis(gy, ax, 0)
        if len(self.repeats) == 1:  # output index is i * r + copy: sum the copies
            g = gm.reshape((n, self.repeats[0]) + gm.shape[1:]).sum(axis=1)
        else:
            g = xp.zeros((n,) + gm.shape[1:], dtype=gy.dtype)
            src = xp.repeat(xp.arange(n), list(self.repeats))
            _add_at(xp, g, src, gm)
        return (xp.moveaxis(g, 0, ax).reshape(self.shape),)


def repeat(x, repeats, axis=None) -> Tensor:
    """Repeats each element of ``x`` ``repeats`` times along ``axis`` (flattened if None)."""
    shape = _shape(x)
    if axis is not None:
        (axis,) = normalize_axis(axis, len(shape), "repeat")
    if hasattr(repeats, "shape"):  # an array or a Tensor: a setting, read on the host
        repeats = backend.to_numpy(getattr(repeats, "data", repeats)).tolist()
    repeats = _ints(repeats)
    n = int(np.prod(shape)) if axis is None else shape[axis]
    if len(repeats) not in (1, n) or min(repeats, default=0) < 0:
        raise ValueError(
            f"repeat: repeats must be one non-negative int or one per element along the axis "
            f"({n}). Received: repeats={repeats}, axis={axis}"
        )
    return Repeat.apply(x, repeats=repeats, axis=axis)


class Flip(Function):
    def forward(self, xp, x, axis):
        self.axis = axis
        return xp.flip(x, axis=axis)

    def backward(self, xp, gy):
        return (xp.flip(gy, axis=self.axis),)


def flip(x, axis=None) -> Tensor:
    """Reverses the order of elements along ``axis`` (all axes if None)."""
    return Flip.apply(x, axis=normalize_axis(axis, len(_shape(x)), "flip"))


class Cast(Function):
    def forward(self, xp, x, dtype):
        self.dtype = x.dtype
        return x.astype(dtype, copy=False)

    def backward(self, xp, gy):
        return (gy.astype(self.dtype, copy=False),)


# Keras maps the Python types to these (``standardize_dtype``); numpy would pick float64.
_PYTHON_DTYPES = {float: "float32", int: "int64", bool: "bool"}


def cast(x, dtype) -> Tensor:
    """Casts ``x`` to ``dtype``; the gradient is cast back (none through an integer cast)."""
    try:
        dtype = np.dtype(_PYTHON_DTYPES.get(dtype, dtype))
    except TypeError:
        raise TypeError(f"cast: unknown dtype. Received: dtype={dtype!r}") from None
    return Cast.apply(x, dtype=dtype)


class Getitem(Function):
    def forward(self, xp, x, key):
        key = tuple(xp.asarray(k) if isinstance(k, (list, np.ndarray)) else k for k in key)
        self.shape, self.key = x.shape, key
        try:
            return x[key]
        except (IndexError, TypeError) as e:
            raise type(e)(f"getitem: {e}. Received: key={key}, x.shape={x.shape}") from None

    def backward(self, xp, gy):
        key = self.key
        arrays = [k for k in key if isinstance(k, xp.ndarray)]
        if len(key) == 1 and arrays and arrays[0].dtype.kind in "iu":  # take(x, key, axis=0)
            return (_take_grad(xp, gy, key[0], self.shape, 0),)
        gx = xp.zeros(self.shape, dtype=gy.dtype)
        if any(a.dtype.kind in "iu" for a in arrays):
            _add_at(xp, gx, key, gy)  # NOTE: integer indices may repeat; `=` would drop some
        else:
            gx[key] = gy
        return (gx,)


def getitem(x, key) -> Tensor:
    """``x[key]``: ints, slices, None, Ellipsis, integer arrays and boolean masks."""
    from ..tensor import Tensor

    items = key if isinstance(key, tuple) else (key,)
    return Getitem.apply(x, key=tuple(k.data if isinstance(k, Tensor) else k for k in items))


class ToDevice(Function):
    def forward(self, xp, x, device):
        self.source = backend.device_of(x)
        return backend.to_device(x, device)

    def backward(self, xp, gy):
        return (backend.to_device(gy, self.source),)


def to_device(x, device: str) -> Tensor:
    """A copy of ``x`` on ``device`` ("cpu" or "gpu"); gradients flow back to ``x``'s device."""
    backend.xp_for(device)  # checks the name, and that a GPU answers
    return ToDevice.apply(x, device=device)
