"""Conv3D, Conv1DTranspose, Conv3DTranspose, DepthwiseConv1D, SeparableConv1D: the layer
harness, gradient checks, plain-loop forward references and Keras 3.15's shapes and weights."""
import numpy as np
import pytest

import engine
from kerasish import layers
from tests.engine.test_ops_conv import ref_conv, ref_conv_transpose, ref_depthwise
from tests.helpers import check_layer_grads, run_layer_test


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _eager(layer, x):
    with engine.no_grad():
        return layer(x.astype(np.float32)).numpy()


# NOTE: output shapes and weight paths as printed by Keras 3.15 for the same arguments.
KERAS_SHAPES = [
    (layers.Conv3D, {"filters": 4, "kernel_size": 3, "strides": (1, 2, 1), "padding": "same"},
     (2, 5, 6, 7, 2), (2, 5, 3, 7, 4), [("kernel", (3, 3, 3, 2, 4)), ("bias", (4,))]),
    (layers.Conv1DTranspose, {"filters": 4, "kernel_size": 3, "strides": 2}, (2, 5, 3),
     (2, 11, 4), [("kernel", (3, 4, 3)), ("bias", (4,))]),
    (layers.Conv1DTranspose, {"filters": 2, "kernel_size": 4, "strides": 3, "padding": "same",
                              "output_padding": 1}, (2, 5, 3), (2, 13, 2),
     [("kernel", (4, 2, 3)), ("bias", (2,))]),
    (layers.Conv3DTranspose, {"filters": 3, "kernel_size": (2, 3, 3), "strides": 2,
                              "padding": "same"}, (2, 3, 4, 5, 2), (2, 6, 8, 10, 3),
     [("kernel", (2, 3, 3, 3, 2)), ("bias", (3,))]),
    (layers.DepthwiseConv1D, {"kernel_size": 3, "depth_multiplier": 2, "strides": 2},
     (2, 9, 3), (2, 4, 6), [("depthwise_kernel", (3, 3, 2)), ("bias", (6,))]),
    (layers.SeparableConv1D, {"filters": 4, "kernel_size": 3, "depth_multiplier": 2,
                              "padding": "same"}, (2, 9, 3), (2, 9, 4),
     [("depthwise_kernel", (3, 3, 2)), ("pointwise_kernel", (1, 6, 4)), ("bias", (4,))]),
]


@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape,weights", KERAS_SHAPES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(KERAS_SHAPES)])
def test_layer_harness_with_keras_shapes(cls, kwargs, in_shape, out_shape, weights):
    layer, _ = run_layer_test(cls, kwargs, in_shape, out_shape, len(weights),
                              expected_weight_names=[n for n, _ in weights])
    assert [tuple(w.shape) for w in layer.weights] == [s for _, s in weights]


def test_conv3d_matches_loops():
    layer = layers.Conv3D(3, (2, 3, 2), strides=(2, 1, 1), padding="same",
                          bias_initializer="random_normal")
    x = _x(2, 5, 4, 4, 2)
    y = _eager(layer, x)
    kernel, bias = layer.get_weights()
    expected = ref_conv(x, kernel, strides=(2, 1, 1), padding="same") + bias
    np.testing.assert_allclose(y, expected, atol=1e-4, rtol=1e-4)


def test_conv3d_weights_layout_is_keras():
    layer = layers.Conv3D(8, (3, 2, 1), name="c3")
    layer.build((None, 6, 6, 6, 5))
    assert [(w.path, tuple(w.shape)) for w in layer.weights] == [
        ("c3/kernel", (3, 2, 1, 5, 8)), ("c3/bias", (8,))]
    assert set(layer.get_config()) == {
        "name", "trainable", "dtype", "filters", "kernel_size", "strides", "padding",
        "data_format", "dilation_rate", "groups", "activation", "use_bias", "kernel_initializer",
        "bias_initializer", "kernel_regularizer", "bias_regularizer", "activity_regularizer",
        "kernel_constraint", "bias_constraint"}


@pytest.mark.parametrize("rank,kwargs", [(1, {"strides": 2}), (1, {"padding": "same"}),
                                         (3, {"strides": (1, 2, 2), "padding": "same"})])
def test_conv_transpose_matches_loops(rank, kwargs):
    cls = layers.Conv1DTranspose if rank == 1 else layers.Conv3DTranspose
    layer = cls(2, 3, bias_initializer="random_normal", **kwargs)
    x = _x(2, *([4] * rank), 3, seed=1)
    y = _eager(layer, x)
    kernel, bias = layer.get_weights()
    expected = ref_conv_transpose(x, kernel, **kwargs) + bias
    np.testing.assert_allclose(y, expected, atol=1e-4, rtol=1e-4)


def test_depthwise_and_separable_1d_match_loops():
    x = _x(2, 9, 3, seed=2)
    dw = layers.DepthwiseConv1D(3, depth_multiplier=2, padding="same",
                                bias_initializer="random_normal")
    y = _eager(dw, x)
    kernel, bias = dw.get_weights()
    np.testing.assert_allclose(y, ref_depthwise(x, kernel, padding="same") + bias, atol=1e-4)
    sep = layers.SeparableConv1D(4, 3, strides=2, depth_multiplier=2, activation="relu")
    y = _eager(sep, x)
    dk, pk, b = sep.get_weights()
    expected = np.maximum(ref_conv(ref_depthwise(x, dk, strides=2), pk) + b, 0)
    np.testing.assert_allclose(y, expected, atol=1e-4)


@pytest.mark.parametrize("layer,shape", [
    (lambda: layers.Conv3D(2, 2, padding="same", strides=(1, 2, 1)), (2, 3, 4, 3, 2)),
    (lambda: layers.Conv1DTranspose(2, 3, strides=2, padding="same"), (2, 4, 3)),
    (lambda: layers.Conv3DTranspose(2, 2, strides=2), (1, 2, 2, 3, 2)),
    (lambda: layers.DepthwiseConv1D(3, depth_multiplier=2, dilation_rate=2), (2, 8, 2)),
    (lambda: layers.SeparableConv1D(3, 3, padding="same"), (2, 6, 2)),
], ids=["Conv3D", "Conv1DTranspose", "Conv3DTranspose", "DepthwiseConv1D", "SeparableConv1D"])
def test_grads(layer, shape):
    layer = layer()
    cfg = {**layer.get_config(), "dtype": "float64", "bias_initializer": "random_normal"}
    check_layer_grads(type(layer).from_config(cfg), _x(*shape, seed=3))


def test_aliases_and_errors():
    assert layers.Convolution3D is layers.Conv3D
    assert layers.Convolution1DTranspose is layers.Conv1DTranspose
    assert layers.Convolution3DTranspose is layers.Conv3DTranspose
    assert layers.SeparableConvolution1D is layers.SeparableConv1D
    with pytest.raises(ValueError, match="ndim=5"):
        layers.Conv3D(2, 3)(np.ones((2, 4, 4, 3), np.float32))
    with pytest.raises(ValueError, match="output_padding"):
        layers.Conv1DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="padding"):
        layers.SeparableConv1D(2, 3, padding="causal")
