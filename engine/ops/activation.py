"""Activations: the relu family, sigmoid/tanh family, gelu, and stable softmax/log_softmax.

Names, arguments and defaults follow Keras 3's ``keras.ops`` (``leaky_relu(x, negative_slope=0.2)``,
``gelu(x, approximate=True)``, ``softmax(x, axis=-1)``...).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..autograd import Function
from ._utils import normalize_axis

__all__ = [
    "relu", "relu6", "sigmoid", "tanh", "softplus", "softsign", "silu", "swish", "log_sigmoid",
    "leaky_relu", "hard_sigmoid", "hard_silu", "hard_swish", "elu", "selu", "gelu", "softmax",
    "log_softmax",
]

# Keras 3's SELU constants (Klambauer et al., 2017).
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_HALF = math.sqrt(0.5)
_GELU_COEF = 0.044715


def _floating(x):
    """Integer/bool inputs become float32 (as in Keras); float inputs keep their dtype."""
    return x if x.dtype.kind in "fc" else x.astype(np.float32)


def _zero(xp, like):
    # NOTE: a 0-d array of the right dtype, so that ``where`` never promotes (CuPy included).
    return xp.zeros((), dtype=like.dtype)


def _sigmoid(xp, x):
    # NOTE: exp(-|x|) lies in (0, 1], so neither branch can overflow for any x.
    e = xp.exp(-xp.abs(x))
    r = 1 / (1 + e)
    return xp.where(x >= 0, r, e * r)


def _log1p_exp_neg_abs(xp, x):
    return xp.log1p(xp.exp(-xp.abs(x)))  # shared by softplus and log_sigmoid; never overflows


def _polevl(x, coefs):
    """Horner's rule; Python-float coefficients keep the dtype of ``x``."""
    y = coefs[0]
    for c in coefs[1:]:
        y = y * x + c
    return y


# Cephes ``ndtr`` (S. Moshier, public domain; also what scipy compiles): erf(z) = z T(z^2)/U(z^2)
# for |z| < 1, and erfc(z) = exp(-z^2) P(z)/Q(z) for 1 <= z < 8. Relative error ~1e-16.
_ERF_T = (9.60497373987051638749e0, 9.00260197203842689217e1, 2.23200534594684319226e3,
          7.00332514112805075473e3, 5.55923013010394962768e4)
_ERF_U = (1.0, 3.35617141647503099647e1, 5.21357949780152679795e2, 4.59432382970980127987e3,
          2.26290000613890934246e4, 4.92673942608635921086e4)
_ERFC_P = (2.46196981473530512524e-10, 5.64189564831068821977e-1, 7.46321056442269912687e0,
           4.86371970985681366614e1, 1.96520832956077098242e2, 5.26445194995477358631e2,
           9.34528527171957607540e2, 1.02755188689515710272e3, 5.57535335369399327526e2)
_ERFC_Q = (1.0, 1.32281951154744992508e1, 8.67072140885989742329e1, 3.54937778887819891062e2,
           9.75708501743205489753e2, 1.82390916687909736289e3, 2.24633760818710981792e3,
           1.65666309194161350182e3, 5.57535340817727675546e2)


def _normal_cdf(xp, x):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2, accurate in both tails (the tails use erfc)."""
    z = x * _SQRT_HALF
    # NOTE: each branch is evaluated on clipped arguments so that neither overflows (float32
    # polynomials of a large z would give inf/inf = nan and a RuntimeWarning).
    zc = xp.clip(z, -1, 1)
    zz = zc * zc
    inner = 0.5 + 0.5 * zc * _polevl(zz, _ERF_T) / _polevl(zz, _ERF_U)
    a = xp.clip(xp.abs(z), 1, 8)  # erfc(8) ~ 1e-29: beyond it the tail is 0 to double precision
    tail = 0.5 * xp.exp(-a * a) * _polevl(a, _ERFC_P) / _polevl(a, _ERFC_Q)
    outer = xp.where(x > 0, 1 - tail, tail)
    return xp.where(xp.abs(z) < 1, inner, outer)


class Relu(Function):
    def forward(self, xp, x):
        self.mask = x > 0
        return xp.maximum(x, 0)

    def forward_(self, xp, x):  # in place, for a compiled plan (engine.jit)
        self.mask = x > 0
        return xp.maximum(x, 0, out=x)

    def backward(self, xp, gy):
        return (gy * self.mask,)


class Relu6(Function):
    def forward(self, xp, x):
        self.mask = (x > 0) & (x < 6)
        return xp.minimum(xp.maximum(x, 0), 6)

    def backward(self, xp, gy):
        return (gy * self.mask,)


class Sigmoid(Function):
    def forward(self, xp, x):
        self.y = _sigmoid(xp, _floating(x))
        return self.y

    def backward(self, xp, gy):
        return (gy * self.y * (1 - self.y),)


class Tanh(Function):
    def forward(self, xp, x):
        self.y = xp.tanh(_floating(x))
        return self.y

    def backward(self, xp, gy):
        return (gy * (1 - self.y * self.y),)


class Softplus(Function):
    def forward(self, xp, x):
        self.x = x = _floating(x)
        return xp.maximum(x, 0) + _log1p_exp_neg_abs(xp, x)

    def backward(self, xp, gy):
        return (gy * _sigmoid(xp, self.x),)


class LogSigmoid(Function):
    def forward(self, xp, x):
        self.x = x = _floating(x)
        return xp.minimum(x, 0) - _log1p_exp_neg_abs(xp, x)

    def backward(self, xp, gy):
        return (gy * _sigmoid(xp, -self.x),)


class Softsign(Function):
    def forward(self, xp, x):
        x = _floating(x)
        self.d = 1 + xp.abs(x)
        return x / self.d

    def backward(self, xp, gy):
        return (gy / (self.d * self.d),)


class Silu(Function):
    def forward(self, xp, x):
        self.x = x = _floating(x)
        self.s = _sigmoid(xp, x)
        return x * self.s

    def backward(self, xp, gy):
        s = self.s
        return (gy * (s * (1 + self.x * (1 - s))),)


class LeakyRelu(Function):
    def forward(self, xp, x, negative_slope=0.2):
        x = _floating(x)
        self.mask, self.slope = x > 0, negative_slope
        return xp.where(self.mask, x, x * negative_slope)

    def backward(self, xp, gy):
        return (xp.where(self.mask, gy, gy * self.slope),)


class HardSigmoid(Function):
    def forward(self, xp, x):
        x = _floating(x)
        self.inside = (x > -3) & (x < 3)
        return xp.minimum(xp.maximum(x / 6 + 0.5, 0), 1)

    def backward(self, xp, gy):
        return (gy * self.inside / 6,)


class HardSilu(Function):
    def forward(self, xp, x):
        self.x = x = _floating(x)
        return x * xp.minimum(xp.maximum(x / 6 + 0.5, 0), 1)

    def backward(self, xp, gy):
        x = self.x
        # d/dx x*hard_sigmoid(x): 0 below -3, x/3 + 1/2 inside, 1 above 3.
        inside = xp.where(x > -3, gy * (x / 3 + 0.5), _zero(xp, gy))
        return (xp.where(x >= 3, gy, inside),)


class Elu(Function):
    def forward(self, xp, x, alpha=1.0, scale=1.0):
        x = _floating(x)
        self.mask, self.alpha, self.scale = x > 0, alpha, scale
        # NOTE: expm1 of min(x, 0) keeps exp from overflowing on the branch where() drops.
        self.em = xp.expm1(xp.minimum(x, 0))
        y = xp.where(self.mask, x, self.em * alpha)
        return y * scale if scale != 1.0 else y

    def backward(self, xp, gy):
        gx = xp.where(self.mask, gy, gy * (self.alpha * (self.em + 1)))
        return (gx * self.scale if self.scale != 1.0 else gx,)


class Gelu(Function):
    def forward(self, xp, x, approximate=True):
        self.x = x = _floating(x)
        self.approximate = approximate
        if approximate:
            self.t = xp.tanh(_SQRT_2_OVER_PI * (x + _GELU_COEF * x * x * x))
            return 0.5 * x * (1 + self.t)
        self.cdf = _normal_cdf(xp, x)
        return x * self.cdf

    def backward(self, xp, gy):
        x = self.x
        if self.approximate:
            t = self.t
            dt = (1 - t * t) * (_SQRT_2_OVER_PI * (1 + 3 * _GELU_COEF * x * x))
            return (gy * (0.5 * (1 + t) + 0.5 * x * dt),)
        pdf = xp.exp(-0.5 * x * x) * _INV_SQRT_2PI
        return (gy * (self.cdf + x * pdf),)


class Softmax(Function):
    def forward(self, xp, x, axis=-1):
        x = _floating(x)
        self.axis = normalize_axis(axis, x.ndim, "softmax")
        # NOTE: subtracting the max makes every exponent <= 0: no overflow for any |x|.
        e = xp.exp(x - x.max(axis=self.axis, keepdims=True))
        self.y = e / e.sum(axis=self.axis, keepdims=True)
        return self.y

    def backward(self, xp, gy):
        y = self.y
        return (y * (gy - (gy * y).sum(axis=self.axis, keepdims=True)),)


class LogSoftmax(Function):
    def forward(self, xp, x, axis=-1):
        x = _floating(x)
        self.axis = normalize_axis(axis, x.ndim, "log_softmax")
        s = x - x.max(axis=self.axis, keepdims=True)
        self.y = s - xp.log(xp.exp(s).sum(axis=self.axis, keepdims=True))
        return self.y

    def backward(self, xp, gy):
        return (gy - xp.exp(self.y) * gy.sum(axis=self.axis, keepdims=True),)


def _check_number(op, name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: `{name}` must be a number. Received: {name}={value!r}")
    return float(value)


def relu(x):
    """Rectified linear unit, ``max(x, 0)``; the gradient at 0 is taken as 0."""
    return Relu.apply(x)


def relu6(x):
    """``min(max(x, 0), 6)``."""
    return Relu6.apply(x)


def sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))``, stable for any ``|x|``."""
    return Sigmoid.apply(x)


def tanh(x):
    """Hyperbolic tangent."""
    return Tanh.apply(x)


def softplus(x):
    """``log(1 + exp(x))``, computed without overflow for large ``x``."""
    return Softplus.apply(x)


def log_sigmoid(x):
    """``log(sigmoid(x)) = -softplus(-x)``, stable for any ``|x|``."""
    return LogSigmoid.apply(x)


def softsign(x):
    """``x / (1 + |x|)``."""
    return Softsign.apply(x)


def silu(x):
    """Sigmoid linear unit (swish), ``x * sigmoid(x)``."""
    return Silu.apply(x)


swish = silu


def leaky_relu(x, negative_slope=0.2):
    """``x`` for ``x > 0``, else ``negative_slope * x``."""
    slope = _check_number("leaky_relu", "negative_slope", negative_slope)
    return LeakyRelu.apply(x, negative_slope=slope)


def hard_sigmoid(x):
    """Piecewise-linear sigmoid, ``relu6(x + 3) / 6`` (Keras 3's definition)."""
    return HardSigmoid.apply(x)


def hard_silu(x):
    """Hard swish, ``x * relu6(x + 3) / 6``."""
    return HardSilu.apply(x)


hard_swish = hard_silu


def elu(x, alpha=1.0):
    """Exponential linear unit: ``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``."""
    return Elu.apply(x, alpha=_check_number("elu", "alpha", alpha))


def selu(x):
    """Scaled ELU, ``scale * elu(x, alpha)`` with Keras's fixed ``alpha`` and ``scale``."""
    return Elu.apply(x, alpha=_SELU_ALPHA, scale=_SELU_SCALE)


def gelu(x, approximate=True):
    """Gaussian error linear unit: ``x Phi(x)``, or its tanh approximation if ``approximate``.

    The approximation is ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.
    """
    if not isinstance(approximate, (bool, np.bool_)):
        raise TypeError(
            f"gelu: `approximate` must be a bool. Received: approximate={approximate!r}")
    return Gelu.apply(x, approximate=bool(approximate))


def softmax(x, axis=-1):
    """Softmax over ``axis`` (an int or a tuple of ints: the axes that sum to 1); stable."""
    return Softmax.apply(x, axis=axis)


def log_softmax(x, axis=-1):
    """``log(softmax(x, axis))``, computed as ``x - logsumexp(x, axis)`` (stable)."""
    return LogSoftmax.apply(x, axis=axis)
