"""``keras.ops.numpy``'s elementwise functions: arithmetic, exponentials, trigonometry, rounding,
comparisons, logic and bits.

Each is differentiable where Keras's is, through engine ops. Its result dtype follows Keras's
promotion (``kerasish.dtypes``): ``same`` (the operands' promoted type), ``floating`` (at
least floating: ``sin`` of an int32 tensor is float32) or ``bool``.
"""
from __future__ import annotations

import math

import numpy as np

from engine import ops as E

from ._convert import boolean, dtype_of, floating, same, tensors, wrap, xp_of
from ._symbolic import keras_op, rule_spec


def _define(name, fn, rule, n=None, doc=None):
    """Names ``fn`` as the Keras op ``name`` and gives it a spec from ``rule``."""
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc or f"Elementwise ``{name}``, as ``keras.ops.{name}``."
    return keras_op(spec=rule_spec(rule, n))(fn)


# -- unary, at least floating -----------------------------------------------------------------

def _log_base(base):
    return lambda t: E.divide(E.log(t), math.log(base))


def _sinc(t):
    # sin(pi x) / (pi x), 1 at x == 0 (a safe denominator keeps the gradient finite there)
    px = E.multiply(t, math.pi)
    zero = E.equal(t, 0)
    safe = E.where(zero, 1.0, px)
    return E.where(zero, 1.0, E.divide(E.sin(safe), safe))


def _cbrt(t):
    return E.multiply(E.sign(t), E.power(E.abs(t), 1.0 / 3.0))


def _angle(t):
    return E.where(E.less(t, 0), math.pi, E.multiply(t, 0.0))


_FLOATING_UNARY = {
    "sin": E.sin, "cos": E.cos, "tan": E.tan, "arcsin": E.arcsin, "arccos": E.arccos,
    "arctan": E.arctan, "sinh": E.sinh, "cosh": E.cosh, "tanh": E.tanh, "arcsinh": E.arcsinh,
    "arccosh": E.arccosh, "arctanh": E.arctanh, "exp": E.exp, "expm1": E.expm1, "log": E.log,
    "log1p": E.log1p, "sqrt": E.sqrt, "log2": _log_base(2), "log10": _log_base(10),
    "exp2": lambda t: E.exp(E.multiply(t, math.log(2))), "cbrt": _cbrt,
    "deg2rad": lambda t: E.multiply(t, math.pi / 180), "sinc": _sinc, "i0": E.i0,
    "rad2deg": lambda t: E.multiply(t, 180 / math.pi), "fabs": E.abs, "angle": _angle,
    "floor": E.floor, "ceil": E.ceil,
}


def _floating_unary(name, f):
    def op(x):
        (t,) = tensors(x, dtype=floating(dtype_of(x)))
        return f(t)

    return _define(name, op, floating)


for _name, _f in _FLOATING_UNARY.items():
    globals()[_name] = _floating_unary(_name, _f)


# -- unary, same dtype --------------------------------------------------------------------------

def _integer_or(f):
    """``f`` on floating tensors; integers and bools come back unchanged (trunc, round)."""
    return lambda t: f(t) if t.dtype.kind in "fc" else t


_SAME_UNARY = {
    "abs": E.abs, "absolute": E.abs, "negative": E.negative, "square": E.square,
    "sign": E.sign, "trunc": _integer_or(E.trunc), "conj": lambda t: t,
    "conjugate": lambda t: t, "real": lambda t: t, "imag": lambda t: E.multiply(t, 0),
    "copy": lambda t: E.multiply(t, 1) if t.dtype.kind == "f" else wrap(t.data.copy()),
    "reciprocal": lambda t: (E.divide(1.0, t) if t.dtype.kind in "fc"
                             else wrap(xp_of(t).reciprocal(t.data))),
    "bitwise_invert": lambda t: wrap(xp_of(t).invert(t.data)),
    "bitwise_not": lambda t: wrap(xp_of(t).invert(t.data)),
}


def _same_unary(name, f):
    rule = _bool_as_int32 if name == "square" else same

    def op(x):
        (t,) = tensors(x, dtype=rule(dtype_of(x)))
        return f(t)

    return _define(name, op, rule)


def _bool_as_int32(d):
    return "int32" if d in ("bool", bool) else same(d)


for _name, _f in _SAME_UNARY.items():
    globals()[_name] = _same_unary(_name, _f)


@keras_op(spec=rule_spec(same, 1))
def round(x, decimals=0):
    """Rounds to ``decimals`` decimal places; halves go to the even neighbour (NumPy's)."""
    (t,) = tensors(x)
    if t.dtype.kind in "fc":
        return E.round(t, decimals)
    if decimals >= 0:
        return t
    scale = 10 ** -decimals  # integers rounded to tens, hundreds, ...
    return wrap((xp_of(t).rint(t.data / scale) * scale).astype(t.dtype))


@keras_op(spec=rule_spec(same, 1))
def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """Replaces NaN by ``nan`` and infinities by ``posinf``/``neginf`` (the dtype's extremes)."""
    (t,) = tensors(x)
    if t.dtype.kind not in "fc":
        return t
    xp, info = xp_of(t), np.finfo(t.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    fill = xp.nan_to_num(t.data, nan=nan, posinf=posinf, neginf=neginf)
    return E.where(xp.isfinite(t.data), t, fill)  # the gradient flows where x is finite


# -- unary, boolean ---------------------------------------------------------------------------

_BOOL_UNARY = {
    "isfinite": lambda xp, a: xp.isfinite(a), "isinf": lambda xp, a: xp.isinf(a),
    "isnan": lambda xp, a: xp.isnan(a), "isneginf": lambda xp, a: xp.isneginf(a),
    "isposinf": lambda xp, a: xp.isposinf(a), "isreal": lambda xp, a: xp.isreal(a),
    "signbit": lambda xp, a: xp.signbit(a), "logical_not": lambda xp, a: xp.logical_not(a),
}


def _bool_unary(name, f):
    def op(x):
        (t,) = tensors(x)
        return wrap(f(xp_of(t), t.data))

    return _define(name, op, boolean)


for _name, _f in _BOOL_UNARY.items():
    globals()[_name] = _bool_unary(_name, _f)


# -- binary ---------------------------------------------------------------------------------

def _floor_divide(a, b):
    if a.dtype.kind in "fc":
        return E.floor(E.divide(a, b))
    return wrap(xp_of(a, b).floor_divide(a.data, b.data))


def _mod(a, b):
    if a.dtype.kind in "fc":  # x1 - floor(x1 / x2) * x2: the sign of x2, as Python's %
        return E.subtract(a, E.multiply(E.floor(E.divide(a, b)), b))
    return wrap(xp_of(a, b).mod(a.data, b.data))


def _fmod(a, b):
    if a.dtype.kind in "fc":  # x1 - trunc(x1 / x2) * x2: the sign of x1, as C's fmod
        return E.subtract(a, E.multiply(E.trunc(E.divide(a, b)), b))
    return wrap(xp_of(a, b).fmod(a.data, b.data))


def _nan_ignoring(pick):
    """fmax/fmin: a NaN operand loses to the other one."""

    def f(a, b):
        if a.dtype.kind not in "fc":
            return pick(a, b)
        xp = xp_of(a, b)
        return E.where(xp.isnan(a.data), b, E.where(xp.isnan(b.data), a, pick(a, b)))

    return f


def _divide_no_nan(a, b):
    zero = E.equal(b, 0)
    return E.where(zero, 0.0, E.divide(a, E.where(zero, 1.0, b)))


def _logaddexp(a, b, base=None):
    # max + log(1 + exp(-|a - b|)): never overflows; in base 2 for logaddexp2
    if base:
        a, b = E.multiply(a, math.log(2)), E.multiply(b, math.log(2))
    m = E.maximum(a, b)
    y = E.add(m, E.log1p(E.exp(E.negative(E.abs(E.subtract(a, b))))))
    return E.divide(y, math.log(2)) if base else y


def _raw(f):
    """A binary op without gradient, on the arrays (integer, boolean or piecewise results)."""
    return lambda a, b: wrap(f(xp_of(a, b), a.data, b.data))


_BINARY = {
    # name: (compute dtype rule, result dtype rule or None for the same, function)
    "add": (same, None, E.add), "subtract": (same, None, E.subtract),
    "multiply": (same, None, E.multiply), "power": (same, None, E.power),
    "maximum": (same, None, E.maximum), "minimum": (same, None, E.minimum),
    "fmax": (same, None, _nan_ignoring(E.maximum)), "fmin": (same, None, _nan_ignoring(E.minimum)),
    "floor_divide": (same, None, _floor_divide), "mod": (same, None, _mod),
    "fmod": (same, None, _fmod),
    "divide": (floating, None, E.divide), "true_divide": (floating, None, E.divide),
    "divide_no_nan": (floating, None, _divide_no_nan), "arctan2": (floating, None, E.arctan2),
    "hypot": (floating, None, lambda a, b: E.sqrt(E.add(E.square(a), E.square(b)))),
    "logaddexp": (floating, None, _logaddexp),
    "logaddexp2": (floating, None, lambda a, b: _logaddexp(a, b, base=2)),
    "heaviside": (floating, None, _raw(lambda xp, a, b: xp.heaviside(a, b))),
    "nextafter": (floating, None, _raw(lambda xp, a, b: xp.nextafter(a, b))),
    "equal": (same, boolean, E.equal), "not_equal": (same, boolean, E.not_equal),
    "less": (same, boolean, E.less), "less_equal": (same, boolean, E.less_equal),
    "greater": (same, boolean, E.greater), "greater_equal": (same, boolean, E.greater_equal),
    "logical_and": (same, boolean, _raw(lambda xp, a, b: xp.logical_and(a, b))),
    "logical_or": (same, boolean, _raw(lambda xp, a, b: xp.logical_or(a, b))),
    "logical_xor": (same, boolean, _raw(lambda xp, a, b: xp.logical_xor(a, b))),
    "bitwise_and": (same, None, _raw(lambda xp, a, b: xp.bitwise_and(a, b))),
    "bitwise_or": (same, None, _raw(lambda xp, a, b: xp.bitwise_or(a, b))),
    "bitwise_xor": (same, None, _raw(lambda xp, a, b: xp.bitwise_xor(a, b))),
    "bitwise_left_shift": (same, None, _raw(lambda xp, a, b: xp.left_shift(a, b))),
    "bitwise_right_shift": (same, None, _raw(lambda xp, a, b: xp.right_shift(a, b))),
    "left_shift": (same, None, _raw(lambda xp, a, b: xp.left_shift(a, b))),
    "right_shift": (same, None, _raw(lambda xp, a, b: xp.right_shift(a, b))),
    "gcd": (same, None, _raw(lambda xp, a, b: xp.gcd(a, b))),
    "lcm": (same, None, _raw(lambda xp, a, b: xp.lcm(a, b))),
}
_INTEGER_ONLY = {"bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
                 "bitwise_right_shift", "left_shift", "right_shift", "gcd", "lcm"}


def _binary(name, compute, result, f):
    def op(x1, x2):
        dtype = compute(dtype_of(x1), dtype_of(x2))
        if name in _INTEGER_ONLY and dtype not in ("bool",) and "int" not in dtype:
            raise TypeError(f"{name}: needs integer or boolean tensors. "
                            f"Received: x1.dtype={dtype_of(x1)}, x2.dtype={dtype_of(x2)}")
        a, b = tensors(x1, x2, dtype=dtype)
        return f(a, b)

    if name.startswith(("bitwise", "left", "right")):  # Keras names these arguments x and y
        def bitwise(x, y):
            return op(x, y)

        return _define(name, bitwise, result or compute)
    return _define(name, op, result or compute)


for _name, (_compute, _result, _f) in _BINARY.items():
    globals()[_name] = _binary(_name, _compute, _result, _f)


@keras_op(spec=rule_spec(lambda d1, d2: floating(d1), 2))
def ldexp(x1, x2):
    """``x1 * 2 ** x2`` with integer exponents ``x2``."""
    if "int" not in str(dtype_of(x2)):
        raise TypeError(f"ldexp: the exponents must be integers. Received: x2.dtype="
                        f"{dtype_of(x2)}")
    a, e = tensors(x1, x2)
    a = tensors(a, dtype=floating(dtype_of(x1)))[0]
    return E.multiply(a, wrap(xp_of(e).ldexp(xp_of(e).ones((), a.dtype), e.data)))


@keras_op(spec=rule_spec(boolean, 2))
def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Where ``|x1 - x2| <= atol + rtol * |x2|`` (elementwise, boolean)."""
    a, b = tensors(x1, x2, dtype=same(dtype_of(x1), dtype_of(x2)))
    return wrap(xp_of(a, b).isclose(a.data, b.data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def _scalar_bool_spec(*args, **kwargs):
    from ..symbolic import KerasTensor
    return KerasTensor((), dtype="bool")


@keras_op(spec=_scalar_bool_spec)
def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Whether ``isclose`` holds everywhere (a boolean scalar tensor)."""
    a, b = tensors(x1, x2, dtype=same(dtype_of(x1), dtype_of(x2)))
    xp = xp_of(a, b)
    return wrap(xp.asarray(xp.allclose(a.data, b.data, rtol=rtol, atol=atol, equal_nan=equal_nan)))


@keras_op(spec=rule_spec(lambda d, lo, hi: "int32" if d == "bool" else same(d), 3))
def clip(x, x_min, x_max):
    """Clips ``x`` to ``[x_min, x_max]`` (booleans clip as int32, as Keras)."""
    d = dtype_of(x)
    (t,) = tensors(x, dtype="int32" if d == "bool" else None)
    return E.clip(t, x_min, x_max)


def _where_spec(condition, x1=None, x2=None):
    if x1 is None and x2 is None:
        from .numpy_sort import nonzero

        return nonzero.spec(condition)
    return rule_spec(lambda c, a, b: same(a, b))(condition, x1, x2)


@keras_op(spec=_where_spec)
def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` holds, else ``x2``; with one argument, ``nonzero(condition)``."""
    if x1 is None and x2 is None:
        from .numpy_sort import nonzero

        return nonzero(condition)
    if (x1 is None) != (x2 is None):
        raise ValueError("where: give both `x1` and `x2`, or neither. "
                         f"Received: x1={x1!r}, x2={x2!r}")
    (c,) = tensors(condition, dtype="bool")
    a, b = tensors(x1, x2, dtype=same(dtype_of(x1), dtype_of(x2)))
    if c.device != a.device:
        c = c.to(a.device)
    return E.where(c, a, b)


__all__ = sorted(list(_FLOATING_UNARY) + list(_SAME_UNARY) + list(_BOOL_UNARY) + list(_BINARY)
                 + ["round", "nan_to_num", "ldexp", "isclose", "allclose", "clip", "where"])
