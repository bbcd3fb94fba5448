"""``keras.ops.numpy``'s products: dot, matmul, einsum, tensordot, inner, outer, kron, cross,
vdot, correlate and slogdet, differentiable through engine ops."""
from __future__ import annotations

import math
import string

from engine import ops as E
from engine.ops._utils import normalize_axis

from ..symbolic import KerasTensor
from ._convert import dtype_of, floating, same, tensors, wrap, xp_of
from ._symbolic import _shape, broadcast_shapes, keras_op


def _pair(x1, x2, rule=same):
    return tensors(x1, x2, dtype=rule(dtype_of(x1), dtype_of(x2)))


def _kt(shape, *xs, rule=same):
    return KerasTensor(shape, dtype=rule(*(dtype_of(x) for x in xs)))


def _matmul_shape(s1, s2):
    if not s1 or not s2:
        raise ValueError(f"matmul: scalars are not allowed. Received: shapes {s1} and {s2}")
    a = (1,) + s1 if len(s1) == 1 else s1
    b = s2 + (1,) if len(s2) == 1 else s2
    out = broadcast_shapes(a[:-2], b[:-2]) + (a[-2], b[-1])
    if len(s1) == 1:
        out = out[:-2] + out[-1:]
    if len(s2) == 1:
        out = out[:-1]
    return out


def _matmul_dtype(d1, d2):
    return "int32" if d1 == d2 == "int8" else same(d1, d2)  # NOTE: int8 products widen


@keras_op(spec=lambda x1, x2: _kt(_matmul_shape(_shape(x1), _shape(x2)), x1, x2,
                                  rule=_matmul_dtype))
def matmul(x1, x2):
    """Matrix product with ``numpy.matmul``'s broadcasting of leading axes."""
    return E.matmul(*_pair(x1, x2, rule=_matmul_dtype))


def _dot_shape(s1, s2):
    if not s1 or not s2:
        return broadcast_shapes(s1, s2)
    if len(s2) == 1:
        return s1[:-1]
    return s1[:-1] + s2[:-2] + s2[-1:]


@keras_op(spec=lambda x1, x2: _kt(_dot_shape(_shape(x1), _shape(x2)), x1, x2))
def dot(x1, x2):
    """``numpy.dot``: the last axis of ``x1`` with the second-to-last of ``x2``."""
    return E.dot(*_pair(x1, x2))


def _einsum_spec(subscripts, *operands, **kwargs):
    spec = subscripts.replace(" ", "")
    inputs, _, output = spec.partition("->")
    terms = inputs.split(",")
    sizes, batch = {}, ()
    for term, x in zip(terms, operands):
        shape = _shape(x)
        if "..." in term:
            head, tail = term.split("...")
            n = len(shape) - len(head) - len(tail)
            batch = broadcast_shapes(batch, shape[len(head):len(head) + n])
            term_dims = (list(zip(head, shape[:len(head)]))
                         + list(zip(tail, shape[len(shape) - len(tail):])))
        else:
            term_dims = list(zip(term, shape))
        for c, d in term_dims:
            sizes[c] = d if sizes.get(c) is None else sizes[c]
    if not _:
        letters = "".join(c for c in inputs if c.isalpha())
        output = ("..." if "..." in inputs else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    out = []
    for part in output.split("..."):
        out.append(tuple(sizes[c] for c in part))
    shape = out[0] + (batch + out[1] if len(out) > 1 else ())
    return _kt(shape, *operands)


@keras_op(spec=_einsum_spec)
def einsum(subscripts, *operands, **kwargs):
    """Einstein summation, e.g. ``einsum("bij,bjk->bik", a, b)``."""
    ts = tensors(*operands, dtype=same(*(dtype_of(x) for x in operands)))
    explicit = _without_ellipsis(subscripts, [t.shape for t in ts])
    if explicit is None:
        # NOTE: what engine.einsum does not take (labels repeated within one operand: diagonals,
        # traces; ellipses that broadcast) runs on the arrays, without gradient.
        return wrap(xp_of(*ts).einsum(subscripts, *[t.data for t in ts]))
    return E.einsum(explicit, *ts)


def _without_ellipsis(subscripts, shapes):
    """``subscripts`` with each ``...`` spelled out in unused letters (None where engine.einsum
    cannot take the expression)."""
    inputs, arrow, output = subscripts.replace(" ", "").partition("->")
    terms = inputs.split(",")
    if any(len(set(t.replace("...", ""))) != len(t.replace("...", "")) for t in terms):
        return None
    if "..." not in inputs:
        return subscripts
    free = [c for c in string.ascii_letters if c not in subscripts]
    spans = [len(s) - len(t) + 3 for t, s in zip(terms, shapes) if "..." in t]
    n = max(spans)
    letters = "".join(free[:n])
    batch = {}
    for i, (t, s) in enumerate(zip(terms, shapes)):
        if "..." in t:
            k = len(s) - len(t) + 3
            terms[i] = t.replace("...", letters[n - k:])
            for c, d in zip(letters[n - k:], s[t.index("..."):t.index("...") + k]):
                if batch.setdefault(c, d) != d:
                    return None  # broadcasting ellipsis axes
    if not arrow:
        plain = "".join(terms)
        output = "..." + "".join(sorted(c for c in set(plain) if plain.count(c) == 1
                                        and c not in letters))
    return ",".join(terms) + "->" + output.replace("...", letters)


def _tensordot_axes(n1, axes):
    if isinstance(axes, int):
        return list(range(n1 - axes, n1)), list(range(axes))
    a, b = axes
    a = [a] if isinstance(a, int) else list(a)
    b = [b] if isinstance(b, int) else list(b)
    return a, b


def _tensordot_spec(x1, x2, axes=2):
    s1, s2 = _shape(x1), _shape(x2)
    a, b = _tensordot_axes(len(s1), axes)
    a, b = [i % len(s1) for i in a], [i % len(s2) for i in b]
    return _kt(tuple(d for i, d in enumerate(s1) if i not in a)
               + tuple(d for i, d in enumerate(s2) if i not in b), x1, x2)


@keras_op(spec=_tensordot_spec)
def tensordot(x1, x2, axes=2):
    """Sums products over ``axes`` (an int: the last of ``x1`` with the first of ``x2``)."""
    t1, t2 = _pair(x1, x2)
    a, b = _tensordot_axes(t1.ndim, axes)
    a, b = [i % t1.ndim for i in a], [i % t2.ndim for i in b]
    free1 = [i for i in range(t1.ndim) if i not in a]
    free2 = [i for i in range(t2.ndim) if i not in b]
    k = math.prod(t1.shape[i] for i in a)
    m1 = E.reshape(E.transpose(t1, tuple(free1 + a)), (-1, k))
    m2 = E.reshape(E.transpose(t2, tuple(b + free2)), (k, -1))
    return E.reshape(E.matmul(m1, m2), tuple(t1.shape[i] for i in free1)
                     + tuple(t2.shape[i] for i in free2))


def _inner_spec(x1, x2):
    s1, s2 = _shape(x1), _shape(x2)
    if not s1 or not s2:
        return _kt(broadcast_shapes(s1, s2), x1, x2)
    return _kt(s1[:-1] + s2[:-1], x1, x2)


@keras_op(spec=_inner_spec)
def inner(x1, x2):
    """Sums products over the last axes of ``x1`` and ``x2``."""
    t1, t2 = _pair(x1, x2)
    if t1.ndim == 0 or t2.ndim == 0:
        return E.multiply(t1, t2)
    return tensordot(t1, t2, ([-1], [-1]))


def _size(shape):
    return None if None in shape else math.prod(shape)


@keras_op(spec=lambda x1, x2: _kt((_size(_shape(x1)), _size(_shape(x2))), x1, x2))
def outer(x1, x2):
    """The products of every entry of ``x1`` with every entry of ``x2`` (flattened)."""
    t1, t2 = _pair(x1, x2)
    return E.multiply(E.reshape(t1, (-1, 1)), E.reshape(t2, (1, -1)))


def _kron_spec(x1, x2):
    s1, s2 = _shape(x1), _shape(x2)
    n = max(len(s1), len(s2))
    s1, s2 = (1,) * (n - len(s1)) + s1, (1,) * (n - len(s2)) + s2
    return _kt(tuple(None if a is None or b is None else a * b for a, b in zip(s1, s2)), x1, x2)


@keras_op(spec=_kron_spec)
def kron(x1, x2):
    """The Kronecker product: blocks ``x1[i, j] * x2``."""
    t1, t2 = _pair(x1, x2)
    n = max(t1.ndim, t2.ndim)
    s1, s2 = (1,) * (n - t1.ndim) + t1.shape, (1,) * (n - t2.ndim) + t2.shape
    a = E.reshape(t1, tuple(v for d in s1 for v in (d, 1)))
    b = E.reshape(t2, tuple(v for d in s2 for v in (1, d)))
    return E.reshape(E.multiply(a, b), tuple(p * q for p, q in zip(s1, s2)))


def _cross_spec(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    if axis is not None:
        axisa = axisb = axisc = axis
    s1 = list(_shape(x1))
    s2 = list(_shape(x2))
    n = max(s1.pop(axisa), s2.pop(axisb))
    shape = broadcast_shapes(tuple(s1), tuple(s2))
    if n == 3:
        c = normalize_axis(axisc, len(shape) + 1)[0]
        shape = shape[:c] + (3,) + shape[c:]
    return _kt(shape, x1, x2)


@keras_op(spec=_cross_spec)
def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors (or the z component for 2-vectors) along the axes."""
    if axis is not None:
        axisa = axisb = axisc = axis
    t1, t2 = _pair(x1, x2)
    a = E.transpose(t1, _to_last(t1.ndim, axisa))
    b = E.transpose(t2, _to_last(t2.ndim, axisb))
    if a.shape[-1] not in (2, 3) or b.shape[-1] not in (2, 3):
        raise ValueError("cross: the vectors must have 2 or 3 components. "
                         f"Received: x1.shape={t1.shape}, x2.shape={t2.shape}")
    zero = E.multiply(a[..., 0], 0)
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2] if a.shape[-1] == 3 else zero
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2] if b.shape[-1] == 3 else E.multiply(b[..., 0], 0)
    z = E.subtract(E.multiply(a0, b1), E.multiply(a1, b0))
    if a.shape[-1] == 2 and b.shape[-1] == 2:
        return z
    y = E.stack(_broadcast_all([E.subtract(E.multiply(a1, b2), E.multiply(a2, b1)),
                                E.subtract(E.multiply(a2, b0), E.multiply(a0, b2)), z]), axis=-1)
    c = normalize_axis(axisc, y.ndim)[0]
    return E.transpose(y, tuple(range(c)) + (y.ndim - 1,) + tuple(range(c, y.ndim - 1)))


def _to_last(ndim, axis):
    a = axis % ndim
    return tuple(i for i in range(ndim) if i != a) + (a,)


def _broadcast_all(ts):
    shape = broadcast_shapes(*[t.shape for t in ts])
    return [t if t.shape == shape else E.broadcast_to(t, shape) for t in ts]


@keras_op(spec=lambda x1, x2: _kt((), x1, x2))
def vdot(x1, x2):
    """The dot product of the flattened ``x1`` and ``x2``."""
    t1, t2 = _pair(x1, x2)
    y = E.sum(E.multiply(E.reshape(t1, (-1,)), E.reshape(t2, (-1,))))
    return y if y.dtype == t1.dtype else E.cast(y, t1.dtype)


def _correlate_length(n, m, mode):
    if None in (n, m):
        return None
    return {"valid": max(n, m) - min(n, m) + 1, "same": max(n, m), "full": n + m - 1}[mode]


@keras_op(spec=lambda x1, x2, mode="valid": _kt(
    (_correlate_length(_shape(x1)[0], _shape(x2)[0], mode),), x1, x2, rule=floating))
def correlate(x1, x2, mode="valid"):
    """Cross-correlation of two 1-D tensors: ``c[k] = sum_n x1[n + k] * x2[n]``."""
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"correlate: `mode` must be 'valid', 'same' or 'full'. "
                         f"Received: mode={mode!r}")
    a, v = _pair(x1, x2, rule=floating)
    n, m = a.shape[0], v.shape[0]
    if m > n:  # NOTE: NumPy swaps the operands and reverses the result
        return E.flip(correlate(v, a, mode), 0)
    left = {"valid": 0, "same": m // 2, "full": m - 1}[mode]
    right = {"valid": 0, "same": m - 1 - m // 2, "full": m - 1}[mode]
    padded = E.pad(a, ((left, right),)) if left or right else a
    length = padded.shape[0] - m + 1
    xp = xp_of(a)
    windows = E.take(padded, xp.arange(length)[:, None] + xp.arange(m)[None, :], axis=0)
    return E.matmul(windows, v)


@keras_op(spec=lambda x: (_kt(_shape(x)[:-2], x, rule=floating),
                          _kt(_shape(x)[:-2], x, rule=floating)))
def slogdet(x):
    """``(sign, log|det x|)`` of square matrices (the last two axes); ``log|det|`` is
    differentiable (its gradient is the inverse transposed)."""
    (t,) = tensors(x, dtype=floating(dtype_of(x)))
    return E.slogdet(t)


__all__ = ["matmul", "dot", "einsum", "tensordot", "inner", "outer", "kron", "cross", "vdot",
           "correlate", "slogdet"]
