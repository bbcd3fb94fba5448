"""erf and erfinv against math.erf and as inverses of each other, with gradient checks."""
import math

import numpy as np

from engine import Tensor, ops
from tests.engine import op_tests
from tests.helpers import OpCase

X = np.array([[-3.0, -1.2, -0.4, 0.0], [0.05, 0.7, 1.5, 4.5]])
P = np.array([-0.99, -0.5, -0.1, 0.0, 0.2, 0.6, 0.95, 0.999])

CASES = [
    OpCase("erf", ops.erf, [X], np.vectorize(math.erf)),
    OpCase("erfinv", ops.erfinv, [P], None),
    OpCase("erfinv", lambda t: ops.erf(ops.erfinv(t)), [P], lambda p: p, label="inverse",
           atol=1e-6),
]
test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def test_erfinv_inverts_math_erf_in_float64():
    y = np.linspace(-3.5, 3.5, 29)
    x = np.vectorize(math.erf)(y)
    np.testing.assert_allclose(ops.erfinv(x).numpy(), y, rtol=1e-9, atol=1e-9)


def test_erfinv_ends_and_outside():
    y = ops.erfinv(np.array([-1.0, 1.0, 1.5], dtype=np.float32)).numpy()
    assert y.dtype == np.float32
    assert np.isneginf(y[0]) and np.isposinf(y[1]) and np.isnan(y[2])


def test_integer_input_gives_float32():
    assert ops.erf(Tensor(np.array([0, 1]))).dtype == np.float32
