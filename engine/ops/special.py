"""Special functions: the error function and its inverse (Keras's ``erf``, ``erfinv``)."""
from __future__ import annotations

import math

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .activation import _ERF_T, _ERF_U, _ERFC_P, _ERFC_Q, _floating, _polevl

__all__ = ["erf", "erfinv"]

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erf(xp, x):
    """Cephes's rational erf (|x| < 1) and erfc (1 <= |x| < 8) with clipped branches."""
    xc = xp.clip(x, -1, 1)
    inner = xc * _polevl(xc * xc, _ERF_T) / _polevl(xc * xc, _ERF_U)
    a = xp.clip(xp.abs(x), 1, 8)
    tail = xp.exp(-a * a) * _polevl(a, _ERFC_P) / _polevl(a, _ERFC_Q)
    return xp.where(xp.abs(x) < 1, inner, xp.sign(x) * (1 - tail))


def _erfinv(xp, x):
    """Giles's (2010) single-precision approximation, then two Newton steps in float64."""
    x64 = x.astype(np.float64)
    inside = xp.abs(x64) < 1
    x64 = xp.where(inside, x64, 0.0)  # the ends are filled in last
    w = -xp.log(xp.maximum((1 - x64) * (1 + x64), 1e-300))
    lo, hi = w - 2.5, xp.sqrt(w) - 3
    p_lo = _polevl(lo, (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06,
                        2.1858087e-04, -1.25372503e-03, -4.17768164e-03, 0.246640727,
                        1.50140941))
    p_hi = _polevl(hi, (-2.00214257e-04, 1.00950558e-04, 1.34934322e-03, -3.67342844e-03,
                        5.73950773e-03, -7.6224613e-03, 9.43887047e-03, 1.00167406,
                        2.83297682))
    y = xp.where(w < 5, p_lo, p_hi) * x64
    for _ in range(2):
        y = y - (_erf(xp, y) - x64) / (_TWO_OVER_SQRT_PI * xp.exp(-y * y))
    ends = xp.where(xp.abs(x) == 1, xp.where(x > 0, np.inf, -np.inf), np.nan)
    return xp.where(inside, y, ends).astype(x.dtype)


class Erf(Function):
    def forward(self, xp, x):
        self.x = x = _floating(x)
        return _erf(xp, x)

    def backward(self, xp, gy):
        return (gy * (_TWO_OVER_SQRT_PI * xp.exp(-self.x * self.x)),)


class Erfinv(Function):
    def forward(self, xp, x):
        self.y = _erfinv(xp, _floating(x))
        return self.y

    def backward(self, xp, gy):
        # d/dx erfinv(x) = sqrt(pi)/2 exp(erfinv(x)^2)
        return (gy / _TWO_OVER_SQRT_PI * xp.exp(self.y * self.y),)


def erf(x) -> Tensor:
    """The Gauss error function, elementwise (relative error ~1e-16 in float64)."""
    return Erf.apply(x)


def erfinv(x) -> Tensor:
    """The inverse error function on [-1, 1] (+-inf at +-1, nan outside)."""
    return Erfinv.apply(x)
