"""Activation ops against closed forms in NumPy, with gradient checks and stability tests."""
import math

import numpy as np
import pytest

import engine
from engine import Tensor, ops
from tests.engine import op_tests
from tests.helpers import OpCase, randn

# Away from every kink: 0 (relu family), +-3 (hard_sigmoid/hard_silu) and 6 (relu6).
X = np.array([[-7.5, -4.2, -2.9, -1.3, -0.4],
              [0.35, 1.7, 2.6, 3.8, 5.1],
              [6.7, -0.9, 0.8, 4.4, -3.6]])
A = randn(3, 5, seed=1)
A3 = randn(2, 3, 4, seed=2)
# Exact gelu: both branches of the erf approximation (|x/sqrt 2| < 1 and >= 1) and the far tails.
WIDE = np.array([-12.0, -5.5, -2.1, -1.2, -0.6, -0.05, 0.3, 1.1, 1.6, 2.9, 6.0, 12.0])

SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
_erf = np.vectorize(math.erf)


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))


def np_hard_sigmoid(x):
    return np.clip(x / 6 + 0.5, 0, 1)


def np_gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


def np_gelu_erf(x):
    return 0.5 * x * (1 + _erf(x / np.sqrt(2)))


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    s = x - x.max(axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


CASES = [
    OpCase("relu", ops.relu, [X], lambda x: np.maximum(x, 0)),
    OpCase("relu6", ops.relu6, [X], lambda x: np.clip(x, 0, 6)),
    OpCase("sigmoid", ops.sigmoid, [X], np_sigmoid),
    OpCase("tanh", ops.tanh, [A], np.tanh),
    OpCase("softplus", ops.softplus, [X], lambda x: np.log1p(np.exp(x))),
    OpCase("softsign", ops.softsign, [X], lambda x: x / (1 + np.abs(x))),
    OpCase("silu", ops.silu, [X], lambda x: x * np_sigmoid(x)),
    OpCase("swish", ops.swish, [A], lambda x: x * np_sigmoid(x)),
    OpCase("log_sigmoid", ops.log_sigmoid, [X], lambda x: -np.log1p(np.exp(-x))),
    OpCase("leaky_relu", ops.leaky_relu, [X], lambda x: np.where(x > 0, x, 0.2 * x)),
    OpCase("leaky_relu", lambda x: ops.leaky_relu(x, negative_slope=0.05), [X],
           lambda x: np.where(x > 0, x, 0.05 * x), label="slope"),
    OpCase("hard_sigmoid", ops.hard_sigmoid, [X], np_hard_sigmoid),
    OpCase("hard_silu", ops.hard_silu, [X], lambda x: x * np_hard_sigmoid(x)),
    OpCase("hard_swish", ops.hard_swish, [X], lambda x: x * np_hard_sigmoid(x)),
    OpCase("elu", ops.elu, [X], np_elu),
    OpCase("elu", lambda x: ops.elu(x, alpha=0.5), [X], lambda x: np_elu(x, 0.5), label="alpha"),
    OpCase("selu", ops.selu, [X], lambda x: SELU_SCALE * np_elu(x, SELU_ALPHA)),
    OpCase("gelu", ops.gelu, [X], np_gelu_tanh, label="tanh"),
    OpCase("gelu", lambda x: ops.gelu(x, approximate=False), [X], np_gelu_erf, label="erf"),
    OpCase("gelu", lambda x: ops.gelu(x, approximate=False), [WIDE], np_gelu_erf,
           label="erf-wide"),
    OpCase("softmax", ops.softmax, [A], np_softmax),
    OpCase("softmax", lambda x: ops.softmax(x, axis=0), [A], lambda x: np_softmax(x, 0),
           label="axis0"),
    OpCase("softmax", lambda x: ops.softmax(x, axis=(1, 2)), [A3],
           lambda x: np_softmax(x, (1, 2)), label="axis-tuple"),
    OpCase("softmax", lambda x: ops.softmax(x, axis=-2), [A3], lambda x: np_softmax(x, -2),
           label="axis-negative"),
    OpCase("log_softmax", ops.log_softmax, [A], np_log_softmax),
    OpCase("log_softmax", lambda x: ops.log_softmax(x, axis=(0, 2)), [A3],
           lambda x: np_log_softmax(x, (0, 2)), label="axis-tuple"),
    OpCase("log_softmax", lambda x: ops.log_softmax(x, axis=1), [A3],
           lambda x: np_log_softmax(x, 1), label="axis1"),
]

test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)

HUGE = np.array([-1e4, -100.0, -30.0, 0.5, 30.0, 100.0, 1e4])


@pytest.mark.parametrize("name", ["sigmoid", "softplus", "log_sigmoid", "silu", "elu", "selu",
                                  "gelu", "softsign", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_stable_for_huge_inputs(name, dtype):
    # filterwarnings=error: an overflow in exp would fail here.
    x = Tensor(HUGE.astype(dtype), requires_grad=True)
    y = getattr(ops, name)(x)
    y.backward(np.ones(y.shape, dtype))
    assert y.dtype == dtype and x.grad.dtype == dtype
    assert np.all(np.isfinite(y.numpy())) and np.all(np.isfinite(x.grad.numpy()))


def test_stable_values_at_the_extremes():
    x = HUGE.astype(np.float32)
    np.testing.assert_allclose(ops.sigmoid(x).numpy()[[0, -1]], [0, 1])
    np.testing.assert_allclose(ops.softplus(x).numpy()[[0, -1]], [0, 1e4])
    np.testing.assert_allclose(ops.log_sigmoid(x).numpy()[[0, -1]], [-1e4, 0])
    # Accurate (not just finite) in the far tail: sigmoid(-30) ~ 9.4e-14.
    np.testing.assert_allclose(ops.sigmoid(np.float64(-30.0)).item(),
                               np.exp(-30) / (1 + np.exp(-30)), rtol=1e-12)


@pytest.mark.parametrize("op", [ops.softmax, ops.log_softmax])
def test_softmax_stable_for_huge_logits(op):
    x = Tensor(np.array([[1e4, -1e4, 0.0], [-1e4, -1e4 + 1, -1e4]], np.float32),
               requires_grad=True)
    y = op(x)
    y.backward(np.ones(y.shape, np.float32))
    ref = (np_softmax if op is ops.softmax else np_log_softmax)(x.numpy().astype(np.float64))
    np.testing.assert_allclose(y.numpy(), ref, rtol=1e-5, atol=1e-5)
    assert np.all(np.isfinite(x.grad.numpy()))


def test_exact_gelu_matches_math_erf_in_float64():
    x = np.linspace(-15, 15, 3001)
    np.testing.assert_allclose(ops.gelu(x, approximate=False).numpy(), np_gelu_erf(x),
                               rtol=1e-13, atol=1e-15)


def test_float64_stays_float64_and_ints_become_float32():
    for fn in (ops.sigmoid, ops.gelu, ops.softmax, ops.elu):
        assert fn(np.ones((2, 3))).dtype == np.float64
        assert fn(np.ones((2, 3), np.int32)).dtype == np.float32


def test_softmax_sums_to_one_over_tuple_axes():
    y = ops.softmax(A3, axis=(0, -1)).numpy()
    np.testing.assert_allclose(y.sum(axis=(0, 2)), np.ones(3), rtol=1e-6)


def test_bad_softmax_axis_is_a_clear_error():
    with pytest.raises(ValueError, match=r"softmax.*Received: axis=2"):
        ops.softmax(np.ones((2, 3), np.float32), axis=2)
    with pytest.raises(ValueError, match=r"log_softmax.*repeated.*Received: axis=\(1, -1\)"):
        ops.log_softmax(np.ones((2, 3), np.float32), axis=(1, -1))


def test_bad_parameters_are_clear_errors():
    x = np.ones(3, np.float32)
    with pytest.raises(TypeError, match=r"leaky_relu.*Received: negative_slope='0.1'"):
        ops.leaky_relu(x, negative_slope="0.1")
    with pytest.raises(TypeError, match=r"elu.*Received: alpha=None"):
        ops.elu(x, alpha=None)
    with pytest.raises(TypeError, match=r"gelu.*Received: approximate='tanh'"):
        ops.gelu(x, approximate="tanh")


def test_relu_gradient_is_zero_at_zero_and_below():
    x = Tensor(np.array([-1.0, 0.0, 2.0], np.float32), requires_grad=True)
    (g,) = engine.grad(ops.relu(x), [x], grad_outputs=np.ones(3, np.float32))
    np.testing.assert_array_equal(g.numpy(), [0, 0, 1])
