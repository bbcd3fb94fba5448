"""Trigonometric and hyperbolic functions, ``expm1``, ``arctan2``, and the Bessel function ``i0``.

Each unary op is one small Function built from a row of ``_TABLE``: its NumPy/CuPy function and
its derivative as a function of the input ``x`` and the output ``y``.
"""
from __future__ import annotations

from ..autograd import Function
from ._utils import unbroadcast

_TABLE = {
    # name: (forward, derivative(xp, x, y))
    "sin": ("sin", lambda xp, x, y: xp.cos(x)),
    "cos": ("cos", lambda xp, x, y: -xp.sin(x)),
    "tan": ("tan", lambda xp, x, y: 1 + y * y),
    "arcsin": ("arcsin", lambda xp, x, y: 1 / xp.sqrt(1 - x * x)),
    "arccos": ("arccos", lambda xp, x, y: -1 / xp.sqrt(1 - x * x)),
    "arctan": ("arctan", lambda xp, x, y: 1 / (1 + x * x)),
    "sinh": ("sinh", lambda xp, x, y: xp.cosh(x)),
    "cosh": ("cosh", lambda xp, x, y: xp.sinh(x)),
    "arcsinh": ("arcsinh", lambda xp, x, y: 1 / xp.sqrt(x * x + 1)),
    "arccosh": ("arccosh", lambda xp, x, y: 1 / xp.sqrt(x * x - 1)),
    "arctanh": ("arctanh", lambda xp, x, y: 1 / (1 - x * x)),
    "expm1": ("expm1", lambda xp, x, y: y + 1),
}

__all__ = sorted(_TABLE) + ["arctan2", "i0"]


class _Unary(Function):
    """``y = f(x)`` elementwise; the gradient is ``gy * f'(x)`` from the table's row."""

    def forward(self, xp, x):
        self.x = x
        self.y = getattr(xp, self.xp_name)(x)
        return self.y

    def backward(self, xp, gy):
        return (gy * self.derivative(xp, self.x, self.y).astype(gy.dtype, copy=False),)


def _unary(name):
    xp_name, derivative = _TABLE[name]
    cls = type(name.title(), (_Unary,),
               {"xp_name": xp_name, "derivative": staticmethod(derivative)})

    def op(x):
        return cls.apply(x)

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}(x)``, as NumPy's."
    return op


sin, cos, tan = _unary("sin"), _unary("cos"), _unary("tan")
arcsin, arccos, arctan = _unary("arcsin"), _unary("arccos"), _unary("arctan")
sinh, cosh = _unary("sinh"), _unary("cosh")
arcsinh, arccosh, arctanh = _unary("arcsinh"), _unary("arccosh"), _unary("arctanh")
expm1 = _unary("expm1")


class Arctan2(Function):
    def forward(self, xp, x1, x2):
        self.x1, self.x2 = x1, x2
        return xp.arctan2(x1, x2)

    def backward(self, xp, gy):
        # d/dx1 = x2 / r2, d/dx2 = -x1 / r2 with r2 = x1^2 + x2^2
        g = gy / (self.x1 * self.x1 + self.x2 * self.x2)
        n1, n2 = self.needs_input_grad
        return (unbroadcast(g * self.x2, self.x1.shape) if n1 else None,
                unbroadcast(-g * self.x1, self.x2.shape) if n2 else None)


def arctan2(x1, x2):
    """Elementwise angle of the point ``(x2, x1)``, in ``[-pi, pi]``."""
    return Arctan2.apply(x1, x2)


def _i1(xp, x, n=64):
    """The modified Bessel function I1 (i0's derivative), which NumPy lacks: the trapezoid rule
    on I1(x) = 1/pi * integral_0^pi exp(x cos t) cos t dt, exact to rounding with 64 points
    (the integrand is smooth and periodic), scaled by exp(|x|) so it never overflows early."""
    t = (xp.arange(n, dtype=x.dtype) + 0.5) * (xp.pi / n)
    cos = xp.cos(t).reshape((n,) + (1,) * x.ndim)
    a = xp.abs(x)
    return (xp.exp(x * cos - a) * cos).mean(axis=0) * xp.exp(a)


class I0(Function):
    def forward(self, xp, x):
        self.x = x
        return xp.i0(x).astype(x.dtype, copy=False)

    def backward(self, xp, gy):
        return (gy * _i1(xp, self.x),)


def i0(x):
    """The modified Bessel function of the first kind, order 0, elementwise."""
    return I0.apply(x)
