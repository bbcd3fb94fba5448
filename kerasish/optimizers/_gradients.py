"""Gradient preparation shared by the optimizers: conversion, filtering and clipping."""
from __future__ import annotations

import warnings

import numpy as np

from engine import Tensor, backend


def raw(value):
    """The xp array behind a Tensor (anything else passes through)."""
    return value.data if isinstance(value, Tensor) else value


def cast(value, variable):
    """A Python number in the variable's dtype (Keras's ``ops.cast(value, variable.dtype)``)."""
    return variable.dtype.type(value)


_CHUNK = 1 << 17  # elements: a chunk of each of an update's arrays fits in L2/L3 together
_buffers = {}


def in_chunks(*arrays, scratch=1):
    """Yields ``(views, buffers)``: the same slice of every (flattened) array and ``scratch``
    buffers of the slice's size, slice after slice, for updates written with ``out=``.

    NOTE: running an update's ufuncs chunk by chunk keeps its arrays in cache between them
    and allocates no full-size temporaries; the arithmetic is unchanged. Arrays that are not
    C-contiguous, or on a GPU, come whole with fresh buffers. The buffers are shared: finish
    one update's loop before starting another.
    """
    first = arrays[0]
    xp = backend.get_array_module(first)
    if xp is not np or not all(a.flags.c_contiguous for a in arrays):
        yield arrays, [xp.empty_like(first) for _ in range(scratch)]
        return
    key = (first.dtype, scratch)
    if key not in _buffers:
        _buffers[key] = [np.empty(_CHUNK, first.dtype) for _ in range(scratch)]
    flat, size = [a.reshape(-1) for a in arrays], first.size
    for lo in range(0, size, _CHUNK):
        hi = min(lo + _CHUNK, size)
        yield [a[lo:hi] for a in flat], [b[:hi - lo] for b in _buffers[key]]


def as_gradient(grad, variable):
    """The gradient as an xp array on the variable's device, in its dtype and shape."""
    grad = backend.to_device(raw(grad), variable.device).astype(variable.dtype, copy=False)
    if tuple(grad.shape) != tuple(variable.shape):
        raise ValueError(f"A gradient must have its variable's shape {variable.shape} "
                         f"(variable {variable.path}). Received: gradient.shape={grad.shape}")
    return grad


def filter_empty_gradients(grads, variables):
    """Drops the ``None`` gradients with Keras's warning (an error if all are ``None``)."""
    kept = [(g, v) for g, v in zip(grads, variables) if g is not None]
    if not kept:
        raise ValueError("No gradients provided for any variable.")
    missing = [v.path for g, v in zip(grads, variables) if g is None]
    if missing:
        warnings.warn(
            f"Gradients do not exist for variables {missing} when minimizing the loss. If "
            "using `model.compile()`, did you forget to provide a `loss` argument?")
    return [g for g, _ in kept], [v for _, v in kept]


def clip_gradients(grads, clipnorm=None, global_clipnorm=None, clipvalue=None):
    """Keras's order of precedence: per-tensor norm, then global norm, then value."""
    if clipnorm and clipnorm > 0:
        return [clip_by_norm(g, clipnorm) for g in grads]
    if global_clipnorm and global_clipnorm > 0:
        return clip_by_global_norm(grads, global_clipnorm)
    if clipvalue and clipvalue > 0:
        xp = backend.get_array_module(*grads)
        return [xp.clip(g, -clipvalue, clipvalue) for g in grads]
    return grads


def clip_by_norm(g, clip_norm):
    """``g * clip_norm / max(||g||, clip_norm)``."""
    xp = backend.get_array_module(g)
    return g * clip_norm / xp.maximum(xp.sqrt(xp.sum(xp.square(g))), clip_norm)


def global_norm(value_list):
    """The L2 norm of all arrays together, as a 0-d array."""
    xp = backend.get_array_module(*value_list)
    return xp.sqrt(xp.sum(xp.stack([xp.sum(xp.square(v)) for v in value_list])))


def clip_by_global_norm(value_list, clip_norm):
    """Scales every array by ``clip_norm / max(global_norm, clip_norm)`` (NaN if the norm is)."""
    norm = global_norm(value_list)
    xp = backend.get_array_module(norm)
    with np.errstate(divide="ignore", invalid="ignore"):  # a zero norm gives 1/0 = inf: harmless
        scale = clip_norm * xp.minimum(1.0 / norm, 1.0 / clip_norm) + (norm - norm)
    return [v * scale for v in value_list]
