"""check_grad itself: it passes right gradients and reports wrong ones clearly."""
import numpy as np
import pytest

import engine
from engine import Tensor, ops
from engine.gradcheck import GradientCheckError, check_grad


class WrongSquare(engine.Function):
    def forward(self, xp, x):
        self.x = x
        return x * x

    def backward(self, xp, gy):
        return (gy * self.x,)  # should be 2 * x


def test_right_gradient_passes():
    check_grad(ops.multiply, np.random.default_rng(0).standard_normal((3, 2)), np.ones((3, 2)))


def test_wrong_gradient_is_reported_with_op_and_input():
    def wrong_square(x):
        return WrongSquare.apply(x)

    with pytest.raises(GradientCheckError,
                       match=r"wrong_square: gradient of input 0 \(shape \(4,\)\)"):
        check_grad(wrong_square, np.arange(1.0, 5.0))


def test_integer_inputs_are_constants():
    check_grad(lambda x, k: ops.multiply(x, k), np.ones(3), np.arange(3))


def test_float64_is_kept():
    assert Tensor(np.ones(2)).dtype == np.float64
