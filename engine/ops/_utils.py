"""Helpers shared by the ops: broadcasting gradients, axes, conv output sizes."""
from __future__ import annotations

import numbers


def unbroadcast(g, shape):
    """Sums ``g`` down to ``shape``: the one place that undoes broadcasting (autograd's)."""
    shape = tuple(shape)
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    if axes:
        g = g.sum(axis=axes)
    return g.reshape(shape)


def normalize_axis(axis, ndim, op_name="op"):
    """``axis`` (None, int or sequence) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(
                f"{op_name}: axis {a} is out of range for a tensor of rank {ndim}. "
                f"Received: axis={axis}"
            )
        out.append(int(a) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{op_name}: repeated axis. Received: axis={axis}")
    return tuple(sorted(out))


def tuple_of(value, n, name="value"):
    """An int or a sequence of ``n`` ints as a tuple of ``n`` ints (Keras's standardize_tuple)."""
    if isinstance(value, numbers.Integral):
        return (int(value),) * n
    value = tuple(int(v) for v in value)
    if len(value) != n:
        raise ValueError(f"`{name}` must be an int or a tuple of {n} ints. "
                         f"Received: {name}={value}")
    return value


def pair(value, name="value"):
    return tuple_of(value, 2, name)


def conv_output_length(length, kernel, stride, padding, dilation=1):
    """Output length of a conv or pool along one axis (Keras's arithmetic)."""
    if length is None:
        return None
    span = (kernel - 1) * dilation + 1
    if padding == "same":
        return (length + stride - 1) // stride
    if padding == "valid":
        return (length - span) // stride + 1
    raise ValueError(f"padding must be 'valid' or 'same'. Received: padding={padding!r}")


def same_padding(length, kernel, stride, dilation=1):
    """(before, after) for TF/Keras 'same' padding: the odd pixel goes after."""
    span = (kernel - 1) * dilation + 1
    out = (length + stride - 1) // stride
    total = max((out - 1) * stride + span - length, 0)
    return total // 2, total - total // 2
