"""Fusion in compiled plans (engine/_fuse.py, engine/ops/fused.py): conv -> bias [-> ReLU] as
one step in training plans, bitwise the eager step; conv -> [bias ->] inference batch norm
[-> ReLU] folded into the conv's kernel in plans without gradients, equal to float32 rounding.
Each case runs on both kernel providers (oneDNN's post-ops and the NumPy path)."""
import numpy as np
import pytest

import engine
from engine import Tensor, jit, onednn, ops
from engine.gradcheck import check_grad
from engine.ops.conv import Conv, DepthwiseConv
from engine.ops.fused import ConvAffine, ConvBias
from tests.engine.test_ops_conv import ref_conv, ref_depthwise

needs_onednn = pytest.mark.skipif(not onednn.available(), reason="libdnnl.so.3 does not load here")
PROVIDERS = [pytest.param("1", marks=needs_onednn, id="onednn"), pytest.param("0", id="numpy")]


@pytest.fixture
def provider(request, monkeypatch):
    monkeypatch.setenv(onednn.ENV_VAR, request.param)
    monkeypatch.setenv(jit.FUSE_ENV, "1")
    return request.param


def _weights(rng, *shapes, dtype=np.float32):
    return [Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in shapes]


def _names(plan):
    return [s[0].__name__ for s in plan.steps]


def _conv_bias_relu_model(w, b, w2, b2, relu=True):
    def fn(inputs):
        (x,) = inputs
        h = ops.add(ops.conv(x, w, padding="same"), b)
        h = ops.relu(h) if relu else h
        h = ops.relu(ops.add(ops.conv(h, w2, strides=2), b2))
        return [ops.mean(ops.square(h)), h]
    return fn


@pytest.mark.parametrize("provider", PROVIDERS, indirect=True)
@pytest.mark.parametrize("relu", [True, False])
def test_training_plan_fuses_conv_bias_relu_bitwise(provider, relu):
    rng = np.random.default_rng(0)
    w, b, w2, b2 = _weights(rng, (3, 3, 3, 6), (6,), (3, 3, 6, 4), (4,))
    fn = _conv_bias_relu_model(w, b, w2, b2, relu)
    step = jit.value_and_grad(fn, [w, b, w2, b2])
    for _ in range(4):
        x = Tensor(rng.standard_normal((5, 9, 9, 3)).astype(np.float32))
        (loss, h), grads = step([x])
        expected = fn([x])
        want = engine.grad(expected[0], [w, b, w2, b2])
        np.testing.assert_array_equal(loss.numpy(), expected[0].numpy())
        np.testing.assert_array_equal(h.numpy(), expected[1].numpy())
        for got, ref in zip(grads, want):
            np.testing.assert_array_equal(got, ref.numpy())
    assert step.replays == 2
    (plan,) = step.plans.values()
    assert _names(plan).count("ConvBias") == 2 and "Conv" not in _names(plan)
    assert [s[2]["relu"] for s in plan.steps if s[0] is ConvBias] == [relu, True]


def test_the_fused_plan_gives_way_to_the_unfused_one_when_bits_differ(monkeypatch):
    rng = np.random.default_rng(1)
    w, b, w2, b2 = _weights(rng, (3, 3, 3, 6), (6,), (3, 3, 6, 4), (4,))
    forward = ConvBias.forward
    monkeypatch.setattr(ConvBias, "forward", lambda self, *a, **k: forward(self, *a, **k) * 1.5)
    step = jit.value_and_grad(_conv_bias_relu_model(w, b, w2, b2), [w, b, w2, b2])
    for _ in range(3):
        step([Tensor(rng.standard_normal((2, 9, 9, 3)).astype(np.float32))])
    (plan,) = step.plans.values()
    assert step.replays == 1 and "ConvBias" not in _names(plan)


def test_a_result_read_twice_is_not_fused():
    rng = np.random.default_rng(2)
    w, b = _weights(rng, (3, 3, 2, 4), (4,))

    def fn(inputs):
        y = ops.conv(inputs[0], w)
        h = ops.relu(ops.add(y, b))
        return [ops.sum(h) + ops.sum(y)]  # the conv's output is read by the loss too

    step = jit.value_and_grad(fn, [w, b])
    for _ in range(3):
        step([Tensor(rng.standard_normal((2, 6, 6, 2)).astype(np.float32))])
    (plan,) = step.plans.values()
    assert step.replays == 1 and "ConvBias" not in _names(plan)


def test_fused_conv_bias_gradients_are_numerically_right():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 5, 5, 3))
    w, b = rng.standard_normal((3, 3, 3, 4)), rng.standard_normal(4)

    def fused(x, w, b):
        return ConvBias.apply(x, w, b, conv_cls=Conv, relu=True, strides=1,
                              padding="same", dilation_rate=1)

    check_grad(fused, x, w, b)
    y = fused(Tensor(x), Tensor(w), Tensor(b)).numpy()
    np.testing.assert_allclose(y, np.maximum(ref_conv(x, w, 1, "same") + b, 0), atol=1e-10)


def _affine_reference(y, mean, var, offset, scale, eps):
    return (y - mean) / np.sqrt(var + eps) * scale + offset


@pytest.mark.parametrize("provider", PROVIDERS, indirect=True)
@pytest.mark.parametrize("bias, relu, depthwise", [(False, True, False), (True, False, False),
                                                   (True, True, True)])
def test_conv_affine_equals_conv_then_batch_norm(provider, bias, relu, depthwise):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 8, 8, 4)).astype(np.float32)
    w = rng.standard_normal((3, 3, 4, 2 if depthwise else 5)).astype(np.float32)
    c = 8 if depthwise else 5
    b = rng.standard_normal(c).astype(np.float32) if bias else None
    mean, offset, scale = (rng.standard_normal(c).astype(np.float32) for _ in range(3))
    var = rng.uniform(0.5, 2, c).astype(np.float32)
    conv_cls = DepthwiseConv if depthwise else Conv
    y = ConvAffine.apply(x, w, b, mean, var, offset, scale, conv_cls=conv_cls, relu=relu,
                         epsilon=1e-3, strides=2, padding="same", dilation_rate=1).numpy()
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    ref = (ref_depthwise(x64, w64, 2, "same") if depthwise else ref_conv(x64, w64, 2, "same"))
    ref = _affine_reference(ref + (0 if b is None else b), mean, var, offset, scale, 1e-3)
    np.testing.assert_allclose(y, np.maximum(ref, 0) if relu else ref, rtol=1e-4, atol=1e-4)
    assert y.dtype == np.float32


@pytest.mark.parametrize("provider", PROVIDERS, indirect=True)
def test_inference_plan_folds_batch_norm_and_stays_close(provider):
    rng = np.random.default_rng(5)
    w = Tensor(rng.standard_normal((3, 3, 3, 6)).astype(np.float32))
    mean, offset = (Tensor(rng.standard_normal(6).astype(np.float32)) for _ in range(2))
    var = Tensor(rng.uniform(0.5, 2, 6).astype(np.float32))

    def fn(inputs):
        h = ops.batch_normalization(ops.conv(inputs[0], w, padding="same"), mean, var, axis=-1,
                                    offset=offset, epsilon=1e-3)
        return [ops.relu(h)]

    step = jit.function(fn)
    with engine.no_grad():
        for _ in range(4):
            x = Tensor(rng.standard_normal((4, 7, 7, 3)).astype(np.float32))
            (y,), _ = step([x])
            np.testing.assert_allclose(y.numpy(), fn([x])[0].numpy(), rtol=1e-5, atol=1e-5)
    (plan,) = step.plans.values()
    assert _names(plan) == ["ConvAffine"] and plan.unfused is not None


def test_conv_affine_refuses_a_gradient():
    with pytest.raises(RuntimeError, match="no gradient"):
        ConvAffine().backward(np, np.zeros(1))


@pytest.mark.parametrize("provider", PROVIDERS, indirect=True)
def test_chains_whose_steps_interleave_with_other_branches_fuse(provider):
    # a functional model runs its branches' convs, then their batch norms, then their ReLUs
    rng = np.random.default_rng(6)
    wa, wb = (Tensor(rng.standard_normal((3, 3, 3, 4)).astype(np.float32)) for _ in range(2))
    mean, offset = (Tensor(rng.standard_normal(4).astype(np.float32)) for _ in range(2))
    var = Tensor(rng.uniform(0.5, 2, 4).astype(np.float32))

    def fn(inputs):
        ya, yb = (ops.conv(inputs[0], w, padding="same") for w in (wa, wb))
        na, nb = (ops.batch_normalization(y, mean, var, axis=3, offset=offset) for y in (ya, yb))
        return [ops.concatenate([ops.relu(na), ops.relu(nb)], axis=-1)]

    step = jit.function(fn)
    with engine.no_grad():
        for _ in range(3):
            x = Tensor(rng.standard_normal((2, 6, 6, 3)).astype(np.float32))
            (y,), _ = step([x])
            np.testing.assert_allclose(y.numpy(), fn([x])[0].numpy(), rtol=1e-5, atol=1e-5)
    (plan,) = step.plans.values()
    assert _names(plan) == ["ConvAffine", "ConvAffine", "Concatenate"]
