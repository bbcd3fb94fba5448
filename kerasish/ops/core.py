"""Keras 3's core ops: conversions, slicing and scattering, and control flow.

Control flow (``cond``, ``switch``, ``while_loop``, ``fori_loop``, ``scan``, ``map``,
``vectorized_map``, ``associative_scan``) runs eagerly in Python over engine Tensors, so
gradients flow through the ops used inside.
"""
from __future__ import annotations

import builtins

import numpy as np

import engine
from engine import Tensor, backend
from engine import ops as E

from .. import dtypes, tree
from ..symbolic import is_keras_tensor
from ._base import array, shape_of, spec, tensor, xp_of
from ._einops import rearrange  # noqa: F401
from ._symbolic import keras_op, unary_spec

__all__ = [
    "associative_scan", "cast", "cond", "convert_to_numpy", "convert_to_tensor",
    "custom_gradient", "dtype", "fori_loop", "is_tensor", "map", "rearrange", "saturate_cast",
    "scan", "scatter", "scatter_update", "shape", "slice", "slice_update", "stop_gradient",
    "switch", "unstack", "vectorized_map", "while_loop",
]


# -- tensors, dtypes and shapes -------------------------------------------------------------

def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """An engine Tensor of `x` (lists of floats become floatx, of ints int32).

    >>> convert_to_tensor([1, 2]).dtype
    dtype('int32')
    """
    if sparse or ragged:
        raise ValueError("kerasish has no sparse or ragged tensors. Received: "
                         f"sparse={sparse}, ragged={ragged}")
    if is_keras_tensor(x):
        return x if dtype is None else cast(x, dtype)
    return tensor(x, None if dtype is None else dtypes.standardize_dtype(dtype))


def convert_to_numpy(x):
    """`x` as a NumPy array (copied from the GPU when needed)."""
    if is_keras_tensor(x):
        raise ValueError("A symbolic KerasTensor has no value to convert to NumPy. "
                         f"Received: x={x!r}")
    return backend.to_numpy(array(x))


def is_tensor(x):
    """True for engine Tensors (the backend-native tensors of kerasish)."""
    return isinstance(x, Tensor)


def dtype(x):
    """The standardized dtype name of `x`, e.g. "float32"."""
    return dtypes.standardize_dtype(x.dtype)


def shape(x):
    """The shape of `x` as a tuple (None for unknown dimensions of a KerasTensor)."""
    return tuple(shape_of(x))


@keras_op(spec=lambda x, dtype: spec(shape_of(x), dtypes.standardize_dtype(dtype)))
def cast(x, dtype):
    """`x` converted to `dtype` (differentiable between float types)."""
    return E.cast(tensor(x), dtypes.standardize_dtype(dtype))


def _limits(name):
    if name == "bool":
        return 0, 1
    info = np.iinfo(name) if "int" in name else np.finfo(name)
    return info.min, info.max


@keras_op(spec=lambda x, dtype: spec(shape_of(x), dtypes.standardize_dtype(dtype)))
def saturate_cast(x, dtype):
    """Casts `x` to `dtype`, clipping values to its range first (no wrap-around)."""
    x, dtype = tensor(x), dtypes.standardize_dtype(dtype)
    (in_lo, in_hi), (out_lo, out_hi) = _limits(x.dtype.name), _limits(dtype)
    lo = np.asarray(builtins.max(in_lo, out_lo)).astype(x.dtype)
    hi = np.asarray(builtins.min(in_hi, out_hi)).astype(x.dtype)
    if lo < out_lo:  # NOTE: the limit rounded out of range in x's dtype: step back inside
        lo = np.nextafter(lo, 0, dtype=x.dtype)
    if hi > out_hi:
        hi = np.nextafter(hi, 0, dtype=x.dtype)
    return E.cast(E.clip(x, lo, hi), dtype)


@keras_op(spec=unary_spec)
def stop_gradient(variable):
    """`variable`'s value, through which no gradient flows."""
    return tensor(variable).detach()


def _unstack_spec(x, num=None, axis=0):
    shape = list(shape_of(x))
    n = shape.pop(axis)
    n = n if num is None else num
    if n is None:
        raise ValueError("unstack needs a known size on `axis` (or `num`). Received: "
                         f"x.shape={tuple(shape_of(x))}, axis={axis}")
    return [spec(shape, x.dtype) for _ in range(n)]


@keras_op(spec=_unstack_spec)
def unstack(x, num=None, axis=0):
    """The slices of `x` along `axis`, as a list."""
    x = tensor(x)
    n = x.shape[axis]
    if num is not None and num != n:
        raise ValueError(f"unstack: `num` must equal x.shape[axis]. Received: num={num}, "
                         f"x.shape={tuple(x.shape)}, axis={axis}")
    axis = axis % x.ndim
    return [x[(builtins.slice(None),) * axis + (i,)] for i in range(n)]


# -- slicing and scattering -----------------------------------------------------------------

def _ints(values):
    return [int(v) for v in (array(values).tolist() if hasattr(values, "shape")
                             or isinstance(values, Tensor) else values)]


@keras_op(spec=lambda inputs, start_indices, shape: spec(shape, inputs.dtype))
def slice(inputs, start_indices, shape):
    """The block of `inputs` of size `shape` starting at `start_indices`."""
    starts, sizes = _ints(start_indices), _ints(shape)
    return tensor(inputs)[tuple(builtins.slice(s, s + n) for s, n in zip(starts, sizes))]


@keras_op(spec=lambda inputs, start_indices, updates: unary_spec(inputs))
def slice_update(inputs, start_indices, updates):
    """`inputs` with the block starting at `start_indices` replaced by `updates`."""
    x, u = tensor(inputs), tensor(updates)
    u = E.cast(u, x.dtype) if u.dtype != x.dtype else u
    starts = _ints(start_indices)
    pads = [(s, n - s - m) for s, n, m in zip(starts, x.shape, u.shape)]
    xp = xp_of(x)
    mask = xp.zeros(x.shape, dtype=bool)
    mask[tuple(builtins.slice(s, s + m) for s, m in zip(starts, u.shape))] = True
    return E.where(Tensor(mask), E.pad(u, pads), x)


def _linear(indices, shape):
    """Integer index rows `(n, k)` into the first k dims of `shape` -> flat positions `(n,)`."""
    idx = np.asarray(backend.to_numpy(array(indices))).astype(np.int64)
    if idx.ndim == 1:
        idx = idx[:, None]
    k = idx.shape[-1]
    idx = idx.reshape(-1, k)
    return np.ravel_multi_index(tuple(idx.T), tuple(shape[:k])), k


def _scatter_sum(indices, values, shape):
    flat, k = _linear(indices, shape)
    shape = tuple(int(d) for d in shape)
    v = tensor(values)
    rows = E.reshape(v, (flat.size,) + shape[k:])
    xp = xp_of(v)
    out = E.segment_sum(rows, xp.asarray(flat), int(np.prod(shape[:k])))
    return E.reshape(out, shape)


@keras_op(spec=lambda indices, values, shape: spec(shape, values.dtype))
def scatter(indices, values, shape):
    """Zeros of `shape` with `values` added at `indices` (`(n, k)` index rows; repeats add)."""
    return _scatter_sum(indices, values, shape)


@keras_op(spec=lambda inputs, indices, updates, reduction=None: unary_spec(inputs))
def scatter_update(inputs, indices, updates, reduction=None):
    """`inputs` with `updates` written at `indices` (`(n, k)` index rows).

    `reduction` None replaces the values; "add", "max", "min" or "mul" combine them.
    """
    from . import math as kmath

    x = tensor(inputs)
    u = tensor(updates, x.dtype)
    if reduction == "add":
        return x + _scatter_sum(indices, u, x.shape)
    flat, k = _linear(indices, x.shape)
    num = int(np.prod(x.shape[:k]))
    rows = E.reshape(u, (flat.size,) + tuple(x.shape[k:]))
    xp = xp_of(x)
    if reduction is None:
        # NOTE: a repeated index keeps its last update (NumPy's assignment order).
        _, last = np.unique(flat[::-1], return_index=True)
        keep = np.sort(flat.size - 1 - last)
        if keep.size != flat.size:
            rows, flat = E.take(rows, xp.asarray(keep), axis=0), flat[keep]
        hit = np.zeros(num, dtype=bool)
        hit[flat] = True
        mask = xp.asarray(hit.reshape(x.shape[:k] + (1,) * (x.ndim - k)))
        placed = E.reshape(E.segment_sum(rows, xp.asarray(flat), num), x.shape)
        return E.where(Tensor(mask), placed, x)
    reducers = {"max": (kmath.segment_max, E.maximum), "min": (kmath.segment_min, E.minimum),
                "mul": (kmath.segment_prod, E.multiply)}
    if reduction not in reducers:
        raise ValueError(f"Unsupported reduction: {reduction}. Received: reduction={reduction}")
    seg, combine = reducers[reduction]
    return combine(x, E.reshape(seg(rows, xp.asarray(flat), num), x.shape))


# -- control flow ---------------------------------------------------------------------------

def _eager(name, *values):
    """Control flow runs on values: a symbolic KerasTensor gets a clear error."""
    if any(is_keras_tensor(t) for t in tree.flatten(values)):
        raise ValueError(f"kerasish runs `{name}` eagerly, on tensors with values; in a "
                         "functional model, call it inside a layer (e.g. layers.Lambda). "
                         f"Received: {[t for t in tree.flatten(values) if is_keras_tensor(t)]}")


def _truth(pred):
    if is_keras_tensor(pred):
        raise ValueError("kerasish runs control flow eagerly: `pred` must have a value, not "
                         f"be a symbolic KerasTensor. Received: pred={pred!r}")
    return bool(array(pred))


def cond(pred, true_fn, false_fn):
    """`true_fn()` if `pred` else `false_fn()` (eagerly)."""
    return true_fn() if _truth(pred) else false_fn()


def switch(index, branches, *operands):
    """`branches[index](*operands)`, with `index` clamped to the valid range."""
    _eager("switch", index, operands)
    i = int(np.clip(int(array(index)), 0, len(branches) - 1))
    return branches[i](*operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Applies `body` to `loop_vars` while `cond(*loop_vars)` holds (at most
    `maximum_iterations` times)."""
    _eager("while_loop", loop_vars)
    is_tuple = isinstance(loop_vars, (tuple, list))
    loop_vars = tuple(loop_vars) if is_tuple else (loop_vars,)
    count = 0
    while ((maximum_iterations is None or count < maximum_iterations)
           and _truth(cond(*loop_vars))):
        loop_vars = body(*loop_vars)
        loop_vars = tuple(loop_vars) if isinstance(loop_vars, (list, tuple)) else (loop_vars,)
        count += 1
    return loop_vars if is_tuple else loop_vars[0]


def fori_loop(lower, upper, body_fun, init_val):
    """`val = body_fun(i, val)` for `i` in `range(lower, upper)`."""
    _eager("fori_loop", lower, upper, init_val)
    val = init_val
    for i in range(int(array(lower)), int(array(upper))):
        val = body_fun(i, val)
    return val


def _stack(structures):
    return tree.map_structure(lambda *ys: E.stack([tensor(y) for y in ys]), *structures)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """`carry, y = f(carry, x)` over the leading axis of `xs`; returns `(carry, stacked ys)`."""
    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    if xs is None and length is None:
        raise ValueError("Got no `xs` to scan over and `length` not provided. Received: "
                         "xs=None, length=None")
    _eager("scan", init, xs)
    flat = [] if xs is None else [tensor(x) for x in tree.flatten(xs)]
    n = int(length) if length is not None else flat[0].shape[0]
    carry, ys = init, []
    steps = range(n - 1, -1, -1) if reverse else range(n)
    for i in steps:
        x = None if xs is None else tree.pack_sequence_as(xs, [a[i] for a in flat])
        carry, y = f(carry, x)
        ys.append(y)
    if reverse:
        ys.reverse()
    if not ys or all(y is None for y in ys):
        return carry, None
    return carry, _stack(ys)


def map(f, xs):
    """`f` applied to each slice of `xs` along its leading axis; the results stacked."""
    _eager("map", xs)
    flat = [tensor(x) for x in tree.flatten(xs)]
    n = flat[0].shape[0]
    return _stack([f(tree.pack_sequence_as(xs, [a[i] for a in flat])) for i in range(n)])


def vectorized_map(function, elements):
    """`function` over the leading axis of `elements` (a loop here, as Keras's NumPy backend)."""
    return map(function, elements)


def associative_scan(f, elems, reverse=False, axis=0):
    """The inclusive scan `out[i] = f(out[i-1], elems[i])` along `axis` (`f` associative)."""
    _eager("associative_scan", elems)
    flat = [tensor(e) for e in tree.flatten(elems)]
    n = flat[0].shape[axis]
    axis = axis % flat[0].ndim

    def at(a, i):
        return a[(builtins.slice(None),) * axis + (builtins.slice(i, i + 1),)]

    order = range(n - 1, -1, -1) if reverse else range(n)
    acc, outs = None, []
    for i in order:
        cur = tree.pack_sequence_as(elems, [at(a, i) for a in flat])
        acc = cur if acc is None else f(acc, cur)
        outs.append(acc)
    if reverse:
        outs.reverse()
    return tree.map_structure(lambda *parts: E.concatenate(list(parts), axis=axis), *outs)


# -- custom gradients -----------------------------------------------------------------------

class _CustomGradient(engine.Function):
    """Hands the forward values through and calls the user's gradient function backward."""

    def forward(self, xp, *arrays, values, grad_fn, n_args):
        self.grad_fn, self.n_args, self.shapes = grad_fn, n_args, [v.shape for v in values]
        self.dtypes = [a.dtype if a is not None else None for a in arrays]
        if len(values) == 1:
            return values[0]
        return xp.concatenate([v.reshape(-1) for v in values])

    def backward(self, xp, gy):
        if len(self.shapes) == 1:
            upstream = Tensor(gy)
        else:
            parts, start = [], 0
            for s in self.shapes:
                size = int(np.prod(s))
                parts.append(Tensor(gy[start:start + size].reshape(s)))
                start += size
            upstream = tuple(parts)
        with engine.no_grad():
            grads = self.grad_fn(upstream)
        grads = list(grads) if isinstance(grads, (list, tuple)) else [grads]
        out = []
        for g, d in zip(grads, self.dtypes):
            out.append(None if g is None or d is None else xp.asarray(array(g)).astype(d))
        return tuple(out)


def custom_gradient(f):
    """Decorates `f(*args) -> (output, grad_fn)` so that backward calls `grad_fn(upstream)`.

    `grad_fn` returns one gradient per Tensor argument; `output` may be a Tensor or a tuple
    of Tensors of one dtype (then `upstream` is a tuple too).
    """
    def wrapper(*args, **kwargs):
        flat = [a for a in args if isinstance(a, Tensor)]
        with engine.no_grad():
            detached = [a.detach() if isinstance(a, Tensor) else a for a in args]
            output, grad_fn = f(*detached, **kwargs)
        outputs = list(output) if isinstance(output, (list, tuple)) else [output]
        values = [array(tensor(o)) for o in outputs]
        y = _CustomGradient.apply(*flat, values=values, grad_fn=grad_fn, n_args=len(flat))
        if not isinstance(output, (list, tuple)):
            return y
        parts, start = [], 0
        for v in values:
            parts.append(E.reshape(y[start:start + v.size], v.shape))
            start += v.size
        return type(output)(parts)

    wrapper.__name__ = getattr(f, "__name__", "custom_gradient")
    wrapper.__doc__ = f.__doc__
    return wrapper
