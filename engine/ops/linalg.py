"""Linear algebra: matmul (batched, broadcasting), dot, einsum; all on the BLAS path."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import onednn
from ..autograd import Function
from ._utils import unbroadcast

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["matmul", "dot", "einsum"]


def _shape(x):
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def _check_matmul_shapes(s1, s2, op="matmul", batch=True):
    received = f"Received: x1.shape={s1}, x2.shape={s2}"
    if len(s1) == 0 or len(s2) == 0:
        raise ValueError(f"{op}: operands must have at least one dimension. {received}")
    k1 = s1[-1]
    k2 = s2[0] if len(s2) == 1 else s2[-2]
    if k1 != k2:
        raise ValueError(
            f"{op}: the last axis of x1 ({k1}) must match "
            f"{'the only' if len(s2) == 1 else 'the second-to-last'} axis of x2 ({k2}). {received}"
        )
    try:
        if batch:
            np.broadcast_shapes(s1[:-2], s2[:-2])
    except ValueError:
        raise ValueError(
            f"{op}: the batch dimensions {s1[:-2]} and {s2[:-2]} do not broadcast. {received}"
        ) from None


def _gemm(a, b):
    """a @ b; on oneDNN's thread pool in a process that runs its convs (engine/onednn.py)."""
    y = onednn.matmul(a, b)
    return a @ b if y is None else y


class Matmul(Function):
    def forward(self, xp, x1, x2):
        _check_matmul_shapes(x1.shape, x2.shape)
        self.x1, self.x2 = x1, x2
        if x1.ndim == 2 and x2.ndim == 2:
            return _gemm(x1, x2)  # NOTE: a fresh array (no view) a plan may write over in place
        if x1.ndim > 2 and x2.ndim == 2:
            # One GEMM over the folded batch beats numpy's loop over stacked matrices.
            y = _gemm(x1.reshape(-1, x1.shape[-1]), x2)
            return y.reshape(x1.shape[:-1] + x2.shape[-1:])
        return xp.matmul(x1, x2)

    def backward(self, xp, gy):
        x1, x2 = self.x1, self.x2
        # Promote 1-D operands to matrices the way matmul does, and give gy the matching axes.
        a1 = x1 if x1.ndim > 1 else x1[None, :]
        a2 = x2 if x2.ndim > 1 else x2[:, None]
        if x2.ndim == 1:
            gy = gy[..., None]
        if x1.ndim == 1:
            gy = gy[..., None, :]
        g1 = g2 = None
        if self.needs_input_grad[0]:
            if a1.ndim >= 2 and a2.ndim == 2:
                # One GEMM over the folded batch, as in forward (numpy loops over the stack).
                g1 = _gemm(gy.reshape(-1, gy.shape[-1]), a2.T)
            else:
                g1 = unbroadcast(xp.matmul(gy, a2.swapaxes(-1, -2)), a1.shape)
            g1 = g1.reshape(x1.shape).astype(x1.dtype, copy=False)
        if self.needs_input_grad[1]:
            if a2.ndim == 2:
                # NOTE: fold the batch into the contraction: one GEMM, no (batch, k, n) temporary.
                g2 = _gemm(a1.reshape(-1, a1.shape[-1]).T, gy.reshape(-1, gy.shape[-1]))
            else:
                g2 = unbroadcast(xp.matmul(a1.swapaxes(-1, -2), gy), a2.shape)
            g2 = g2.reshape(x2.shape).astype(x2.dtype, copy=False)
        return g1, g2


def matmul(x1, x2) -> Tensor:
    """Matrix product of two tensors, with ``numpy.matmul`` semantics.

    Leading (batch) dimensions broadcast; a 1-D operand is a vector (its matrix axis is
    dropped from the result).

    Args:
        x1: tensor of shape ``(..., m, k)`` or ``(k,)``.
        x2: tensor of shape ``(..., k, n)`` or ``(k,)``.

    Returns:
        The product, of shape ``broadcast(...) + (m, n)`` less the vector axes.
    """
    return Matmul.apply(x1, x2)


def dot(x1, x2) -> Tensor:
    """Dot product with ``numpy.dot`` semantics.

    Scalars multiply; otherwise the last axis of ``x1`` is contracted with the only axis of a
    1-D ``x2`` or the second-to-last axis of ``x2``.

    Args:
        x1: first tensor.
        x2: second tensor.

    Returns:
        Tensor of shape ``x1.shape[:-1] + x2.shape[:-2] + x2.shape[-1:]``.
    """
    from .elementwise import multiply
    from .shape import reshape, transpose

    s1, s2 = _shape(x1), _shape(x2)
    if len(s1) == 0 or len(s2) == 0:
        return multiply(x1, x2)
    _check_matmul_shapes(s1, s2, op="dot", batch=False)
    if len(s2) <= 2 or len(s1) == 1:
        return matmul(x1, x2)  # here numpy.dot and numpy.matmul agree
    # N-D x M-D (M > 2): an outer product over both batches; one GEMM after moving k first.
    k = s1[-1]
    perm = (len(s2) - 2,) + tuple(i for i in range(len(s2)) if i != len(s2) - 2)
    w = reshape(transpose(x2, perm), (k, -1))
    y = matmul(reshape(x1, (-1, k)), w)
    return reshape(y, s1[:-1] + s2[:-2] + s2[-1:])


def _parse_einsum(subscripts, shapes):
    """Explicit (terms, output) for ``subscripts``; checks ranks and sizes up front."""
    received = f"Received: subscripts={subscripts!r}"
    s = subscripts.replace(" ", "")
    if "." in s:
        raise ValueError(f"einsum: ellipsis ('...') is not supported. {received}")
    ins, arrow, out = s.partition("->")
    terms = ins.split(",")
    if len(terms) != len(shapes):
        raise ValueError(
            f"einsum: {len(terms)} operand term(s) in the subscripts but {len(shapes)} "
            f"operand(s) given. {received}"
        )
    if not arrow:
        counts = {c: ins.count(c) for c in set(ins.replace(",", ""))}
        out = "".join(sorted(c for c, n in counts.items() if n == 1))
    if not all(t.isalpha() for t in terms if t) or (out and not out.isalpha()):
        raise ValueError(f"einsum: subscripts must be letters. {received}")
    if len(set(out)) != len(out) or not set(out) <= set(ins):
        raise ValueError(f"einsum: output labels must be unique input labels. {received}")
    sizes = {}
    for t, shape in zip(terms, shapes):
        if len(set(t)) != len(t):
            raise ValueError(
                f"einsum: a label repeated within one operand (diagonal/trace) is not "
                f"supported. {received}"
            )
        if len(t) != len(shape):
            raise ValueError(
                f"einsum: term {t!r} has {len(t)} labels but its operand has shape {shape}. "
                f"{received}"
            )
        for c, n in zip(t, shape):
            if sizes.setdefault(c, n) != n and 1 not in (n, sizes[c]):
                raise ValueError(
                    f"einsum: label {c!r} has sizes {sizes[c]} and {n}. {received}, "
                    f"shapes={list(shapes)}"
                )
            sizes[c] = max(sizes[c], n)
    return tuple(terms), out


class Einsum(Function):
    def forward(self, xp, *operands, terms, out):
        self.operands, self.terms, self.out = operands, terms, out
        return xp.einsum(f"{','.join(terms)}->{out}", *operands, optimize=len(operands) > 1)

    def backward(self, xp, gy):
        grads = []
        for i, (x, term) in enumerate(zip(self.operands, self.terms)):
            if not self.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [j for j in range(len(self.terms)) if j != i]
            known = set(self.out).union(*[self.terms[j] for j in others])
            kept = "".join(c for c in term if c in known)
            expr = ",".join([self.out] + [self.terms[j] for j in others]) + "->" + kept
            g = xp.einsum(expr, gy, *[self.operands[j] for j in others],
                          optimize=len(others) > 0)
            # Labels summed away inside this operand alone: their gradient is a broadcast.
            g = g.reshape(tuple(g.shape[kept.index(c)] if c in kept else 1 for c in term))
            # Size-1 axes that einsum broadcast against another operand: sum them back.
            axes = tuple(a for a, n in enumerate(x.shape) if n == 1 and g.shape[a] != 1)
            if axes:
                g = g.sum(axis=axes, keepdims=True)
            grads.append(xp.broadcast_to(g, x.shape).astype(x.dtype, copy=False))
        return tuple(grads)


def einsum(subscripts: str, *operands) -> Tensor:
    """Einstein summation over one or more operands, e.g. ``einsum("bij,bjk->bik", a, b)``.

    Explicit (``->``) and implicit forms are supported; ellipsis and labels repeated within
    one operand (diagonals, traces) are not.

    Args:
        subscripts: the subscripts, as for ``numpy.einsum``.
        *operands: the tensors.

    Returns:
        The contraction as a tensor.
    """
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string. Received: subscripts={subscripts!r}")
    terms, out = _parse_einsum(subscripts, [_shape(x) for x in operands])
    return Einsum.apply(*operands, terms=terms, out=out)
