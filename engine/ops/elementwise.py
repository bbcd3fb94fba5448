"""Elementwise ops: arithmetic, powers, logs, comparisons (comparisons have no gradient)."""
from __future__ import annotations

from ..autograd import Function
from ._utils import unbroadcast

__all__ = [
    "add", "subtract", "multiply", "divide", "negative", "power", "exp", "log", "log1p",
    "sqrt", "square", "absolute", "abs", "sign", "maximum", "minimum", "where", "clip",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
]


class Add(Function):
    def forward(self, xp, x1, x2):
        self.shapes = x1.shape, x2.shape
        return x1 + x2

    def forward_(self, xp, x1, x2):  # in place into x1, for a compiled plan (engine.jit)
        self.shapes = x1.shape, x2.shape
        return xp.add(x1, x2, out=x1)

    def backward(self, xp, gy):
        n1, n2 = self.needs_input_grad
        return (unbroadcast(gy, self.shapes[0]) if n1 else None,
                unbroadcast(gy, self.shapes[1]) if n2 else None)


class Subtract(Function):
    def forward(self, xp, x1, x2):
        self.shapes = x1.shape, x2.shape
        return x1 - x2

    def backward(self, xp, gy):
        n1, n2 = self.needs_input_grad
        g2 = unbroadcast(-gy, self.shapes[1]) if n2 else None
        return (unbroadcast(gy, self.shapes[0]) if n1 else None), g2


class Multiply(Function):
    def forward(self, xp, x1, x2):
        self.x1, self.x2 = x1, x2
        return x1 * x2

    def backward(self, xp, gy):
        n1, n2 = self.needs_input_grad
        g1 = unbroadcast(gy * self.x2, self.x1.shape) if n1 else None
        g2 = unbroadcast(gy * self.x1, self.x2.shape) if n2 else None
        return g1, g2


class Divide(Function):
    def forward(self, xp, x1, x2):
        self.x1, self.x2 = x1, x2
        return x1 / x2

    def backward(self, xp, gy):
        n1, n2 = self.needs_input_grad
        g1 = gy / self.x2
        g2 = unbroadcast(-g1 * self.x1 / self.x2, self.x2.shape) if n2 else None
        return (unbroadcast(g1, self.x1.shape) if n1 else None), g2


class Negative(Function):
    def forward(self, xp, x):
        return -x

    def backward(self, xp, gy):
        return (-gy,)


class Power(Function):
    def forward(self, xp, x1, x2):
        self.x1, self.x2 = x1, x2
        self.y = x1 ** x2
        return self.y

    def backward(self, xp, gy):
        n1, n2 = self.needs_input_grad
        g1 = g2 = None
        if n1:
            g1 = unbroadcast(gy * self.x2 * self.x1 ** (self.x2 - 1), self.x1.shape)
        if n2:
            # NOTE: d/dx2 of x1**x2 is y*log(x1); taken as 0 where x1 == 0 (y is 0 there).
            safe = xp.where(self.x1 > 0, self.x1, 1)
            g2 = unbroadcast(gy * self.y * xp.log(safe), self.x2.shape)
        return g1, g2


class Exp(Function):
    def forward(self, xp, x):
        self.y = xp.exp(x)
        return self.y

    def backward(self, xp, gy):
        return (gy * self.y,)


class Log(Function):
    def forward(self, xp, x):
        self.x = x
        return xp.log(x)

    def backward(self, xp, gy):
        return (gy / self.x,)


class Log1p(Function):
    def forward(self, xp, x):
        self.x = x
        return xp.log1p(x)

    def backward(self, xp, gy):
        return (gy / (1 + self.x),)


class Sqrt(Function):
    def forward(self, xp, x):
        self.y = xp.sqrt(x)
        return self.y

    def backward(self, xp, gy):
        return (gy / (2 * self.y),)


class Square(Function):
    def forward(self, xp, x):
        self.x = x
        return x * x

    def backward(self, xp, gy):
        return (2 * gy * self.x,)


class Absolute(Function):
    def forward(self, xp, x):
        self.x = x
        return xp.abs(x)

    def backward(self, xp, gy):
        return (gy * xp.sign(self.x),)


class Sign(Function):
    def forward(self, xp, x):
        self.shape = x.shape
        return xp.sign(x)

    def backward(self, xp, gy):
        return (xp.zeros_like(gy),)


class _Select(Function):
    """maximum/minimum: the gradient goes to the chosen input (split evenly on ties)."""

    def forward(self, xp, x1, x2):
        self.x1, self.x2 = x1, x2
        return self.pick(xp, x1, x2)

    def backward(self, xp, gy):
        first = self.compare(self.x1, self.x2)
        tie = (self.x1 == self.x2).astype(gy.dtype) * 0.5
        w1 = first.astype(gy.dtype) + tie
        g1 = unbroadcast(gy * w1, self.x1.shape) if self.needs_input_grad[0] else None
        g2 = unbroadcast(gy * (1 - w1), self.x2.shape) if self.needs_input_grad[1] else None
        return g1, g2


class Maximum(_Select):
    @staticmethod
    def pick(xp, x1, x2):
        return xp.maximum(x1, x2)

    @staticmethod
    def compare(x1, x2):
        return x1 > x2


class Minimum(_Select):
    @staticmethod
    def pick(xp, x1, x2):
        return xp.minimum(x1, x2)

    @staticmethod
    def compare(x1, x2):
        return x1 < x2


class Where(Function):
    def forward(self, xp, condition, x1, x2):
        self.condition = condition.astype(bool)
        self.shapes = x1.shape, x2.shape
        return xp.where(self.condition, x1, x2)

    def backward(self, xp, gy):
        zero = xp.zeros((), dtype=gy.dtype)
        _, n1, n2 = self.needs_input_grad
        g1 = unbroadcast(xp.where(self.condition, gy, zero), self.shapes[0]) if n1 else None
        g2 = unbroadcast(xp.where(self.condition, zero, gy), self.shapes[1]) if n2 else None
        return None, g1, g2


class Clip(Function):
    def forward(self, xp, x, x_min, x_max):
        self.inside = (x >= x_min) & (x <= x_max)
        return xp.clip(x, x_min, x_max).astype(x.dtype, copy=False)

    def backward(self, xp, gy):
        return (gy * self.inside,)


class _Compare(Function):
    """Comparisons return booleans and carry no gradient."""

    def forward(self, xp, x1, x2):
        return self.compare(xp, x1, x2)

    def backward(self, xp, gy):  # pragma: no cover - outputs are boolean, never recorded
        return None, None


def _comparison(name, compare):
    cls = type(name.title().replace("_", ""), (_Compare,), {"compare": staticmethod(compare)})

    def op(x1, x2):
        return cls.apply(x1, x2)

    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}(x1, x2)`` as a boolean tensor (no gradient)."
    return op


def add(x1, x2):
    """Elementwise ``x1 + x2`` with broadcasting."""
    return Add.apply(x1, x2)


def subtract(x1, x2):
    """Elementwise ``x1 - x2`` with broadcasting."""
    return Subtract.apply(x1, x2)


def multiply(x1, x2):
    """Elementwise ``x1 * x2`` with broadcasting."""
    return Multiply.apply(x1, x2)


def divide(x1, x2):
    """Elementwise ``x1 / x2`` with broadcasting."""
    return Divide.apply(x1, x2)


def negative(x):
    return Negative.apply(x)


def power(x1, x2):
    """Elementwise ``x1 ** x2``."""
    return Power.apply(x1, x2)


def exp(x):
    return Exp.apply(x)


def log(x):
    return Log.apply(x)


def log1p(x):
    return Log1p.apply(x)


def sqrt(x):
    return Sqrt.apply(x)


def square(x):
    return Square.apply(x)


def absolute(x):
    return Absolute.apply(x)


abs = absolute


def sign(x):
    return Sign.apply(x)


def maximum(x1, x2):
    return Maximum.apply(x1, x2)


def minimum(x1, x2):
    return Minimum.apply(x1, x2)


def where(condition, x1, x2):
    """Picks ``x1`` where ``condition`` holds, else ``x2`` (gradient flows to both)."""
    return Where.apply(condition, x1, x2)


def clip(x, x_min, x_max):
    """Clips ``x`` to ``[x_min, x_max]``; the gradient is 1 inside the range and 0 outside."""
    return Clip.apply(x, x_min=x_min, x_max=x_max)


equal = _comparison("equal", lambda xp, a, b: a == b)
not_equal = _comparison("not_equal", lambda xp, a, b: a != b)
less = _comparison("less", lambda xp, a, b: a < b)
less_equal = _comparison("less_equal", lambda xp, a, b: a <= b)
greater = _comparison("greater", lambda xp, a, b: a > b)
greater_equal = _comparison("greater_equal", lambda xp, a, b: a >= b)
