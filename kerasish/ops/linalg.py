"""Keras 3's ``keras.ops.linalg``: decompositions, solves and norms over the last two axes.

Differentiable through ``engine.ops.decomposition`` (cholesky, det, inv, solve, eigh, qr, svd,
pinv) and composition; ``eig``, ``lu_factor`` and ``matrix_rank`` are not.
"""
from __future__ import annotations

import numpy as np

import engine
from engine import Tensor, backend
from engine import ops as E

from .. import tree
from ._base import array, float_tensor, shape_of, spec, tensor, xp_of
from ._symbolic import keras_op, unary_spec

__all__ = [
    "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq", "lu_factor",
    "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular", "svd",
]


def _mT(x):
    nd = x.ndim
    return E.transpose(x, tuple(range(nd - 2)) + (nd - 1, nd - 2))


@keras_op(spec=unary_spec)
def cholesky(x, upper=False):
    """The Cholesky factor of symmetric positive-definite `x`: lower `L` with `x = L L^T`
    (or upper `U = L^T` with `upper=True`)."""
    factor = E.cholesky(float_tensor(x))
    return _mT(factor) if upper else factor


@keras_op(spec=unary_spec)
def cholesky_inverse(x, upper=False):
    """The inverse of `L L^T` (or `U^T U` with `upper=True`) given its Cholesky factor `x`."""
    x = float_tensor(x)
    a = E.matmul(_mT(x), x) if upper else E.matmul(x, _mT(x))
    return E.inv(a)


@keras_op(spec=lambda x: spec(shape_of(x)[:-2], x.dtype))
def det(x):
    """The determinant of (batches of) square matrices."""
    return E.det(float_tensor(x))


def _eig_spec(x):
    shape = shape_of(x)
    return spec(shape[:-1], "complex64"), spec(shape, "complex64")


@keras_op(spec=_eig_spec)
def eig(x):
    """Eigenvalues and right eigenvectors of general square matrices (complex; no gradient)."""
    a = array(float_tensor(x))
    device = backend.device_of(a)
    w, v = np.linalg.eig(backend.to_numpy(a))  # NOTE: CuPy has no general eig: host NumPy
    return Tensor(backend.to_device(w, device)), Tensor(backend.to_device(v, device))


def _eigh_spec(x):
    shape = shape_of(x)
    return spec(shape[:-1], x.dtype), spec(shape, x.dtype)


@keras_op(spec=_eigh_spec)
def eigh(x):
    """Eigenvalues (ascending) and eigenvectors (columns) of symmetric `x`."""
    return E.eigh(float_tensor(x))


@keras_op(spec=unary_spec)
def inv(x):
    """The inverse of (batches of) square matrices."""
    return E.inv(float_tensor(x))


@keras_op(spec=lambda a, b: spec(shape_of(b), a.dtype))
def solve(a, b):
    """`x` with `a @ x = b`."""
    return E.solve(float_tensor(a), float_tensor(b))


@keras_op(spec=lambda a, b, lower=False: spec(shape_of(b), a.dtype))
def solve_triangular(a, b, lower=False):
    """`x` with `a @ x = b`, reading only the lower (or upper) triangle of `a`."""
    a = float_tensor(a)
    xp = xp_of(a)
    n = a.shape[-1]
    keep = xp.tril(xp.ones((n, n), dtype=bool)) if lower else xp.triu(xp.ones((n, n), bool))
    return E.solve(a * Tensor(keep.astype(a.dtype)), float_tensor(b))


def _qr_spec(x, mode="reduced"):
    *batch, m, n = shape_of(x)
    k = m if mode == "complete" or m is None or n is None else min(m, n)
    return spec(tuple(batch) + (m, k), x.dtype), spec(tuple(batch) + (k, n), x.dtype)


@keras_op(spec=_qr_spec)
def qr(x, mode="reduced"):
    """`(q, r)` with `x = q @ r`; `mode` "reduced" or "complete"."""
    if mode not in ("reduced", "complete"):
        raise ValueError("`mode` argument value not supported. Expected one of {'reduced', "
                         f"'complete'}}. Received: mode={mode}")
    return E.qr(float_tensor(x), mode=mode)


def _svd_spec(x, full_matrices=True, compute_uv=True):
    *batch, m, n = shape_of(x)
    batch = tuple(batch)
    k = None if m is None or n is None else min(m, n)
    s = spec(batch + (k,), x.dtype)
    if not compute_uv:
        return s
    um, vn = (m, n) if full_matrices else (k, k)
    return spec(batch + (m, um), x.dtype), s, spec(batch + (vn, n), x.dtype)


@keras_op(spec=_svd_spec)
def svd(x, full_matrices=True, compute_uv=True):
    """`(u, s, vh)` with `x = u @ diag(s) @ vh` (or `s` alone); differentiable for distinct,
    non-zero singular values."""
    return E.svd(float_tensor(x), full_matrices=full_matrices, compute_uv=compute_uv)


@keras_op(spec=lambda x, rcond=None: spec(shape_of(x)[:-2] + shape_of(x)[:-3:-1], x.dtype))
def pinv(x, rcond=None):
    """The Moore-Penrose pseudo-inverse."""
    return E.pinv(float_tensor(x), rcond=rcond)


@keras_op(spec=lambda a, b, rcond=None: spec(shape_of(a)[-1:] + shape_of(b)[1:], a.dtype))
def lstsq(a, b, rcond=None):
    """The least-squares (minimum-norm) solution `x` of `a @ x = b`."""
    a, b = float_tensor(a), float_tensor(b)
    if a.ndim != 2 or b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        raise ValueError("lstsq expects a (M, N) matrix and a (M,) or (M, K) right-hand side. "
                         f"Received: a.shape={tuple(a.shape)}, b.shape={tuple(b.shape)}")
    return E.matmul(E.pinv(a, rcond=rcond), b)


def _lu_one(a):
    """Doolittle LU with partial pivoting on one matrix: (lu, pivots) as LAPACK's getrf."""
    lu = a.copy()
    m, n = lu.shape
    k = min(m, n)
    piv = np.zeros(k, dtype=np.int32)
    for j in range(k):
        p = j + int(np.argmax(np.abs(lu[j:, j])))
        piv[j] = p
        if p != j:
            lu[[j, p]] = lu[[p, j]]
        if lu[j, j] != 0:
            lu[j + 1:, j] /= lu[j, j]
            lu[j + 1:, j + 1:] -= np.outer(lu[j + 1:, j], lu[j, j + 1:])
    return lu, piv


def _lu_spec(x):
    *batch, m, n = shape_of(x)
    k = None if m is None or n is None else min(m, n)
    return spec(shape_of(x), x.dtype), spec(tuple(batch) + (k,), "int32")


@keras_op(spec=_lu_spec)
def lu_factor(x):
    """`(lu, pivots)` as scipy's `lu_factor`: L (unit diagonal, below) and U packed in `lu`;
    row `i` was swapped with row `pivots[i]`. No gradient."""
    a = array(float_tensor(x))
    device = backend.device_of(a)
    host = backend.to_numpy(a)
    batch = host.shape[:-2]
    flat = host.reshape((-1,) + host.shape[-2:])
    parts = [_lu_one(m) for m in flat]
    lu = np.stack([p[0] for p in parts]).reshape(host.shape)
    piv = np.stack([p[1] for p in parts]).reshape(batch + (-1,))
    return Tensor(backend.to_device(lu, device)), Tensor(backend.to_device(piv, device))


@keras_op(spec=lambda x, tol=None: spec(shape_of(x)[:-2], "int32"))
def matrix_rank(x, tol=None):
    """The number of singular values above `tol` (default: `max(m, n) * eps * max(s)`)."""
    a = array(float_tensor(x))
    xp = xp_of(a)
    s = xp.linalg.svd(a, compute_uv=False)
    if tol is None:
        tol = s.max(axis=-1, keepdims=True) * max(a.shape[-2:]) * np.finfo(a.dtype).eps
    else:
        tol = xp.asarray(array(tol))[..., None]
    return Tensor(xp.sum(s > tol, axis=-1).astype(np.int32))


def _norm_spec(x, ord=None, axis=None, keepdims=False):
    from ._symbolic import reduce_spec

    out = reduce_spec(x, axis=axis, keepdims=keepdims)
    dtype = x.dtype if np.dtype(x.dtype).kind == "f" else "float32"
    return spec(out.shape, dtype)


def _vector_norm(x, ord, axis, keepdims):
    if ord is None or ord == 2:
        return E.sqrt(E.sum(E.square(x), axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return E.max(E.abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return E.min(E.abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return E.sum(E.cast(E.not_equal(x, 0), x.dtype), axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order for vectors. Received: ord={ord}")
    return E.power(E.sum(E.power(E.abs(x), float(ord)), axis=axis, keepdims=keepdims),
                   1.0 / ord)


def _matrix_norm(x, ord, axis, keepdims):
    r, c = axis
    if ord in (None, "fro"):
        y = E.sqrt(E.sum(E.square(x), axis=axis, keepdims=True))
    elif ord in ("nuc", 2, -2):
        moved = E.transpose(x, tuple(a for a in range(x.ndim) if a not in axis) + (r, c))
        s = E.svd(moved, compute_uv=False)
        y = {"nuc": E.sum, 2: E.max, -2: E.min}[ord](s, axis=-1)
        for a in sorted(axis):
            y = E.expand_dims(y, a)
    elif ord in (1, -1, np.inf, -np.inf):
        inner, outer = (r, c) if ord in (1, -1) else (c, r)
        sums = E.sum(E.abs(x), axis=inner, keepdims=True)
        y = (E.max if ord > 0 else E.min)(sums, axis=outer, keepdims=True)
    else:
        raise ValueError(f"Invalid norm order for matrices. Received: ord={ord}")
    return y if keepdims else E.squeeze(y, axis=axis)


@keras_op(spec=_norm_spec)
def norm(x, ord=None, axis=None, keepdims=False):
    """Vector or matrix norm, as `numpy.linalg.norm` (`ord`: None, "fro", "nuc", inf, -inf,
    0, 1, -1, 2, -2 or any p for vectors)."""
    x = float_tensor(x)
    if axis is None:
        if ord is None:
            y = E.sqrt(E.sum(E.square(x)))
            return E.reshape(y, (1,) * x.ndim) if keepdims else y
        axis = tuple(range(x.ndim))
    axis = (axis,) if isinstance(axis, int) else tuple(a % x.ndim for a in axis)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis[0], keepdims)
    if len(axis) == 2:
        return _matrix_norm(x, ord, axis, keepdims)
    raise ValueError(f"Improper number of dimensions to norm. Received: axis={axis}")


def jvp(fun, primals, tangents, has_aux=False):
    """Jacobian-vector product `(fun(*primals), J @ tangents)` (and `aux` with `has_aux`).

    kerasish differentiates in reverse mode only, so this runs one backward pass per output
    element: exact, but meant for small outputs.
    """
    xs = [tensor(p).detach() for p in primals]
    for t in xs:
        t.requires_grad = True
    with engine.enable_grad():
        out = fun(*xs)
    aux = None
    if has_aux:
        out, aux = out
    outs = tree.flatten(out)
    flat_t = [array(tensor(t)) for t in tangents]
    tangents_out = []
    for y in outs:
        xp = xp_of(y)
        values = xp.zeros(int(np.prod(y.shape)), dtype=y.dtype)
        for i in range(values.size):
            seed = xp.zeros(values.size, dtype=y.dtype)
            seed[i] = 1
            grads = engine.grad(y, xs, grad_outputs=seed.reshape(y.shape), retain_graph=True)
            values[i] = sum((array(g) * t).sum() for g, t in zip(grads, flat_t))
        tangents_out.append(Tensor(values.reshape(y.shape)))
    primal_out = tree.pack_sequence_as(out, [o.detach() for o in outs])
    tangent_out = tree.pack_sequence_as(out, tangents_out)
    return (primal_out, tangent_out, aux) if has_aux else (primal_out, tangent_out)
