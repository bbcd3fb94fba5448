"""EinsumDense against numpy.einsum, with Keras's weight shapes for its equation forms."""
import numpy as np
import pytest

import kerasish as keras
from kerasish.layers import EinsumDense
from kerasish.layers.einsum_dense import analyze_equation, explicit_equation
from tests.helpers import check_layer_grads, run_layer_test

# (equation, output_shape, bias_axes, input_shape, kernel shape, bias shape, output shape);
# the shapes are those Keras 3.15 creates (its einsum_dense_test cases).
CASES = [
    ("ab,bc->ac", 64, "c", (3, 32), (32, 64), (64,), (3, 64)),
    ("ab,bc->ac", 64, None, (3, 32), (32, 64), None, (3, 64)),
    ("abc,cd->abd", (1, 9), "d", (2, 1, 2), (2, 9), (9,), (2, 1, 9)),
    ("abc,cde->abde", (1, 3, 4), "de", (2, 1, 2), (2, 3, 4), (3, 4), (2, 1, 3, 4)),
    ("abc,cde->abde", (None, 2, 8), "de", (1, 5, 16), (16, 2, 8), (2, 8), (1, 5, 2, 8)),
    ("...b,bc->...c", 64, "c", (3, 4, 32), (32, 64), (64,), (3, 4, 64)),
    ("abc,dc->abd", (4, 8), "d", (2, 4, 2), (8, 2), (8,), (2, 4, 8)),
    ("ab...,bc->ac...", (64, 3), "c", (2, 32, 3), (32, 64), (64, 1), (2, 64, 3)),
]


@pytest.mark.parametrize("equation, out, bias_axes, in_shape, kernel, bias, expected", CASES)
def test_weight_shapes_and_forward_match_numpy_einsum(equation, out, bias_axes, in_shape,
                                                      kernel, bias, expected):
    layer = EinsumDense(equation, output_shape=out, bias_axes=bias_axes,
                        bias_initializer="random_normal")
    x = np.random.default_rng(0).standard_normal(in_shape).astype("float32")
    y = layer(x).numpy()
    assert layer.kernel.shape == kernel
    assert (None if layer.bias is None else layer.bias.shape) == bias
    assert [w.name for w in layer.weights] == ["kernel"] + (["bias"] if bias else [])
    reference = np.einsum(equation, x, layer.kernel.numpy())
    if bias is not None:
        reference = reference + layer.bias.numpy()
    assert y.shape == expected
    np.testing.assert_allclose(y, reference, rtol=1e-5, atol=1e-5)


def test_layer_harness_and_gradients():
    run_layer_test(EinsumDense, {"equation": "abc,cde->abde", "output_shape": (3, 2, 4),
                                 "bias_axes": "de", "activation": "tanh"},
                   (2, 3, 5), (2, 3, 2, 4), expected_num_trainable_weights=2,
                   expected_weight_names=["kernel", "bias"])
    run_layer_test(EinsumDense, {"equation": "...b,bc->...c", "output_shape": 4},
                   (2, 3, 5), (2, 3, 4), expected_num_trainable_weights=1)
    layer = EinsumDense("abc,cde->abde", (3, 2, 4), bias_axes="de", dtype="float64",
                        bias_initializer="random_normal")
    check_layer_grads(layer, np.random.default_rng(1).standard_normal((2, 3, 5)))


def test_symbolic_shape_fills_none_from_batch_only():
    y = EinsumDense("abc,cde->abde", (None, 2, 8), bias_axes="de")(keras.Input((5, 16)))
    assert y.shape == (None, None, 2, 8)  # as Keras: output_shape's None stays unknown


def test_config_keys_are_keras():
    config = EinsumDense("ab,bc->ac", 4).get_config()
    assert set(config) >= {"output_shape", "equation", "activation", "bias_axes",
                           "kernel_initializer", "bias_initializer", "kernel_regularizer",
                           "bias_regularizer", "activity_regularizer", "kernel_constraint",
                           "bias_constraint", "quantization_config"}
    assert config["output_shape"] == (4,)


def test_variance_scaling_uses_the_kernels_input_and_output_fans():
    # glorot_uniform: limit sqrt(6 / (fan_in + fan_out)) with fan_in=64, fan_out=4*16.
    layer = EinsumDense("abc,cde->abde", (None, 4, 16), kernel_initializer="glorot_uniform")
    layer.build((None, 10, 64))
    limit = np.sqrt(6 / (64 + 64))
    kernel = layer.kernel.numpy()
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.9 * limit


def test_explicit_equation_and_errors():
    assert explicit_equation("...b,bc->...c", 3) == "adb,bc->adc"
    assert explicit_equation("ab...,bc->ac...", 4) == "abde,bc->acde"
    assert analyze_equation("ab,bc->ac", "c", (None, 4), 8)[:3] == ((4, 8), (8,), (None, 8))
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        EinsumDense("ab->b", 3)
    with pytest.raises(ValueError, match="Bias dimension 'z'"):
        EinsumDense("ab,bc->ac", 3, bias_axes="z")(np.ones((2, 4)))
