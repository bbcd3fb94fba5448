"""Elementwise ops against NumPy, with gradient checks (broadcasting cases included)."""
import numpy as np

from engine import ops
from tests.engine import op_tests
from tests.helpers import OpCase, positive, randn

A, B = randn(3, 4, seed=1), randn(3, 4, seed=2)
ROW, COL = randn(4, seed=3), randn(3, 1, seed=4)
P = positive(3, 4, seed=5)
# Values kept away from kinks (0 for abs/sign, ties for max/min) so finite differences hold.
AWAY = np.where(np.abs(A) < 0.1, 0.25, A)

CASES = [
    OpCase("add", ops.add, [A, B], np.add),
    OpCase("add", ops.add, [A, ROW], np.add, label="broadcast-row"),
    OpCase("add", ops.add, [COL, ROW], np.add, label="broadcast-both"),
    OpCase("add", lambda x: ops.add(x, 2.5), [A], lambda x: x + 2.5, label="scalar"),
    OpCase("subtract", ops.subtract, [A, COL], np.subtract, label="broadcast"),
    OpCase("subtract", lambda x: 1.0 - x, [A], lambda x: 1.0 - x, label="rsub"),
    OpCase("multiply", ops.multiply, [A, B], np.multiply),
    OpCase("multiply", ops.multiply, [COL, ROW], np.multiply, label="broadcast"),
    OpCase("divide", ops.divide, [A, P], np.divide),
    OpCase("divide", ops.divide, [A, positive(4, seed=6)], np.divide, label="broadcast"),
    OpCase("negative", ops.negative, [A], np.negative),
    OpCase("power", ops.power, [P, B], np.power),
    OpCase("power", lambda x: x ** 3, [A], lambda x: x ** 3, label="scalar-exponent"),
    OpCase("power", ops.power, [P, ROW], np.power, label="broadcast"),
    OpCase("exp", ops.exp, [A], np.exp),
    OpCase("log", ops.log, [P], np.log),
    OpCase("log1p", ops.log1p, [P], np.log1p),
    OpCase("sqrt", ops.sqrt, [P], np.sqrt),
    OpCase("square", ops.square, [A], np.square),
    OpCase("absolute", ops.absolute, [AWAY], np.abs),
    OpCase("abs", ops.abs, [AWAY], np.abs),
    OpCase("sign", ops.sign, [AWAY], np.sign),
    OpCase("maximum", ops.maximum, [A, B], np.maximum),
    OpCase("maximum", ops.maximum, [A, ROW], np.maximum, label="broadcast"),
    OpCase("minimum", ops.minimum, [A, B], np.minimum),
    OpCase("minimum", lambda x: ops.minimum(x, 0.3), [A], lambda x: np.minimum(x, 0.3),
           label="scalar"),
    OpCase("where", ops.where, [A > 0, A, B], np.where),
    OpCase("where", ops.where, [A > 0, ROW, COL], np.where, label="broadcast"),
    OpCase("clip", lambda x: ops.clip(x, -0.5, 0.5), [AWAY], lambda x: np.clip(x, -0.5, 0.5)),
]
for _name, _ref in [("equal", np.equal), ("not_equal", np.not_equal), ("less", np.less),
                    ("less_equal", np.less_equal), ("greater", np.greater),
                    ("greater_equal", np.greater_equal)]:
    CASES.append(OpCase(_name, getattr(ops, _name), [A, np.where(A > 0, A, B)], _ref,
                        grad=False))

test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def test_python_numbers_keep_float32():
    x = ops.multiply(np.ones(3, np.float32), 2.5)
    assert x.dtype == np.float32


def test_float64_stays_float64():
    assert ops.add(np.ones(3), np.ones(3)).dtype == np.float64


def test_dunders_match_ops():
    from engine import Tensor

    x, y = Tensor(A), Tensor(P)
    np.testing.assert_allclose((x + y).numpy(), (A + P).astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose((2 - x).numpy(), (2 - A).astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose((x / y).numpy(), (A / P).astype(np.float32), rtol=1e-6)
    np.testing.assert_array_equal((x > 0).numpy(), A > 0)
    np.testing.assert_allclose((-x).numpy(), -A.astype(np.float32))
