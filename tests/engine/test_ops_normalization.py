"""Normalization ops against closed forms, with gradient checks."""
import numpy as np
import pytest

import engine
from engine import Tensor, ops
from tests.engine import op_tests
from tests.helpers import OpCase, positive, randn

X = randn(3, 2, 2, 4, seed=1)          # NHWC, 4 channels
XC = randn(3, 4, 2, 2, seed=2)         # NCHW
MEAN, VAR = randn(4, seed=3), positive(4, seed=4)
BETA, GAMMA = randn(4, seed=5), positive(4, seed=6)
SEQ = randn(2, 3, 5, seed=7)
G35, B35 = positive(3, 5, seed=8), randn(3, 5, seed=9)


def bn_ref(x, mean, var, offset=None, scale=None, axis=-1, eps=1e-3):
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    y = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
    if scale is not None:
        y = y * scale.reshape(shape)
    return y if offset is None else y + offset.reshape(shape)


def bn_train_ref(x, offset=None, scale=None, axis=-1, eps=1e-3):
    axes = tuple(i for i in range(x.ndim) if i != axis % x.ndim)
    return bn_ref(x, x.mean(axis=axes), x.var(axis=axes), offset, scale, axis, eps)


def ln_ref(x, gamma=None, beta=None, axis=-1, eps=1e-7):
    axes = (axis,) if isinstance(axis, int) else axis
    m, v = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    y = (x - m) / np.sqrt(v + eps)
    shape = [n if i in [a % x.ndim for a in axes] else 1 for i, n in enumerate(x.shape)]
    y = y if gamma is None else y * gamma.reshape(shape)
    return y if beta is None else y + beta.reshape(shape)


def _train_y(*args, **kwargs):
    return ops.batch_normalization_train(*args, **kwargs)[0]


CASES = [
    OpCase("moments", lambda x: ops.moments(x, axes=(0, 1, 2))[0], [X],
           lambda x: x.mean(axis=(0, 1, 2)), label="mean"),
    OpCase("moments", lambda x: ops.moments(x, axes=(0, 1, 2))[1], [X],
           lambda x: x.var(axis=(0, 1, 2)), label="variance"),
    OpCase("moments", lambda x: ops.moments(x, axes=[1, 2], keepdims=True)[1], [X],
           lambda x: x.var(axis=(1, 2), keepdims=True), label="variance-keepdims"),
    OpCase("moments", lambda x: ops.moments(x, axes=-1, keepdims=True)[0], [SEQ],
           lambda x: x.mean(axis=-1, keepdims=True), label="mean-keepdims"),
    OpCase("batch_normalization", lambda x, m, v, b, s: ops.batch_normalization(
        x, m, v, axis=-1, offset=b, scale=s), [X, MEAN, VAR, BETA, GAMMA], bn_ref),
    OpCase("batch_normalization", lambda x, m, v: ops.batch_normalization(x, m, v, -1),
           [X, MEAN, VAR], bn_ref, label="no-affine"),
    OpCase("batch_normalization", lambda x, m, v, s: ops.batch_normalization(
        x, m, v, 1, scale=s, epsilon=1e-5), [XC, MEAN, VAR, GAMMA],
        lambda x, m, v, s: bn_ref(x, m, v, scale=s, axis=1, eps=1e-5), label="axis1-scale"),
    OpCase("batch_normalization_train", lambda x, b, s: _train_y(x, -1, offset=b, scale=s),
           [X, BETA, GAMMA], lambda x, b, s: bn_train_ref(x, b, s)),
    OpCase("batch_normalization_train", lambda x: _train_y(x, -1), [X], bn_train_ref,
           label="no-affine"),
    OpCase("batch_normalization_train", lambda x, s: _train_y(x, 1, scale=s, epsilon=1e-5),
           [XC, GAMMA], lambda x, s: bn_train_ref(x, scale=s, axis=1, eps=1e-5),
           label="axis1-scale"),
    OpCase("layer_normalization", lambda x, g, b: ops.layer_normalization(x, g, b),
           [SEQ, positive(5, seed=10), randn(5, seed=11)], ln_ref),
    OpCase("layer_normalization", lambda x: ops.layer_normalization(x, epsilon=1e-3), [SEQ],
           lambda x: ln_ref(x, eps=1e-3), label="no-affine"),
    OpCase("layer_normalization", lambda x, g, b: ops.layer_normalization(
        x, g, b, axis=(1, 2)), [SEQ, G35, B35], lambda x, g, b: ln_ref(x, g, b, axis=(1, 2)),
        label="axes"),
    OpCase("layer_normalization", lambda x, g: ops.layer_normalization(x, gamma=g, axis=1),
           [SEQ, positive(3, seed=12)], lambda x, g: ln_ref(x, g, axis=1), label="middle-axis"),
]

test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def _grads(y, inputs, xp):
    return [g.numpy() for g in engine.grad(y, inputs, grad_outputs=xp.asarray(W))]


W = randn(*X.shape, seed=20)


def test_train_matches_moments_then_batch_normalization(xp):
    def leaves():
        return [Tensor(xp.asarray(a), requires_grad=True) for a in (X, BETA, GAMMA)]

    x, b, s = leaves()
    y, mean, var = ops.batch_normalization_train(x, -1, offset=b, scale=s)
    fused = _grads(y, [x, b, s], xp)
    x2, b2, s2 = leaves()
    m2, v2 = ops.moments(x2, axes=(0, 1, 2))
    y2 = ops.batch_normalization(x2, m2, v2, -1, offset=b2, scale=s2)
    composed = _grads(y2, [x2, b2, s2], xp)
    np.testing.assert_allclose(y.numpy(), y2.numpy(), rtol=1e-10, atol=1e-12)
    for g1, g2 in zip(fused, composed):
        np.testing.assert_allclose(g1, g2, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(mean.numpy(), X.mean(axis=(0, 1, 2)), rtol=1e-12)
    np.testing.assert_allclose(var.numpy(), X.var(axis=(0, 1, 2)), rtol=1e-12)
    assert mean.shape == var.shape == (4,) and not mean.requires_grad and not var.requires_grad


def test_train_statistics_keep_float32():
    y, mean, var = ops.batch_normalization_train(X.astype(np.float32), axis=-1)
    assert y.dtype == mean.dtype == var.dtype == np.float32


def test_train_normalizes_to_zero_mean_unit_variance():
    y = ops.batch_normalization_train(X * 3 + 2, axis=-1, epsilon=0.0)[0].numpy()
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=(0, 1, 2)), 1, rtol=1e-12)


def test_layer_normalization_keras_example():
    y = ops.layer_normalization(np.arange(5, dtype=np.float32)).numpy()
    np.testing.assert_allclose(y, [-1.4142135, -0.70710677, 0.0, 0.7071067, 1.4142135], rtol=1e-5)


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match=r"`mean` must have 4 elements.*mean.shape=\(3,\)"):
        ops.batch_normalization(X, MEAN[:3], VAR, axis=-1)
    with pytest.raises(TypeError, match=r"axis must be an int. Received: axis=\(1, 2\)"):
        ops.batch_normalization(X, MEAN, VAR, axis=(1, 2))
    with pytest.raises(ValueError, match="Received: mean=None"):
        ops.batch_normalization(X, None, VAR, axis=-1)
    with pytest.raises(ValueError, match=r"`scale` must have 4 elements"):
        ops.batch_normalization_train(X, -1, scale=GAMMA[:2])
    with pytest.raises(ValueError, match=r"out of range.*Received: axis=4"):
        ops.batch_normalization_train(X, 4)
    with pytest.raises(ValueError, match=r"`gamma` must have 15 elements"):
        ops.layer_normalization(SEQ, gamma=np.ones(5), axis=(1, 2))
    with pytest.raises(ValueError, match="moments: axis 5 is out of range"):
        ops.moments(X, axes=5)
