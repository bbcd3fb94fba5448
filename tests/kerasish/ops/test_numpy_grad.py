"""Gradients of the differentiable ``keras.ops.numpy`` functions, by finite differences in float64.

Inputs stay away from kinks (ties, integers for rounding, 0 for abs) so the differences hold.
"""
import numpy as np
import pytest

from engine.gradcheck import check_grad
from kerasish.ops import numpy as knp

R = np.random.default_rng(1)
A = R.standard_normal((3, 4))
A = np.where(np.abs(A) < 0.1, 0.3, A)
B = R.standard_normal((3, 4))
ROW = R.standard_normal(4)
P = R.uniform(0.5, 2.0, (3, 4))
UNIT = R.uniform(-0.9, 0.9, (3, 4))
BIG = R.uniform(1.2, 3.0, (3, 4))
SQ = R.standard_normal((2, 3, 3))
V3, W3 = R.standard_normal((5, 3)), R.standard_normal((5, 3))
DISTINCT = R.permutation(12).reshape(3, 4) / 3.0 + 0.1  # no ties for sort and order statistics

UNARY = {
    "abs": A, "absolute": A, "arccos": UNIT, "arccosh": BIG, "arcsin": UNIT, "arcsinh": A,
    "arctan": A, "arctanh": UNIT, "cbrt": P, "conj": A, "conjugate": A, "copy": A, "cos": A,
    "cosh": A, "i0": A, "deg2rad": A, "exp": A, "exp2": A, "expm1": A, "fabs": A, "log": P,
    "log10": P, "log1p": P, "log2": P, "negative": A, "rad2deg": A, "real": A, "reciprocal": P,
    "sin": A, "sinc": A, "sinh": A, "sqrt": P, "square": A, "tan": UNIT, "tanh": A, "nan_to_num": A,
    "ravel": A, "fliplr": A, "flipud": A, "corrcoef": A, "diagflat": ROW, "sort": DISTINCT,
    "median": DISTINCT, "nanmedian": DISTINCT, "sum": A, "mean": A, "max": DISTINCT,
    "min": DISTINCT, "amax": DISTINCT, "amin": DISTINCT, "prod": P, "std": A, "var": A,
    "ptp": DISTINCT, "nansum": A, "nanmean": A, "nanmax": DISTINCT, "nanmin": DISTINCT,
    "nanprod": P, "nanstd": A, "nanvar": A, "cumsum": A, "cumprod": A, "nancumsum": A,
    "nancumprod": A, "trapezoid": A, "average": A, "transpose": A, "squeeze": A[:1],
    "flip": A, "rot90": A, "tril": A, "triu": A, "diff": A, "diagonal": A, "trace": A,
    "diag": A, "floor": A + 0.5 - np.floor(A) + 0.01, "ceil": A * 0.0 + 0.3,
}
BINARY = {
    "add": (A, ROW), "subtract": (A, B), "multiply": (A, ROW), "divide": (A, P),
    "true_divide": (A, P), "power": (P, A), "maximum": (A, B), "minimum": (A, B),
    "fmax": (A, B), "fmin": (A, B), "arctan2": (A, B), "hypot": (A, B), "logaddexp": (A, B),
    "logaddexp2": (A, B), "divide_no_nan": (A, P), "mod": (A, P + 3), "fmod": (A, P + 3),
    "matmul": (A, B.T), "dot": (A, B.T), "inner": (A, B), "outer": (A, ROW),
    "kron": (A[:2, :2], B[:2, :3]), "vdot": (A, B), "cross": (V3, W3),
    "correlate": (ROW, ROW[:2]), "tensordot": (SQ, SQ[0]), "append": (A, B),
}
OTHER = {
    "reshape": (lambda x: knp.reshape(x, (2, -1)), [A]),
    "expand_dims": (lambda x: knp.expand_dims(x, 1), [A]),
    "broadcast_to": (lambda x: knp.broadcast_to(x, (3, 4)), [ROW]),
    "moveaxis": (lambda x: knp.moveaxis(x, 0, 2), [SQ]),
    "swapaxes": (lambda x: knp.swapaxes(x, 0, 1), [A]),
    "concatenate": (lambda x, y: knp.concatenate([x, y], axis=1), [A, B]),
    "stack": (lambda x, y: knp.stack([x, y], axis=2), [A, B]),
    "hstack": (lambda x, y: knp.hstack([x, y]), [A, B]),
    "vstack": (lambda x, y: knp.vstack([x, y]), [A, ROW]),
    "dstack": (lambda x, y: knp.dstack([x, y]), [A, B]),
    "split": (lambda x: knp.split(x, 2, axis=1)[1], [A]),
    "array_split": (lambda x: knp.array_split(x, 3, axis=1)[0], [A]),
    "hsplit": (lambda x: knp.hsplit(x, 2)[0], [A]),
    "vsplit": (lambda x: knp.vsplit(x, 3)[2], [A]),
    "dsplit": (lambda x: knp.dsplit(x, 3)[1], [SQ]),
    "pad": (lambda x: knp.pad(x, 1, mode="symmetric"), [A]),
    "tile": (lambda x: knp.tile(x, (2, 1)), [A]),
    "repeat": (lambda x: knp.repeat(x, 2, axis=1), [A]),
    "flip": (lambda x: knp.flip(x), [A]),
    "roll": (lambda x: knp.roll(x, 1, axis=0), [A]),
    "get_item": (lambda x: knp.get_item(x, (1, slice(None, 3))),
                 [A]),
    "take": (lambda x: knp.take(x, np.array([0, 2, 0]), axis=1), [A]),
    "take_along_axis": (lambda x: knp.take_along_axis(x, np.array([[0, 1, 1, 2]]), 0), [A]),
    "select": (lambda x, y: knp.select([x > 0, y > 0], [x, y], 2.0), [A, B]),
    "meshgrid": (lambda x, y: knp.multiply(*knp.meshgrid(x, y)), [ROW, ROW[:3]]),
    "where": (lambda x, y: knp.where(x > 0, x, y), [A, B]),
    "clip": (lambda x: knp.clip(x, -0.5, 0.5), [np.where(np.abs(A - 0.5) < 0.05, 0.2, A)]),
    "ldexp": (lambda x: knp.ldexp(x, np.array(3, np.int32)), [A]),
    "quantile": (lambda x: knp.quantile(x, [0.2, 0.7], axis=1), [DISTINCT]),
    "percentile": (lambda x: knp.percentile(x, 35.0), [DISTINCT]),
    "nanquantile": (lambda x: knp.nanquantile(x, 0.4, axis=0), [DISTINCT]),
    "nanpercentile": (lambda x: knp.nanpercentile(x, 60.0, axis=1), [DISTINCT]),
    "average-weights": (lambda x, w: knp.average(x, axis=1, weights=w), [A, P[0]]),
    "einsum": (lambda x, y: knp.einsum("ij,kj->ik", x, y), [A, B]),
    "einsum-ellipsis": (lambda x, y: knp.einsum("...ij,...jk", x, y), [SQ, SQ]),
    "linspace": (lambda a, b: knp.linspace(a, b, 5, axis=1), [ROW, ROW + 2]),
    "logspace": (lambda a, b: knp.logspace(a, b, 4), [ROW, ROW + 1]),
    "geomspace": (lambda a, b: knp.geomspace(a, b, 4), [P[0], P[1] * 3]),
    "vander": (lambda x: knp.vander(x, 4), [ROW]),
    "select-default": (lambda x: knp.select([x > 0], [x], x * 2), [A]),
    "slogdet": (lambda x: knp.slogdet(x)[1], [SQ + 3 * np.eye(3)]),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradients(name):
    check_grad(getattr(knp, name), UNARY[name])


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_gradients(name):
    check_grad(getattr(knp, name), *BINARY[name])


@pytest.mark.parametrize("name", sorted(OTHER))
def test_other_gradients(name):
    fn, inputs = OTHER[name]
    check_grad(fn, *inputs)


def test_floor_and_rounding_pass_a_zero_gradient():
    import engine

    x = engine.Tensor(A, requires_grad=True)
    (g,) = engine.grad(knp.sum(knp.add(knp.floor(x), knp.round(x))), [x])
    assert not np.asarray(g.numpy()).any()
