"""Rounding: floor, ceil, trunc, round. Piecewise constant, so their gradient is zero."""
from __future__ import annotations

from ..autograd import Function

__all__ = ["floor", "ceil", "trunc", "round"]


class _Rounding(Function):
    def forward(self, xp, x, decimals=0):
        if decimals:
            return xp.round(x, decimals)
        return getattr(xp, self.xp_name)(x)

    def backward(self, xp, gy):
        return (xp.zeros_like(gy),)


class Floor(_Rounding):
    xp_name = "floor"


class Ceil(_Rounding):
    xp_name = "ceil"


class Trunc(_Rounding):
    xp_name = "trunc"


class Round(_Rounding):
    xp_name = "rint"  # NOTE: halves go to the even neighbour, as numpy.round


def floor(x):
    return Floor.apply(x)


def ceil(x):
    return Ceil.apply(x)


def trunc(x):
    return Trunc.apply(x)


def round(x, decimals=0):
    """Rounds to ``decimals`` decimal places (halves to even); the gradient is zero."""
    return Round.apply(x, decimals=int(decimals))
