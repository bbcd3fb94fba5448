"""Conv1D, Conv2D, DepthwiseConv2D, SeparableConv2D, Conv2DTranspose against naive NumPy loops."""
import math

import numpy as np
import pytest

import kerasish as keras
from kerasish.layers.convolutional import (Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D,
                                           SeparableConv2D)
from tests.helpers import check_layer_grads, run_layer_test


def _rng(seed=0):
    return np.random.default_rng(seed)


# -- independent references (plain loops, float64) ----------------------------------------------

def _same_pad(n, span, s):
    """TF 'same': total = max((ceil(n/s) - 1) * s + span - n, 0); the odd pixel goes after."""
    total = max((math.ceil(n / s) - 1) * s + span - n, 0)
    return total // 2, total - total // 2


def ref_conv2d(x, w, b=None, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """Cross-correlation, NHWC input, (kh, kw, cin/groups, cout) kernel, groups inferred."""
    n, h, wd, c = x.shape
    kh, kw, cg, cout = w.shape
    groups = c // cg
    spans = [(k - 1) * d + 1 for k, d in zip((kh, kw), dilation)]
    if padding == "same":
        (t, bo), (le, ri) = _same_pad(h, spans[0], strides[0]), _same_pad(wd, spans[1], strides[1])
        x = np.pad(x, ((0, 0), (t, bo), (le, ri), (0, 0)))
    oh = (x.shape[1] - spans[0]) // strides[0] + 1
    ow = (x.shape[2] - spans[1]) // strides[1] + 1
    y = np.zeros((n, oh, ow, cout))
    per_group = cout // groups
    for i in range(oh):
        for j in range(ow):
            for o in range(cout):
                g = o // per_group
                acc = np.zeros(n)
                for a in range(kh):
                    for bb in range(kw):
                        pix = x[:, i * strides[0] + a * dilation[0],
                                j * strides[1] + bb * dilation[1], g * cg:(g + 1) * cg]
                        acc += pix @ w[a, bb, :, o]
                y[:, i, j, o] = acc
    return y if b is None else y + b


def ref_depthwise(x, w, b=None, **kw):
    """Channel c * M + m = input channel c through filter m."""
    c, m = w.shape[2], w.shape[3]
    outs = [ref_conv2d(x[..., ci:ci + 1], w[:, :, ci:ci + 1, mi:mi + 1], **kw)
            for ci in range(c) for mi in range(m)]
    y = np.concatenate(outs, axis=-1)
    return y if b is None else y + b


def ref_conv_transpose2d(x, w, b, strides, padding, out_hw, dilation=(1, 1)):
    """The input gradient of a conv (TF padding) whose input is ``out_hw``: a scatter.

    Input pixel (i, j) adds x[i, j] @ w[a, b].T at (i*s + a*d - pad_before, ...); positions
    outside the output are dropped. ``w`` is (kh, kw, filters, cin).
    """
    n, h, wd, _ = x.shape
    kh, kw, f, _ = w.shape
    spans = [(k - 1) * d + 1 for k, d in zip((kh, kw), dilation)]
    before = [0, 0]
    if padding == "same":
        before = [_same_pad(o, sp, s)[0] for o, sp, s in zip(out_hw, spans, strides)]
    y = np.zeros((n,) + tuple(out_hw) + (f,))
    for i in range(h):
        for j in range(wd):
            for a in range(kh):
                for bb in range(kw):
                    p = i * strides[0] + a * dilation[0] - before[0]
                    q = j * strides[1] + bb * dilation[1] - before[1]
                    if 0 <= p < out_hw[0] and 0 <= q < out_hw[1]:
                        y[:, p, q, :] += x[:, i, j, :] @ w[a, bb].T
    return y + b


def _call_with(layer, x, weights):
    layer(x)
    layer.set_weights(weights)
    return layer(x).numpy()


# -- Conv2D ---------------------------------------------------------------------------------------

def test_conv2d_layer_harness():
    run_layer_test(Conv2D, {"filters": 4, "kernel_size": 3, "padding": "same",
                            "activation": "relu"},
                   (2, 6, 5, 3), (2, 6, 5, 4), 2, expected_weight_names=["kernel", "bias"])
    run_layer_test(Conv2D, {"filters": 4, "kernel_size": (2, 3), "strides": 2,
                            "use_bias": False}, (2, 7, 7, 3), (2, 3, 3, 4), 1,
                   expected_weight_names=["kernel"])
    run_layer_test(Conv2D, {"filters": 4, "kernel_size": 3, "groups": 2, "dilation_rate": 2},
                   (1, 7, 8, 6), (1, 3, 4, 4), 2)


@pytest.mark.parametrize("kwargs", [
    dict(strides=(1, 1), padding="valid", dilation=(1, 1)),
    dict(strides=(2, 2), padding="same", dilation=(1, 1)),
    dict(strides=(2, 1), padding="same", dilation=(1, 1)),
    dict(strides=(1, 1), padding="same", dilation=(2, 1)),
    dict(strides=(3, 2), padding="valid", dilation=(1, 1)),
])
def test_conv2d_matches_loop(kwargs):
    rng = _rng(1)
    x = rng.standard_normal((2, 7, 6, 3))
    w = rng.standard_normal((3, 2, 3, 4))
    b = rng.standard_normal(4)
    layer = Conv2D(4, (3, 2), strides=kwargs["strides"], padding=kwargs["padding"],
                   dilation_rate=kwargs["dilation"])
    got = _call_with(layer, x.astype("float32"), [w, b])
    np.testing.assert_allclose(got, ref_conv2d(x, w, b, **kwargs), atol=1e-4, rtol=1e-5)


def test_conv2d_groups_and_activation_match_loop():
    rng = _rng(2)
    x = rng.standard_normal((2, 5, 5, 4))
    w = rng.standard_normal((3, 3, 2, 6))
    b = rng.standard_normal(6)
    layer = Conv2D(6, 3, groups=2, activation="relu", padding="same")
    got = _call_with(layer, x.astype("float32"), [w, b])
    want = np.maximum(ref_conv2d(x, w, b, padding="same"), 0)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-5)


def test_conv2d_hand_computed():
    # A 3x3 image of 1..9 and a 2x2 kernel of ones: each output is a 2x2 window sum.
    x = np.arange(1, 10, dtype="float32").reshape(1, 3, 3, 1)
    layer = Conv2D(1, 2)
    y = _call_with(layer, x, [np.ones((2, 2, 1, 1)), np.array([0.5])])
    np.testing.assert_allclose(y[0, :, :, 0], [[12.5, 16.5], [24.5, 28.5]])


@pytest.mark.parametrize("kwargs", [dict(), dict(strides=2, padding="same"),
                                    dict(groups=2, dilation_rate=2)])
def test_conv2d_grads(kwargs):
    layer = Conv2D(4, 3, dtype="float64", **kwargs)
    check_layer_grads(layer, _rng(3).standard_normal((2, 6, 6, 4)))


# -- Conv1D ---------------------------------------------------------------------------------------

def test_conv1d_layer_harness():
    run_layer_test(Conv1D, {"filters": 5, "kernel_size": 3}, (2, 8, 3), (2, 6, 5), 2,
                   expected_weight_names=["kernel", "bias"])
    run_layer_test(Conv1D, {"filters": 5, "kernel_size": 3, "padding": "causal",
                            "dilation_rate": 2}, (2, 8, 3), (2, 8, 5), 2)
    run_layer_test(Conv1D, {"filters": 2, "kernel_size": 2, "strides": 3, "padding": "same"},
                   (2, 8, 3), (2, 3, 2), 2)


@pytest.mark.parametrize("padding,strides,dilation", [("valid", 1, 1), ("same", 2, 1),
                                                      ("same", 1, 2)])
def test_conv1d_matches_loop(padding, strides, dilation):
    rng = _rng(4)
    x = rng.standard_normal((2, 9, 3))
    w = rng.standard_normal((3, 3, 2))
    b = rng.standard_normal(2)
    layer = Conv1D(2, 3, strides=strides, padding=padding, dilation_rate=dilation)
    got = _call_with(layer, x.astype("float32"), [w, b])
    want = ref_conv2d(x[:, None], w[None], b, strides=(1, strides), padding=padding,
                      dilation=(1, dilation))[:, 0]
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-5)


def test_conv1d_causal_sees_only_the_past():
    rng = _rng(5)
    x = rng.standard_normal((1, 6, 1))
    w = rng.standard_normal((3, 1, 1))
    layer = Conv1D(1, 3, padding="causal", dilation_rate=2, use_bias=False)
    got = _call_with(layer, x.astype("float32"), [w])[0, :, 0]
    xs = np.concatenate([np.zeros(4), x[0, :, 0]])  # (3 - 1) * 2 zeros in front
    want = [sum(w[k, 0, 0] * xs[t + 2 * k] for k in range(3)) for t in range(6)]
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_conv1d_grads():
    check_layer_grads(Conv1D(3, 3, padding="causal", dtype="float64"),
                      _rng(6).standard_normal((2, 7, 2)))


# -- DepthwiseConv2D ------------------------------------------------------------------------------

def test_depthwise_layer_harness():
    run_layer_test(DepthwiseConv2D, {"kernel_size": 3, "depth_multiplier": 2},
                   (2, 6, 6, 3), (2, 4, 4, 6), 2,
                   expected_weight_names=["depthwise_kernel", "bias"])
    run_layer_test(DepthwiseConv2D, {"kernel_size": (3, 2), "strides": 2, "padding": "same",
                                     "use_bias": False}, (2, 7, 6, 3), (2, 4, 3, 3), 1)


def test_depthwise_weight_shapes():
    layer = DepthwiseConv2D(3, depth_multiplier=2)
    layer(np.zeros((1, 5, 5, 4), "float32"))
    assert [w.shape for w in layer.weights] == [(3, 3, 4, 2), (8,)]
    assert layer.kernel is layer.depthwise_kernel


@pytest.mark.parametrize("kwargs", [dict(), dict(strides=(2, 2), padding="same"),
                                    dict(dilation=(2, 2), padding="same")])
def test_depthwise_matches_loop(kwargs):
    rng = _rng(7)
    x = rng.standard_normal((2, 6, 7, 3))
    w = rng.standard_normal((3, 3, 3, 2))
    b = rng.standard_normal(6)
    layer = DepthwiseConv2D(3, depth_multiplier=2, strides=kwargs.get("strides", 1),
                            padding=kwargs.get("padding", "valid"),
                            dilation_rate=kwargs.get("dilation", 1))
    got = _call_with(layer, x.astype("float32"), [w, b])
    want = ref_depthwise(x, w, b, **kwargs)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-5)


def test_depthwise_grads():
    check_layer_grads(DepthwiseConv2D(3, depth_multiplier=2, padding="same", dtype="float64"),
                      _rng(8).standard_normal((2, 5, 5, 3)))


# -- SeparableConv2D ------------------------------------------------------------------------------

def test_separable_layer_harness():
    run_layer_test(SeparableConv2D, {"filters": 5, "kernel_size": 3, "depth_multiplier": 2},
                   (2, 6, 6, 3), (2, 4, 4, 5), 3,
                   expected_weight_names=["depthwise_kernel", "pointwise_kernel", "bias"])


def test_separable_weight_shapes_and_matches_loop():
    rng = _rng(9)
    x = rng.standard_normal((2, 6, 5, 3))
    dw = rng.standard_normal((3, 3, 3, 2))
    pw = rng.standard_normal((1, 1, 6, 4))
    b = rng.standard_normal(4)
    layer = SeparableConv2D(4, 3, depth_multiplier=2, strides=2, padding="same")
    layer(x.astype("float32"))
    assert [w.shape for w in layer.weights] == [dw.shape, pw.shape, b.shape]
    got = _call_with(layer, x.astype("float32"), [dw, pw, b])
    depth = ref_depthwise(x, dw, strides=(2, 2), padding="same")
    want = depth @ pw[0, 0] + b
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-5)


def test_separable_grads():
    check_layer_grads(SeparableConv2D(3, 3, depth_multiplier=2, dtype="float64"),
                      _rng(10).standard_normal((2, 5, 5, 2)))


# -- Conv2DTranspose ------------------------------------------------------------------------------

def test_conv_transpose_layer_harness():
    run_layer_test(Conv2DTranspose, {"filters": 4, "kernel_size": 3, "strides": 2,
                                     "padding": "same"}, (2, 4, 5, 3), (2, 8, 10, 4), 2,
                   expected_weight_names=["kernel", "bias"])
    run_layer_test(Conv2DTranspose, {"filters": 2, "kernel_size": 3, "strides": 2},
                   (2, 4, 4, 3), (2, 9, 9, 2), 2)
    run_layer_test(Conv2DTranspose, {"filters": 2, "kernel_size": 3, "strides": 2,
                                     "padding": "same", "output_padding": (0, 1)},
                   (2, 4, 4, 3), (2, 7, 8, 2), 2)


def test_conv_transpose_weight_shapes():
    layer = Conv2DTranspose(5, (3, 2))
    layer(np.zeros((1, 4, 4, 3), "float32"))
    assert [w.shape for w in layer.weights] == [(3, 2, 5, 3), (5,)]


@pytest.mark.parametrize("kernel,strides,padding,output_padding,dilation,out_hw", [
    ((3, 3), (2, 2), "same", None, (1, 1), (8, 10)),    # n * s
    ((3, 3), (2, 2), "valid", None, (1, 1), (9, 11)),   # (n - 1) * s + k
    ((2, 2), (3, 3), "valid", None, (1, 1), (12, 15)),  # n * s when s > k
    ((4, 3), (2, 2), "same", None, (1, 1), (8, 10)),    # even kernel: odd pad goes after
    ((3, 3), (1, 1), "same", None, (1, 1), (4, 5)),
    ((3, 3), (2, 2), "same", (1, 0), (1, 1), (8, 9)),   # (n-1)*s + k - 2*(k//2) + p
    ((3, 3), (2, 2), "valid", (1, 1), (1, 1), (10, 12)),
    ((3, 2), (1, 1), "valid", None, (2, 2), (8, 7)),    # dilated span 5 x 3
])
def test_conv_transpose_matches_scatter(kernel, strides, padding, output_padding, dilation,
                                        out_hw):
    rng = _rng(11)
    x = rng.standard_normal((2, 4, 5, 3))
    w = rng.standard_normal(kernel + (2, 3))
    b = rng.standard_normal(2)
    layer = Conv2DTranspose(2, kernel, strides=strides, padding=padding,
                            output_padding=output_padding, dilation_rate=dilation)
    assert layer.compute_output_shape((None, 4, 5, 3)) == (None,) + out_hw + (2,)
    got = _call_with(layer, x.astype("float32"), [w, b])
    want = ref_conv_transpose2d(x, w, b, strides, padding, out_hw, dilation)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=1e-5)


def test_conv_transpose_is_the_adjoint_of_conv2d():
    # <conv_transpose(x), y> == <x, conv(y)> for the same kernel, stride and padding: the
    # (kh, kw, filters, in) transpose kernel is the (kh, kw, in, out) kernel of that conv.
    rng = _rng(12)
    x = rng.standard_normal((1, 4, 4, 3)).astype("float32")
    w = rng.standard_normal((3, 3, 2, 3)).astype("float32")
    up = Conv2DTranspose(2, 3, strides=2, padding="same", use_bias=False)
    y_up = _call_with(up, x, [w])
    y = rng.standard_normal(y_up.shape).astype("float32")
    down = Conv2D(3, 3, strides=2, padding="same", use_bias=False)
    y_down = _call_with(down, y, [w])
    np.testing.assert_allclose((y_up * y).sum(), (x * y_down).sum(), rtol=1e-4)


@pytest.mark.parametrize("kwargs", [dict(strides=2, padding="same"),
                                    dict(strides=2, output_padding=1)])
def test_conv_transpose_grads(kwargs):
    check_layer_grads(Conv2DTranspose(3, 3, dtype="float64", **kwargs),
                      _rng(13).standard_normal((2, 3, 4, 2)))


# -- shapes with unknown dims, functional use ------------------------------------------------------

def test_symbolic_shapes_with_unknown_spatial_dims():
    x = keras.Input((None, None, 3))
    assert Conv2D(4, 3, strides=2)(x).shape == (None, None, None, 4)
    assert DepthwiseConv2D(3, depth_multiplier=3)(x).shape == (None, None, None, 9)
    assert Conv2DTranspose(2, 3, strides=2)(x).shape == (None, None, None, 2)
    assert Conv1D(2, 3)(keras.Input((None, 5))).shape == (None, None, 2)


def test_functional_model_runs():
    inputs = keras.Input((8, 8, 3))
    h = Conv2D(4, 3, padding="same", activation="relu")(inputs)
    h = SeparableConv2D(6, 3, strides=2, padding="same")(h)
    outputs = Conv2DTranspose(3, 3, strides=2, padding="same")(h)
    model = keras.Model(inputs, outputs)
    y = model(np.zeros((2, 8, 8, 3), "float32"))
    assert tuple(y.shape) == (2, 8, 8, 3)


# -- errors ---------------------------------------------------------------------------------------

def test_conv2d_rank_error_has_the_hint():
    layer = Conv2D(2, 3)
    with pytest.raises(ValueError, match=r"expected ndim=4, found ndim=5") as err:
        layer(np.zeros((1, 2, 6, 6, 3), "float32"))
    assert "conv2d" in str(err.value) and "TimeDistributed" in str(err.value)
    assert not layer.weights  # nothing was built from the bad shape
    with pytest.raises(ValueError, match=r"expected ndim=4, found ndim=5"):
        Conv2D(2, 3)(keras.Input((2, 6, 6, 3)))
    with pytest.raises(ValueError, match=r"expected ndim=3, found ndim=4"):
        Conv1D(2, 3)(np.zeros((1, 6, 6, 3), "float32"))


@pytest.mark.parametrize("make", [lambda: Conv2D(2, 3), lambda: DepthwiseConv2D(3),
                                  lambda: SeparableConv2D(2, 3), lambda: Conv2DTranspose(2, 3)])
def test_channel_mismatch_after_build(make):
    layer = make()
    layer(np.zeros((1, 6, 6, 3), "float32"))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 3"):
        layer(np.zeros((1, 6, 6, 4), "float32"))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 3"):
        layer(keras.Input((6, 6, 4)))


def test_channels_first_is_refused():
    for make in (lambda: Conv2D(2, 3, data_format="channels_first"),
                 lambda: Conv1D(2, 3, data_format="channels_first"),
                 lambda: DepthwiseConv2D(3, data_format="channels_first"),
                 lambda: Conv2DTranspose(2, 3, data_format="channels_first")):
        with pytest.raises(ValueError, match=r"channels_last only.*"
                                             r"Received: data_format='channels_first'"):
            make()
    assert Conv2D(2, 3, data_format="channels_last").data_format == "channels_last"


@pytest.mark.parametrize("make,match", [
    (lambda: Conv2D(0, 3), r"Received: filters=0$"),
    (lambda: Conv2D(2, 3, padding="full"), r"Received: padding='full'$"),
    (lambda: Conv2D(2, 3, padding="causal"), r"Received: padding='causal'$"),
    (lambda: Conv2D(2, (3, 3, 3)), r"Received: kernel_size=\(3, 3, 3\)$"),
    (lambda: Conv2D(2, 0), r"Received: kernel_size=0$"),
    (lambda: Conv2D(3, 3, groups=2), r"Received: groups=2, filters=3$"),
    (lambda: Conv2D(2, 3, strides=2, dilation_rate=2), r"dilation_rate=\(2, 2\)$"),
    (lambda: DepthwiseConv2D(3, depth_multiplier=0), r"Received: depth_multiplier=0$"),
    (lambda: Conv2DTranspose(2, 3, strides=2, output_padding=2),
     r"Received: output_padding=2$"),
    (lambda: Conv2D(2, 3, data_format="nhwc"), r"Received: data_format='nhwc'$"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_input_shapes():
    with pytest.raises(ValueError, match=r"Computed output size would be zero or negative.*"
                                         r"Received: input_shape=\(None, 2, 8, 3\)"):
        Conv2D(2, 3)(keras.Input((2, 8, 3)))
    with pytest.raises(ValueError, match=r"Received: groups=2, input_shape"):
        Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3), "float32"))
    with pytest.raises(ValueError, match=r"channel dimension .* must be defined"):
        Conv2D(4, 3)(keras.Input((5, 5, None)))


def test_float32_stays_float32_and_regularizers_give_losses():
    x = np.zeros((1, 6, 6, 3), "float32")
    for layer in (Conv2D(2, 3), DepthwiseConv2D(3), SeparableConv2D(2, 3), Conv2DTranspose(2, 3),
                  Conv1D(2, 3, padding="causal")):
        y = layer(x[:, 0] if isinstance(layer, Conv1D) else x)
        assert y.dtype == np.float32 and all(w.dtype == np.float32 for w in layer.weights)
    layer = SeparableConv2D(2, 3, depthwise_regularizer="l2", bias_regularizer="l1")
    layer(x)
    assert len(layer.losses) == 2
    clone = SeparableConv2D.from_config(layer.get_config())
    assert clone.depthwise_regularizer.get_config() == layer.depthwise_regularizer.get_config()
