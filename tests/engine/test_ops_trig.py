"""Trigonometric, hyperbolic, rounding and cumulative ops against NumPy, with gradient checks."""
import numpy as np

from engine import ops
from tests.engine import op_tests
from tests.helpers import OpCase, positive, randn

A, B = randn(3, 4, seed=1), randn(3, 4, seed=2)
ROW = randn(4, seed=3)
UNIT = np.random.default_rng(4).uniform(-0.9, 0.9, (3, 4))  # inside (-1, 1)
ABOVE_ONE = positive(3, 4, seed=5, low=1.2, high=3.0)
# Rounding ops are flat between integers: keep the points away from the jumps.
OFF_GRID = np.floor(A * 3) / 3 + 0.17
Z = np.array([[1.5, 0.0, 2.0, -0.5], [0.7, 1.2, 0.0, 0.0], [-1.1, 0.9, 1.3, 0.6]])

CASES = [
    OpCase("sin", ops.sin, [A], np.sin),
    OpCase("cos", ops.cos, [A], np.cos),
    OpCase("tan", ops.tan, [UNIT], np.tan),
    OpCase("arcsin", ops.arcsin, [UNIT], np.arcsin),
    OpCase("arccos", ops.arccos, [UNIT], np.arccos),
    OpCase("arctan", ops.arctan, [A], np.arctan),
    OpCase("sinh", ops.sinh, [A], np.sinh),
    OpCase("cosh", ops.cosh, [A], np.cosh),
    OpCase("arcsinh", ops.arcsinh, [A], np.arcsinh),
    OpCase("arccosh", ops.arccosh, [ABOVE_ONE], np.arccosh),
    OpCase("arctanh", ops.arctanh, [UNIT], np.arctanh),
    OpCase("expm1", ops.expm1, [A * 1e-3], np.expm1, atol=1e-9, label="small"),
    OpCase("expm1", ops.expm1, [A], np.expm1),
    OpCase("i0", ops.i0, [A * 3], np.i0),
    OpCase("arctan2", ops.arctan2, [A, B], np.arctan2),
    OpCase("arctan2", ops.arctan2, [A, ROW], np.arctan2, label="broadcast"),
    OpCase("floor", ops.floor, [OFF_GRID], np.floor),
    OpCase("ceil", ops.ceil, [OFF_GRID], np.ceil),
    OpCase("trunc", ops.trunc, [OFF_GRID], np.trunc),
    OpCase("round", ops.round, [OFF_GRID], np.round),
    OpCase("round", lambda x: ops.round(x, 1), [OFF_GRID + 0.01],
           lambda x: np.round(x, 1), label="decimals"),
    OpCase("cumsum", lambda x: ops.cumsum(x, axis=1), [A], lambda x: np.cumsum(x, axis=1)),
    OpCase("cumsum", ops.cumsum, [A], np.cumsum, label="flat"),
    OpCase("cumprod", lambda x: ops.cumprod(x, axis=0), [A], lambda x: np.cumprod(x, axis=0)),
    OpCase("cumprod", lambda x: ops.cumprod(x, axis=-1), [Z],
           lambda x: np.cumprod(x, axis=-1), label="zeros"),
    OpCase("cumprod", ops.cumprod, [Z], np.cumprod, label="flat"),
]

test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def test_round_halves_go_to_even():
    np.testing.assert_array_equal(ops.round(np.array([0.5, 1.5, 2.5, -0.5])).numpy(),
                                  [0.0, 2.0, 2.0, -0.0])
