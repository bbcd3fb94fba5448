"""Dropout: mask statistics, scaling, seeds, noise_shape, gradient checks."""
import numpy as np
import pytest

import engine
from engine import Tensor, ops
from engine import random as engine_random
from tests.engine import op_tests
from tests.helpers import OpCase, randn

X = randn(4, 3, 5, seed=1)

CASES = [
    # With an int seed the same mask is drawn at every call, so finite differences hold.
    OpCase("dropout", lambda x: ops.dropout(x, 0.4, seed=3), [X]),
    OpCase("dropout", lambda x: ops.dropout(x, 0.5, noise_shape=(None, 1, 5), seed=4), [X],
           label="noise-shape"),
    OpCase("dropout", lambda x: ops.dropout(x, 0.0), [X], lambda x: x, label="rate0"),
]

test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def _ones(xp, shape, dtype=np.float32):
    return Tensor(xp.ones(shape, dtype=dtype))


def test_mask_statistics_and_scaling(xp):
    rate = 0.3
    y = ops.dropout(_ones(xp, (400, 500)), rate).numpy()
    zeroed = np.mean(y == 0)
    assert abs(zeroed - rate) < 0.005, zeroed  # 200k draws: std of the fraction ~0.001
    np.testing.assert_allclose(y[y != 0], 1 / (1 - rate), rtol=1e-6)
    assert y.dtype == np.float32


def test_int_seed_is_deterministic_and_seeds_differ(xp):
    x = _ones(xp, (50, 40))
    a = ops.dropout(x, 0.5, seed=7).numpy()
    np.testing.assert_array_equal(a, ops.dropout(x, 0.5, seed=7).numpy())
    assert not np.array_equal(a, ops.dropout(x, 0.5, seed=8).numpy())


def test_global_generator_follows_engine_seed(xp):
    x = _ones(xp, (50, 40))
    engine_random.seed(11)
    a = ops.dropout(x, 0.5).numpy()
    b = ops.dropout(x, 0.5).numpy()
    engine_random.seed(11)
    np.testing.assert_array_equal(a, ops.dropout(x, 0.5).numpy())
    assert not np.array_equal(a, b)  # successive calls draw fresh masks


def test_noise_shape_broadcasts_the_mask(xp):
    y = ops.dropout(_ones(xp, (6, 4, 4, 8)), 0.5, noise_shape=(6, 1, 1, 8), seed=0).numpy()
    np.testing.assert_array_equal(y, np.broadcast_to(y[:, :1, :1, :], y.shape))
    assert 0 < np.mean(y == 0) < 1


def test_backward_uses_the_saved_mask(xp):
    x = Tensor(xp.asarray(X, dtype=np.float32), requires_grad=True)
    y = ops.dropout(x, 0.25, seed=1)
    (g,) = engine.grad(y, [x], grad_outputs=xp.ones(y.shape, dtype=np.float32))
    kept = y.numpy() != 0
    np.testing.assert_allclose(g.numpy(), np.where(kept, 1 / 0.75, 0), rtol=1e-6)
    assert g.dtype == np.float32


def test_rate_zero_is_identity_and_float64_stays():
    np.testing.assert_array_equal(ops.dropout(X, 0).numpy(), X)
    assert ops.dropout(X, 0.5, seed=0).dtype == np.float64


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, "0.5", None])
def test_bad_rate_raises(rate):
    with pytest.raises(ValueError, match=r"rate must be a float in \[0, 1\). Received: rate="):
        ops.dropout(X, rate)


def test_bad_noise_shape_and_seed_raise():
    with pytest.raises(ValueError, match=r"Received: noise_shape=\(4, 2, 5\)"):
        ops.dropout(X, 0.5, noise_shape=(4, 2, 5))
    with pytest.raises(ValueError, match=r"rank 3.*Received: noise_shape=\(4, 3\)"):
        ops.dropout(X, 0.5, noise_shape=(4, 3))
    with pytest.raises(TypeError, match="Received: seed='abc'"):
        ops.dropout(X, 0.5, seed="abc")
