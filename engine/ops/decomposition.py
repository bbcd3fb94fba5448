"""Matrix functions and decompositions with their gradients (Keras's ``keras.ops.linalg``).

All act on the last two axes and batch over the others. An op with several outputs returns
them flattened and concatenated on the last axis; its public function splits them again.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import Function
from ..tensor import Tensor

__all__ = ["cholesky", "det", "slogdet", "inv", "solve", "eigh", "qr", "svd", "pinv"]


def _t(a):
    return a.swapaxes(-1, -2)


def _floating(a):
    return a if a.dtype.kind in "fc" else a.astype(np.float32)


def _check_square(op, x):
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"{op} expects (batches of) square matrices. "
                         f"Received: x.shape={tuple(x.shape)}")


def _pack(xp, *arrays):
    batch = arrays[0].shape[:-2] if arrays[0].ndim >= 2 else arrays[0].shape[:-1]
    return xp.concatenate([a.reshape(batch + (-1,)) for a in arrays], axis=-1)


def _unpack(y, shapes):
    """The inverse of ``_pack`` (on arrays or Tensors)."""
    out, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape[len(y.shape) - 1:]))
        out.append(y[..., start:start + size].reshape(shape))
        start += size
    return tuple(out)


class Cholesky(Function):
    def forward(self, xp, x):
        _check_square("cholesky", x)
        self.L = xp.linalg.cholesky(_floating(x))
        return self.L

    def backward(self, xp, gy):
        # Murray (2016): A's gradient is L^-T Phi(L^T gL) L^-1, symmetrized; Phi keeps the lower
        # triangle and halves the diagonal.
        L = self.L
        phi = xp.tril(_t(L) @ xp.tril(gy))
        phi = phi - 0.5 * xp.eye(L.shape[-1], dtype=L.dtype) * phi
        inv = xp.linalg.inv(L)
        s = _t(inv) @ phi @ inv
        return (0.5 * (s + _t(s)),)


class Det(Function):
    def forward(self, xp, x):
        _check_square("det", x)
        self.x, self.y = x, xp.linalg.det(_floating(x))
        return self.y

    def backward(self, xp, gy):
        return ((gy * self.y)[..., None, None] * _t(xp.linalg.inv(self.x)),)


class Slogdet(Function):
    def forward(self, xp, x):
        _check_square("slogdet", x)
        self.x = _floating(x)
        return xp.linalg.slogdet(self.x)[1]

    def backward(self, xp, gy):
        return (gy[..., None, None] * _t(xp.linalg.inv(self.x)),)


class Inv(Function):
    def forward(self, xp, x):
        _check_square("inv", x)
        self.y = xp.linalg.inv(_floating(x))
        return self.y

    def backward(self, xp, gy):
        return (-_t(self.y) @ gy @ _t(self.y),)


class Solve(Function):
    def forward(self, xp, a, b):
        _check_square("solve", a)
        self.vector = b.ndim == a.ndim - 1
        self.a = _floating(a)
        b = b[..., None] if self.vector else b
        self.x = xp.linalg.solve(self.a, b.astype(self.a.dtype, copy=False))
        return self.x[..., 0] if self.vector else self.x

    def backward(self, xp, gy):
        gy = gy[..., None] if self.vector else gy
        gb = xp.linalg.solve(_t(self.a), gy)
        ga = -gb @ _t(self.x)
        return ga, (gb[..., 0] if self.vector else gb)


class Eigh(Function):
    def forward(self, xp, x):
        _check_square("eigh", x)
        self.w, self.v = xp.linalg.eigh(_floating(x))
        return _pack(xp, self.w[..., None], self.v)

    def backward(self, xp, gy):
        w, v = self.w, self.v
        gw, gv = _unpack(gy, [w.shape, v.shape])
        diff = w[..., None, :] - w[..., :, None]  # w_j - w_i
        n = w.shape[-1]
        eye = xp.eye(n, dtype=bool)
        f = xp.where(eye, 0, 1 / xp.where(eye, 1, diff))
        inner = f * (_t(v) @ gv)
        inner = inner + gw[..., None] * xp.eye(n, dtype=w.dtype)
        g = v @ inner @ _t(v)
        return (0.5 * (g + _t(g)),)


class QR(Function):
    def forward(self, xp, x, mode):
        self.q, self.r = xp.linalg.qr(_floating(x), mode=mode)
        self.mode = mode
        return _pack(xp, self.q, self.r)

    def backward(self, xp, gy):
        q, r = self.q, self.r
        m, n = q.shape[-2], r.shape[-1]
        if not (self.mode == "reduced" and m >= n):
            raise NotImplementedError("The gradient of qr is implemented for mode='reduced' "
                                      f"with rows >= columns. Received: mode={self.mode!r}, "
                                      f"x.shape={q.shape[:-1] + (n,)}")
        gq, gr = _unpack(gy, [q.shape, r.shape])
        # Walter & Lehmann / PyTorch: M = R gR^T - gQ^T Q made symmetric from its lower part.
        mm = r @ _t(gr) - _t(gq) @ q
        low = xp.tril(mm, -1)
        mm = low + _t(low) + mm * xp.eye(n, dtype=mm.dtype)
        b = gq + q @ mm
        return (_t(xp.linalg.solve(r, _t(b))),)


class SVD(Function):
    def forward(self, xp, x, full_matrices, compute_uv):
        x = _floating(x)
        u, s, vh = xp.linalg.svd(x, full_matrices=full_matrices)
        self.u, self.s, self.vh, self.uv = u, s, vh, compute_uv
        return _pack(xp, u, s[..., None], vh) if compute_uv else s

    def backward(self, xp, gy):
        k = self.s.shape[-1]
        u, s, v = self.u[..., :k], self.s, _t(self.vh[..., :k, :])
        if not self.uv:
            return ((u * gy[..., None, :]) @ _t(v),)
        gu, gs, gvh = _unpack(gy, [self.u.shape, s.shape, self.vh.shape])
        if xp.any(gu[..., k:] != 0) or xp.any(gvh[..., k:, :] != 0):
            raise NotImplementedError("svd: the columns of u or v beyond min(m, n) (from "
                                      "full_matrices=True) have no gradient. Received: "
                                      f"x.shape={self.u.shape[:-1] + self.vh.shape[-1:]}")
        gu, gv = gu[..., :k], _t(gvh[..., :k, :])
        # Townsend (2016) / PyTorch: U [skew(U^T gU) / E S + S skew(V^T gV) / E + diag(gS)] V^T
        # plus the parts of gU, gV outside the spans of U, V; E_ij = s_j^2 - s_i^2.
        s2 = s * s
        e = s2[..., None, :] - s2[..., :, None]
        e = xp.where(xp.eye(k, dtype=bool), 1, e)
        utgu, vtgv = _t(u) @ gu, _t(v) @ gv
        inner = ((utgu - _t(utgu)) * s[..., None, :] + s[..., :, None] * (vtgv - _t(vtgv))) / e
        inner = inner + gs[..., None] * xp.eye(k, dtype=s.dtype)
        ga = u @ inner @ _t(v)
        ga = ga + ((gu - u @ utgu) / s[..., None, :]) @ _t(v)
        ga = ga + u @ _t((gv - v @ vtgv) / s[..., None, :])
        return (ga,)


class Pinv(Function):
    def forward(self, xp, x, rcond):
        self.a = _floating(x)
        self.y = xp.linalg.pinv(self.a) if rcond is None else xp.linalg.pinv(self.a, rcond)
        return self.y

    def backward(self, xp, gy):
        # Golub & Pereyra (1973), for a locally constant rank.
        a, y = self.a, self.y
        m, n = a.shape[-2:]
        g = -_t(y) @ gy @ _t(y)
        g = g + (xp.eye(m, dtype=a.dtype) - a @ y) @ _t(gy) @ y @ _t(y)
        g = g + _t(y) @ y @ _t(gy) @ (xp.eye(n, dtype=a.dtype) - y @ a)
        return (g,)


def cholesky(x) -> Tensor:
    """The lower Cholesky factor ``L`` of symmetric positive-definite ``x = L L^T``."""
    return Cholesky.apply(x)


def det(x) -> Tensor:
    """The determinant of (batches of) square matrices."""
    return Det.apply(x)


def slogdet(x) -> tuple:
    """``(sign, log|det|)``; the sign is a constant Tensor."""
    y = Slogdet.apply(x)
    data = x.data if isinstance(x, Tensor) else x
    return Tensor(backend.get_array_module(data).linalg.slogdet(data)[0]), y


def inv(x) -> Tensor:
    """The inverse of (batches of) square matrices."""
    return Inv.apply(x)


def solve(a, b) -> Tensor:
    """``x`` with ``a @ x = b``; ``b`` is ``(..., n, k)`` or ``(..., n)``."""
    return Solve.apply(a, b)


def eigh(x) -> tuple:
    """Eigenvalues (ascending) and eigenvectors (columns) of symmetric ``x``."""
    y = Eigh.apply(x)
    n = x.shape[-1]
    batch = tuple(x.shape[:-2])
    return _unpack(y, [batch + (n,), batch + (n, n)])


def qr(x, mode="reduced") -> tuple:
    """``(q, r)`` with ``x = q @ r``; ``mode`` "reduced" or "complete"."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"qr: mode must be 'reduced' or 'complete'. Received: mode={mode!r}")
    y = QR.apply(x, mode=mode)
    *batch, m, n = x.shape
    k = min(m, n) if mode == "reduced" else m
    return _unpack(y, [tuple(batch) + (m, k), tuple(batch) + (k, n)])


def svd(x, full_matrices=True, compute_uv=True):
    """``(u, s, vh)`` with ``x = u @ diag(s) @ vh``, or ``s`` alone when not ``compute_uv``.

    Differentiable for distinct, non-zero singular values; the extra columns of ``u`` or rows
    of ``vh`` that ``full_matrices=True`` adds have no gradient.
    """
    y = SVD.apply(x, full_matrices=full_matrices, compute_uv=compute_uv)
    if not compute_uv:
        return y
    *batch, m, n = x.shape
    k = min(m, n)
    um, vn = (m, n) if full_matrices else (k, k)
    batch = tuple(batch)
    return _unpack(y, [batch + (m, um), batch + (k,), batch + (vn, n)])


def pinv(x, rcond=None) -> Tensor:
    """The Moore-Penrose pseudo-inverse (gradient valid where the rank is locally constant)."""
    return Pinv.apply(x, rcond=rcond)
