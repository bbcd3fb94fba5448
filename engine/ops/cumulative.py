"""Cumulative sums and products along an axis (``axis=None``: over the flattened tensor)."""
from __future__ import annotations

from ..autograd import Function
from ._utils import normalize_axis

__all__ = ["cumsum", "cumprod"]


def _flip(xp, a, axis):
    return xp.flip(a, axis=axis)


class Cumsum(Function):
    def forward(self, xp, x, axis):
        self.shape, self.axis = x.shape, axis
        return xp.cumsum(x.reshape(-1) if axis is None else x, axis=axis or 0)

    def backward(self, xp, gy):
        # Each x_i feeds every y_j with j >= i: a reversed cumulative sum.
        ax = self.axis or 0
        return (_flip(xp, xp.cumsum(_flip(xp, gy, ax), axis=ax), ax).reshape(self.shape),)


class Cumprod(Function):
    def forward(self, xp, x, axis):
        self.shape, self.axis = x.shape, axis
        self.x = x.reshape(-1) if axis is None else x
        self.y = xp.cumprod(self.x, axis=axis or 0)
        return self.y

    def backward(self, xp, gy):
        # dy_j/dx_i = prod_{k <= j, k != i} x_k, which is y_j / x_i without zeros: then the
        # gradient is a reversed cumulative sum of gy * y, divided by x.
        ax, x = self.axis or 0, self.x
        if not (x == 0).any():
            g = _flip(xp, xp.cumsum(_flip(xp, gy * self.y, ax), axis=ax), ax) / x
            return (g.reshape(self.shape),)
        # With zeros, the product before i times the products after i up to j (a loop over
        # the axis) never divides by one.
        xm = xp.moveaxis(x, ax, 0)
        gm = xp.moveaxis(gy, ax, 0)
        n = xm.shape[0]
        before = xp.concatenate([xp.ones_like(xm[:1]), xp.cumprod(xm[:-1], axis=0)], axis=0)
        gx = xp.empty_like(xm)
        for i in range(n):
            # sum_j>=i gy_j * prod_{i<k<=j} x_k
            after = xp.cumprod(xp.concatenate([xp.ones_like(xm[:1]), xm[i + 1:]], axis=0),
                               axis=0)
            gx[i] = before[i] * (gm[i:] * after).sum(axis=0)
        return (xp.moveaxis(gx, 0, ax).reshape(self.shape),)


def _axis(x, axis, op):
    if axis is None:
        return None
    (a,) = normalize_axis(axis, len(x.shape), op)
    return a


def cumsum(x, axis=None, dtype=None):
    """Cumulative sum along ``axis`` (the flattened tensor if None)."""
    y = Cumsum.apply(x, axis=_axis(x, axis, "cumsum"))
    return y if dtype is None else y.astype(dtype)


def cumprod(x, axis=None, dtype=None):
    """Cumulative product along ``axis``; exact gradients where entries are zero too."""
    y = Cumprod.apply(x, axis=_axis(x, axis, "cumprod"))
    return y if dtype is None else y.astype(dtype)
