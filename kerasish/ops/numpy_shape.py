"""``keras.ops.numpy``'s shape functions: reshaping, joining, splitting, flipping, indexing,
sorting and searching.

Moving values around is differentiable (the gradient moves back); indices, sorted positions and
set operations are not (integer results).
"""
from __future__ import annotations

import builtins
import math
import numbers

import numpy as np

from engine import ops as E
from engine.ops._utils import normalize_axis

from ..symbolic import KerasTensor
from ._convert import dtype_of, same, tensors
from ._symbolic import _shape, broadcast_shapes, keras_op


def _kt(shape, x_or_dtype):
    dtype = x_or_dtype if isinstance(x_or_dtype, str) else dtype_of(x_or_dtype)
    return KerasTensor(shape, dtype=same(dtype))


def _axis1(axis, ndim, name):
    (a,) = normalize_axis(axis, ndim, name)
    return a


def _t(x):
    return tensors(x)[0]


# -- reshaping --------------------------------------------------------------------------------

def _reshape_spec(x, newshape):
    shape = _shape(x)
    newshape = (newshape,) if isinstance(newshape, numbers.Integral) else tuple(newshape)
    if -1 in newshape and None not in shape:
        known = math.prod(d for d in newshape if d != -1)
        newshape = tuple(math.prod(shape) // known if d == -1 else d for d in newshape)
    return _kt(tuple(None if d == -1 else d for d in newshape), x)


@keras_op(spec=_reshape_spec)
def reshape(x, newshape):
    """``x`` with the shape ``newshape`` (one entry may be -1)."""
    return E.reshape(_t(x), newshape)


@keras_op(spec=lambda x: _kt((None if None in _shape(x) else math.prod(_shape(x)),), x))
def ravel(x):
    """``x`` flattened to 1-D."""
    return E.reshape(_t(x), (-1,))


@keras_op(spec=lambda x, axes=None: _kt(tuple(_shape(x)[a] for a in (
    range(len(_shape(x)))[::-1] if axes is None else axes)), x))
def transpose(x, axes=None):
    """Permutes the axes of ``x`` (reverses them if ``axes`` is None)."""
    return E.transpose(_t(x), axes)


def _expand_spec(x, axis):
    shape = _shape(x)
    axes = normalize_axis(axis, len(shape) + (1 if isinstance(axis, int) else len(axis)))
    rest = iter(shape)
    return _kt(tuple(1 if a in axes else next(rest) for a in range(len(shape) + len(axes))), x)


@keras_op(spec=_expand_spec)
def expand_dims(x, axis):
    """Inserts length-1 axes at ``axis`` (an int or a tuple of positions in the result)."""
    return E.expand_dims(_t(x), axis)


def _squeeze_spec(x, axis=None):
    shape = _shape(x)
    axes = [a for a, d in enumerate(shape) if d == 1] if axis is None else normalize_axis(
        axis, len(shape))
    return _kt(tuple(d for a, d in enumerate(shape) if a not in axes), x)


@keras_op(spec=_squeeze_spec)
def squeeze(x, axis=None):
    """Removes length-1 axes (all, or those in ``axis``)."""
    return E.squeeze(_t(x), axis)


@keras_op(spec=lambda x, shape: _kt(broadcast_shapes(_shape(x), tuple(shape)), x))
def broadcast_to(x, shape):
    """``x`` broadcast to ``shape``."""
    return E.broadcast_to(_t(x), shape)


def _moveaxis_spec(x, source, destination):
    shape = _shape(x)
    return _kt(tuple(shape[a] for a in _moveaxis_perm(len(shape), source, destination)), x)


def _moveaxis_perm(ndim, source, destination):
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src, dst = [a % ndim for a in src], [a % ndim for a in dst]
    perm = [a for a in range(ndim) if a not in src]
    for d, s in sorted(zip(dst, src)):
        perm.insert(d, s)
    return tuple(perm)


@keras_op(spec=_moveaxis_spec)
def moveaxis(x, source, destination):
    """Moves axes ``source`` to positions ``destination``; the others keep their order."""
    t = _t(x)
    return E.transpose(t, _moveaxis_perm(t.ndim, source, destination))


def _swap_perm(ndim, axis1, axis2):
    perm = list(range(ndim))
    a, b = axis1 % ndim, axis2 % ndim
    perm[a], perm[b] = perm[b], perm[a]
    return tuple(perm)


@keras_op(spec=lambda x, axis1, axis2: _kt(tuple(_shape(x)[a] for a in _swap_perm(
    len(_shape(x)), axis1, axis2)), x))
def swapaxes(x, axis1, axis2):
    """Swaps two axes of ``x``."""
    t = _t(x)
    return E.transpose(t, _swap_perm(t.ndim, axis1, axis2))


# -- joining and splitting --------------------------------------------------------------------

def _join_spec(xs, axis=0):
    shapes = [_shape(x) for x in xs]
    a = _axis1(axis, len(shapes[0]), "concatenate")
    sizes = [s[a] for s in shapes]
    rest = broadcast_shapes(*[s[:a] + (1,) + s[a + 1:] for s in shapes])
    total = None if None in sizes else builtins.sum(sizes)
    return _kt(rest[:a] + (total,) + rest[a + 1:], same(*[dtype_of(x) for x in xs]))


def _joined(xs):
    dtype = same(*[dtype_of(x) for x in xs])
    return tensors(*xs, dtype=dtype)


@keras_op(spec=_join_spec)
def concatenate(xs, axis=0):
    """Joins the tensors ``xs`` along an existing axis (their dtypes promoted)."""
    return E.concatenate(_joined(xs), axis=axis)


def _stack_spec(x, axis=0):
    shape = broadcast_shapes(*[_shape(t) for t in x])
    a = _axis1(axis, len(shape) + 1, "stack")
    return _kt(shape[:a] + (len(x),) + shape[a:], same(*[dtype_of(t) for t in x]))


@keras_op(spec=_stack_spec)
def stack(x, axis=0):
    """Joins the same-shape tensors ``x`` along a new axis."""
    return E.stack(_joined(x), axis=axis)


def _atleast_shape(shape, n):
    """NumPy's atleast_1d/2d/3d on a shape: (n,) becomes (1, n) and (1, n, 1)."""
    if len(shape) >= n:
        return tuple(shape)
    if n <= 2:
        return (1,) * (n - len(shape)) + tuple(shape)
    return {0: (1, 1, 1), 1: (1,) + tuple(shape) + (1,), 2: tuple(shape) + (1,)}[len(shape)]


_STACK_AXIS = {"hstack": (1, 1), "vstack": (2, 0), "dstack": (3, 2)}  # (rank lifted to, axis)


def _lifted(name, shapes):
    n, axis = _STACK_AXIS[name]
    shapes = [_atleast_shape(s, n) for s in shapes]
    return shapes, (0 if name == "hstack" and len(shapes[0]) == 1 else axis)


def _stacker(name):
    def op(xs):
        ts = _joined(xs)
        shapes, axis = _lifted(name, [t.shape for t in ts])
        return E.concatenate([E.reshape(t, s) for t, s in zip(ts, shapes)], axis=axis)

    def spec(xs):
        shapes, axis = _lifted(name, [_shape(x) for x in xs])
        return _join_spec([KerasTensor(s, dtype=same(dtype_of(x))) for s, x in zip(shapes, xs)],
                          axis)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = {"hstack": "Joins along the second axis (the first for 1-D tensors).",
                  "vstack": "Joins along the first axis, 1-D tensors as rows.",
                  "dstack": "Joins along the third axis, 1-D and 2-D tensors lifted to 3-D."}[name]
    return keras_op(spec=spec)(op)


hstack, vstack, dstack = _stacker("hstack"), _stacker("vstack"), _stacker("dstack")


@keras_op(spec=lambda x1, x2, axis=None: _join_spec(
    [KerasTensor((None if None in _shape(x) else math.prod(_shape(x)),), dtype=same(
        dtype_of(x))) if axis is None else x for x in (x1, x2)], axis or 0))
def append(x1, x2, axis=None):
    """``x2`` appended to ``x1`` along ``axis`` (both flattened if None)."""
    a, b = _joined([x1, x2])
    if axis is None:
        return E.concatenate([E.reshape(a, (-1,)), E.reshape(b, (-1,))], axis=0)
    return E.concatenate([a, b], axis=axis)


def _cuts(n, indices_or_sections, uneven):
    if isinstance(indices_or_sections, numbers.Integral):
        k = int(indices_or_sections)
        if not uneven and (k <= 0 or n % k):
            raise ValueError(f"split: an axis of length {n} cannot be split into {k} equal "
                             f"sections. Received: indices_or_sections={indices_or_sections}")
        size, extra = divmod(n, k)
        return [i * size + builtins.min(i, extra) for i in range(1, k)]
    return [int(i) for i in indices_or_sections]


def _split_spec(uneven, fixed_axis=None):
    def spec(x, indices_or_sections, axis=0):
        axis = fixed_axis if fixed_axis is not None else axis
        shape = _shape(x)
        a = _axis1(axis, len(shape), "split")
        n = shape[a]
        if n is None:
            k = (indices_or_sections if isinstance(indices_or_sections, numbers.Integral)
                 else len(indices_or_sections) + 1)
            return [_kt(shape[:a] + (None,) + shape[a + 1:], x) for _ in range(k)]
        cuts = _cuts(n, indices_or_sections, uneven)
        return [_kt(shape[:a] + (len(range(n)[s:e]),) + shape[a + 1:], x)
                for s, e in zip([0] + cuts, cuts + [None])]

    return spec


def _split(t, indices_or_sections, axis, uneven):
    a = _axis1(axis, t.ndim, "split")
    cuts = _cuts(t.shape[a], indices_or_sections, uneven)
    lead = (slice(None),) * a
    return [t[lead + (slice(s, e),)] for s, e in zip([0] + cuts, cuts + [None])]


@keras_op(spec=_split_spec(False))
def split(x, indices_or_sections, axis=0):
    """Splits ``x`` into equal sections (an int) or at the given indices, along ``axis``."""
    return _split(_t(x), indices_or_sections, axis, False)


@keras_op(spec=_split_spec(True))
def array_split(x, indices_or_sections, axis=0):
    """As ``split``, but sections may differ in length by one (the first ones are longer)."""
    return _split(_t(x), indices_or_sections, axis, True)


def _fixed_split(name, axis):
    def op(x, indices_or_sections):
        t = _t(x)
        return _split(t, indices_or_sections, 0 if name == "hsplit" and t.ndim == 1 else axis,
                      False)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``split`` along axis {axis}."
    return keras_op(spec=lambda x, ios: _split_spec(False, 0 if name == "hsplit" and len(
        _shape(x)) == 1 else axis)(x, ios))(op)


hsplit, vsplit, dsplit = _fixed_split("hsplit", 1), _fixed_split("vsplit", 0), _fixed_split(
    "dsplit", 2)


# -- padding, tiling, flipping ----------------------------------------------------------------

def _pad_spec(x, pad_width, mode="constant", constant_values=None):
    shape = _shape(x)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (len(shape), 2))
    return _kt(tuple(None if d is None else d + int(w.sum()) for d, w in zip(shape, widths)), x)


@keras_op(spec=_pad_spec)
def pad(x, pad_width, mode="constant", constant_values=None):
    """Pads ``x`` as ``numpy.pad`` ("constant", "edge", "reflect", "symmetric", "wrap")."""
    return E.pad(_t(x), pad_width, mode=mode, constant_values=constant_values)


def _tile_spec(x, repeats):
    reps = (repeats,) if isinstance(repeats, int) else tuple(repeats)
    shape = _shape(x)
    n = builtins.max(len(shape), len(reps))
    shape, reps = (1,) * (n - len(shape)) + shape, (1,) * (n - len(reps)) + reps
    return _kt(tuple(None if d is None else d * r for d, r in zip(shape, reps)), x)


@keras_op(spec=_tile_spec)
def tile(x, repeats):
    """Repeats the whole of ``x`` ``repeats`` times along each axis."""
    return E.tile(_t(x), repeats)


def _repeat_spec(x, repeats, axis=None):
    shape = _shape(x)
    reps = repeats if isinstance(repeats, int) else list(np.asarray(repeats).reshape(-1))
    if axis is None:
        n = None if None in shape else math.prod(shape)
        total = None if n is None else (n * reps if isinstance(reps, int) else builtins.sum(reps))
        return _kt((total,), x)
    a = _axis1(axis, len(shape), "repeat")
    d = shape[a]
    total = None if d is None else (d * reps if isinstance(reps, int) else builtins.sum(reps))
    return _kt(shape[:a] + (int(total) if total is not None else None,) + shape[a + 1:], x)


@keras_op(spec=_repeat_spec)
def repeat(x, repeats, axis=None):
    """Repeats each element ``repeats`` times along ``axis`` (flattened if None)."""
    return E.repeat(_t(x), repeats, axis=axis)


@keras_op(spec=lambda x, axis=None: _kt(_shape(x), x))
def flip(x, axis=None):
    """Reverses the order along ``axis`` (every axis if None)."""
    return E.flip(_t(x), axis)


@keras_op(spec=lambda x: _kt(_shape(x), x))
def fliplr(x):
    """Reverses the columns (axis 1)."""
    return E.flip(_t(x), 1)


@keras_op(spec=lambda x: _kt(_shape(x), x))
def flipud(x):
    """Reverses the rows (axis 0)."""
    return E.flip(_t(x), 0)


@keras_op(spec=lambda x, shift, axis=None: _kt(_shape(x), x))
def roll(x, shift, axis=None):
    """Rolls entries along ``axis`` by ``shift`` (those pushed off the end come back first)."""
    t = _t(x)
    if axis is None:
        return E.reshape(roll(E.reshape(t, (-1,)), shift, 0), t.shape)
    shifts = (shift,) if isinstance(shift, int) else tuple(shift)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    for s, a in zip(shifts, axes):
        a = _axis1(a, t.ndim, "roll")
        n = t.shape[a]
        if n:
            k = int(s) % n
            lead = (slice(None),) * a
            t = E.concatenate([t[lead + (slice(n - k, None),)], t[lead + (slice(0, n - k),)]], a)
    return t


def _rot90_spec(array, k=1, axes=(0, 1)):
    shape = list(_shape(array))
    if k % 2:
        a, b = axes[0] % len(shape), axes[1] % len(shape)
        shape[a], shape[b] = shape[b], shape[a]
    return _kt(tuple(shape), array)


@keras_op(spec=_rot90_spec)
def rot90(array, k=1, axes=(0, 1)):
    """Rotates by 90 degrees ``k`` times in the plane of ``axes`` (first towards second)."""
    t = _t(array)
    a, b = (ax % t.ndim for ax in axes)
    if a == b or len(axes) != 2:
        raise ValueError(f"rot90: `axes` must be two different axes. Received: axes={axes}")
    k %= 4
    if k == 1:
        return E.transpose(E.flip(t, b), _swap_perm(t.ndim, a, b))
    if k == 2:
        return E.flip(t, (a, b))
    if k == 3:
        return E.flip(E.transpose(t, _swap_perm(t.ndim, a, b)), b)
    return t


__all__ = ["reshape", "ravel", "transpose", "expand_dims", "squeeze", "broadcast_to", "moveaxis",
           "swapaxes", "concatenate", "stack", "hstack", "vstack", "dstack", "append", "split",
           "array_split", "hsplit", "vsplit", "dsplit", "pad", "tile", "repeat", "flip", "fliplr",
           "flipud", "roll", "rot90"]
