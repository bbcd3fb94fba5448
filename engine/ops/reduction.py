"""Reductions: sum mean max min prod logsumexp var std, and argmax/argmin (no gradient).

Each takes ``(x, axis=None, keepdims=False)`` as in Keras 3's ``keras.ops``; ``axis`` is None (all
axes), an int or a tuple of ints, negative ones included.

NOTE: this module defines ``sum``, ``max`` and ``min``, shadowing the builtins; use ``builtins.``
(or array methods, as below) where the builtins are meant.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd import Function
from ._utils import normalize_axis

__all__ = ["sum", "mean", "max", "min", "prod", "logsumexp", "var", "std", "argmax", "argmin"]


class _Reduce(Function):
    """Resolves ``axis`` once and broadcasts output gradients back to the input's shape.

    The op's name in error messages is the class name in lower case.
    """

    def setup(self, x, axis):
        self.axes = normalize_axis(axis, x.ndim, type(self).__name__.lower())
        self.shape = x.shape
        # The output shape with keepdims=True and without it.
        self.kshape = tuple(1 if i in self.axes else n for i, n in enumerate(x.shape))
        self.oshape = tuple(n for i, n in enumerate(x.shape) if i not in self.axes)
        self.n = math.prod(x.shape[a] for a in self.axes)  # elements per output
        return self.axes

    def check_nonempty(self, axis):
        if any(self.shape[a] == 0 for a in self.axes):
            raise ValueError(
                f"{type(self).__name__.lower()}: cannot reduce an empty axis (there is no "
                f"identity). Received: x.shape={self.shape}, axis={axis}"
            )

    def finish(self, y, keepdims):
        """``y`` computed with keepdims=True, reshaped to what the caller asked for."""
        return y if keepdims else y.reshape(self.oshape)

    def expand(self, xp, g):
        """An output gradient as a (read-only, broadcast) array of the input's shape."""
        return xp.broadcast_to(g.reshape(self.kshape), self.shape)


def _floating(x):
    """Integer/bool inputs average to float32 (as in Keras); float inputs keep their dtype."""
    return x if x.dtype.kind in "fc" else x.astype(np.float32)


class Sum(_Reduce):
    def forward(self, xp, x, axis=None, keepdims=False):
        return x.sum(axis=self.setup(x, axis), keepdims=keepdims)

    def backward(self, xp, gy):
        return (self.expand(xp, gy),)


class Mean(_Reduce):
    def forward(self, xp, x, axis=None, keepdims=False):
        return _floating(x).mean(axis=self.setup(x, axis), keepdims=keepdims)

    def backward(self, xp, gy):
        return (self.expand(xp, gy / self.n),)


class _Extreme(_Reduce):
    """max/min. NOTE: the gradient is split evenly among tied extremes (as in TF/PyTorch)."""

    def forward(self, xp, x, axis=None, keepdims=False):
        axes = self.setup(x, axis)
        self.check_nonempty(axis)
        y = self.reduce(x, axes)
        self.mask = x == y
        return self.finish(y, keepdims)

    def backward(self, xp, gy):
        mask = self.mask.astype(gy.dtype)
        # NOTE: a NaN slice matches nowhere; max(count, 1) keeps 0/0 out.
        count = xp.maximum(mask.sum(axis=self.axes, keepdims=True), 1)
        return (mask * (gy.reshape(self.kshape) / count),)


class Max(_Extreme):
    @staticmethod
    def reduce(x, axes):
        return x.max(axis=axes, keepdims=True)


class Min(_Extreme):
    @staticmethod
    def reduce(x, axes):
        return x.min(axis=axes, keepdims=True)


class Prod(_Reduce):
    def forward(self, xp, x, axis=None, keepdims=False):
        self.x = x
        return x.prod(axis=self.setup(x, axis), keepdims=keepdims)

    def backward(self, xp, gy):
        # NOTE: d prod / d x_i is the product of the other entries, found without dividing by
        # zero: with no zero in the slice it is prod / x_i; with exactly one zero only that
        # entry gets a gradient (the product of the rest); with two or more, nothing does.
        x, axes = self.x, self.axes
        zero = x == 0
        n_zero = zero.sum(axis=axes, keepdims=True)
        x_nz = xp.where(zero, xp.ones((), dtype=x.dtype), x)
        p_nz = x_nz.prod(axis=axes, keepdims=True)
        lone_zero = xp.where(zero & (n_zero == 1), p_nz, xp.zeros((), dtype=x.dtype))
        others = xp.where(n_zero == 0, p_nz / x_nz, lone_zero)
        return (others * gy.reshape(self.kshape),)


class Logsumexp(_Reduce):
    def forward(self, xp, x, axis=None, keepdims=False):
        axes = self.setup(x, axis)
        self.check_nonempty(axis)
        m = x.max(axis=axes, keepdims=True)
        # NOTE: shift by the max so exp never overflows; an all -inf (or inf) slice is shifted
        # by 0 instead, which avoids inf - inf = nan.
        m = xp.where(xp.isfinite(m), m, xp.zeros((), dtype=m.dtype))
        s = xp.exp(x - m).sum(axis=axes, keepdims=True)
        # NOTE: an all -inf slice sums to 0: its result is -inf, without log(0)'s warning.
        y = xp.where(s > 0, m + xp.log(xp.where(s > 0, s, xp.ones((), dtype=s.dtype))),
                     xp.full((), -np.inf, dtype=s.dtype))
        self.x, self.y = x, y
        return self.finish(y, keepdims)

    def backward(self, xp, gy):
        # softmax(x) along the axes; a -inf result (all -inf slice) gets no gradient.
        y = xp.where(xp.isfinite(self.y), self.y, xp.zeros((), dtype=self.y.dtype))
        return (xp.exp(self.x - y) * gy.reshape(self.kshape),)


class Var(_Reduce):
    """Population variance (ddof=0), as Keras."""

    def forward(self, xp, x, axis=None, keepdims=False):
        x = _floating(x)
        axes = self.setup(x, axis)
        self.d = x - x.mean(axis=axes, keepdims=True)
        return (self.d * self.d).mean(axis=axes, keepdims=keepdims)

    def backward(self, xp, gy):
        return (self.d * (gy.reshape(self.kshape) * (2 / self.n)),)


class Std(Var):
    def forward(self, xp, x, axis=None, keepdims=False):
        self.s = xp.sqrt(super().forward(xp, x, axis=axis, keepdims=True))
        return self.finish(self.s, keepdims)

    def backward(self, xp, gy):
        # NOTE: std has no derivative where it is 0 (a constant slice); there d == 0, so a safe
        # denominator of 1 gives the subgradient 0.
        safe = xp.where(self.s > 0, self.s, xp.ones((), dtype=self.s.dtype))
        return (self.d * (gy.reshape(self.kshape) / (self.n * safe)),)


class _ArgExtreme(Function):
    """argmax/argmin: int32 indices (as Keras), no gradient."""

    def forward(self, xp, x, axis=None, keepdims=False):
        name = type(self).__name__.lower()
        if axis is not None and (isinstance(axis, bool) or not isinstance(axis, numbers.Integral)):
            raise TypeError(f"{name}: `axis` must be an int or None. Received: axis={axis!r}")
        if x.size == 0:
            raise ValueError(f"{name}: the input is empty. Received: x.shape={x.shape}")
        if axis is None:
            i = self.pick(x.reshape(-1), 0)
            shape = (1,) * x.ndim if keepdims else ()
        else:
            (a,) = normalize_axis(axis, x.ndim, name)
            i = self.pick(x, a)
            shape = x.shape[:a] + ((1,) if keepdims else ()) + x.shape[a + 1:]
        return xp.asarray(i).reshape(shape).astype(np.int32)

    def backward(self, xp, gy):  # pragma: no cover - integer outputs are never recorded
        return (None,)


class Argmax(_ArgExtreme):
    @staticmethod
    def pick(x, axis):
        return x.argmax(axis=axis)


class Argmin(_ArgExtreme):
    @staticmethod
    def pick(x, axis):
        return x.argmin(axis=axis)


def sum(x, axis=None, keepdims=False):
    """Sum of elements over ``axis`` (None: all axes; an int or a tuple of ints)."""
    return Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over ``axis``; integer inputs give float32."""
    return Mean.apply(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):
    """Maximum over ``axis``; tied maxima share the gradient equally."""
    return Max.apply(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):
    """Minimum over ``axis``; tied minima share the gradient equally."""
    return Min.apply(x, axis=axis, keepdims=keepdims)


def prod(x, axis=None, keepdims=False):
    """Product over ``axis``; the gradient is exact with zeros in the input."""
    return Prod.apply(x, axis=axis, keepdims=keepdims)


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x), axis))``, computed without overflow."""
    return Logsumexp.apply(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    """Population variance (ddof 0) over ``axis``."""
    return Var.apply(x, axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """Population standard deviation (ddof 0) over ``axis``; the gradient is 0 where it is 0."""
    return Std.apply(x, axis=axis, keepdims=keepdims)


def argmax(x, axis=None, keepdims=False):
    """Indices (int32) of the maxima along ``axis`` (None: into the flattened input)."""
    return Argmax.apply(x, axis=axis, keepdims=keepdims)


def argmin(x, axis=None, keepdims=False):
    """Indices (int32) of the minima along ``axis`` (None: into the flattened input)."""
    return Argmin.apply(x, axis=axis, keepdims=keepdims)
