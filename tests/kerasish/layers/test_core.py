"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Permute, RepeatVector, Lambda,
Masking, Identity. Each: the Keras-style harness, numbers against plain NumPy written here, a
float64 gradient check, and the errors for bad arguments and bad inputs."""
import numpy as np
import pytest

import engine
import kerasish as keras
from engine import Tensor, ops
from kerasish.layers import (Activation, Dense, Dropout, Flatten, Identity, Lambda, Masking,
                             Permute, RepeatVector, Reshape)
from tests.helpers import check_layer_grads, run_layer_test


def randn(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


# -- Dense ---------------------------------------------------------------------------------

def test_dense_harness():
    run_layer_test(Dense, {"units": 3, "activation": "tanh"}, (2, 5), (2, 3),
                   expected_num_trainable_weights=2, expected_weight_names=["kernel", "bias"])
    run_layer_test(Dense, {"units": 4, "use_bias": False}, (2, 3, 5), (2, 3, 4),
                   expected_num_trainable_weights=1, expected_weight_names=["kernel"])


def test_dense_matches_numpy():
    x = randn(2, 3, 4)
    kernel, bias = randn(4, 2, seed=1), randn(2, seed=2)
    layer = Dense(2, activation="relu")
    # NOTE: built by a call; layer.build() alone leaves built=False and a call would rebuild.
    layer(np.zeros((1, 3, 4), np.float32))
    layer.set_weights([kernel, bias])
    expected = np.zeros((2, 3, 2))
    for b in range(2):
        for t in range(3):
            for u in range(2):
                expected[b, t, u] = max(sum(x[b, t, i] * kernel[i, u] for i in range(4))
                                        + bias[u], 0.0)
    y = layer(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_dense_grads():
    layer = Dense(3, activation="sigmoid", dtype="float64")
    check_layer_grads(layer, randn(2, 4, dtype=np.float64))


def test_dense_wrong_last_axis_has_keras_error_text():
    layer = Dense(2)
    layer(keras.Input((8,)))
    with pytest.raises(ValueError, match=(
            r"Input 0 with name .* of layer 'dense[_0-9]*' is incompatible with the layer: "
            r"expected axis -1 of input shape to have value 8, but received input with shape "
            r"\(None, 5\)")):
        layer(keras.Input((5,)))


def test_dense_bad_units():
    with pytest.raises(ValueError, match=r"Received: units=0$"):
        Dense(0)


# -- Activation ----------------------------------------------------------------------------

def test_activation_harness():
    run_layer_test(Activation, {"activation": "relu"}, (2, 3, 4), (2, 3, 4))


def test_activation_matches_numpy():
    x = randn(3, 4)
    np.testing.assert_allclose(Activation("relu")(x).numpy(), np.maximum(x, 0))
    np.testing.assert_allclose(Activation("tanh")(x).numpy(), np.tanh(x), rtol=1e-6)
    np.testing.assert_allclose(Activation(None)(x).numpy(), x)
    assert Activation("softmax").get_config()["activation"] == "softmax"


def test_activation_grads():
    check_layer_grads(Activation("tanh", dtype="float64"), randn(2, 3, dtype=np.float64))


def test_activation_bad_identifier():
    with pytest.raises(ValueError, match=r"Received: activation='nope'$"):
        Activation("nope")


def test_activation_passes_masks():
    x = Masking()(np.array([[[1.0], [0.0]]], np.float32))
    y = Activation("relu")(x)
    np.testing.assert_array_equal(y._keras_mask.numpy(), [[True, False]])


# -- Dropout -------------------------------------------------------------------------------

def test_dropout_harness():
    run_layer_test(Dropout, {"rate": 0.5}, (2, 3), (2, 3))
    run_layer_test(Dropout, {"rate": 0.5, "noise_shape": (None, 1, 4), "seed": 3},
                   (2, 3, 4), (2, 3, 4))
    layer = Dropout(0.5, noise_shape=(None, 1, 4), seed=3)
    assert Dropout.from_config(layer.get_config()).get_config()["noise_shape"] == (None, 1, 4)


def test_dropout_is_identity_unless_training():
    x = randn(4, 5)
    layer = Dropout(0.5)
    np.testing.assert_array_equal(layer(x).numpy(), x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)


def test_dropout_training_keeps_or_scales_by_one_over_keep():
    x = np.ones((200, 50), np.float32)
    y = Dropout(0.25, seed=1)(x, training=True).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((y == 0).mean() - 0.25) < 0.02
    assert y.dtype == np.float32


def test_dropout_noise_shape_drops_whole_columns():
    x = np.ones((3, 6, 4), np.float32)
    y = Dropout(0.5, noise_shape=(None, 1, 4), seed=0)(x, training=True).numpy()
    for b in range(3):
        for c in range(4):
            assert len(set(y[b, :, c])) == 1  # the same decision for every timestep


def test_dropout_seed_is_reproducible_and_advances():
    x = np.ones((8, 16), np.float32)
    a, b = Dropout(0.5, seed=7), Dropout(0.5, seed=7)
    first_a, first_b = a(x, training=True).numpy(), b(x, training=True).numpy()
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.array_equal(first_a, a(x, training=True).numpy())


def test_dropout_rate_one_and_zero():
    x = randn(2, 3)
    np.testing.assert_array_equal(Dropout(1.0)(x, training=True).numpy(), np.zeros((2, 3)))
    np.testing.assert_array_equal(Dropout(0.0)(x, training=True).numpy(), x)


def test_dropout_grads():
    layer = Dropout(0.5, dtype="float64")
    check_layer_grads(layer, randn(2, 3, dtype=np.float64))  # inference: identity
    # Training: dy/dx is the saved mask scaled by 1/(1-rate), i.e. y / x elementwise.
    x = Tensor(randn(4, 6, dtype=np.float64) + 3.0, requires_grad=True)  # no zeros in x
    y = layer(x, training=True)
    w = randn(4, 6, seed=5, dtype=np.float64)
    (g,) = engine.grad(y, [x], grad_outputs=w)
    np.testing.assert_allclose(g.numpy(), w * y.numpy() / x.numpy(), rtol=1e-12)


def test_dropout_bad_arguments():
    with pytest.raises(ValueError, match=r"Received: rate=1.5$"):
        Dropout(1.5)
    with pytest.raises(ValueError, match=r"Received: noise_shape=\(2, 0\)$"):
        Dropout(0.5, noise_shape=(2, 0))
    with pytest.raises(ValueError, match=r"Received: seed=0.5$"):
        Dropout(0.5, seed=0.5)
    with pytest.raises(ValueError, match=r"dropout.*noise_shape=\(None, 2\) for input shape"):
        Dropout(0.5, noise_shape=(None, 2))(keras.Input((3,)))


def test_dropout_passes_masks():
    x = Masking()(np.array([[[1.0], [0.0]]], np.float32))
    y = Dropout(0.5)(x)
    np.testing.assert_array_equal(y._keras_mask.numpy(), [[True, False]])


# -- Flatten -------------------------------------------------------------------------------

def test_flatten_harness():
    run_layer_test(Flatten, {}, (2, 3, 4, 5), (2, 60))
    run_layer_test(Flatten, {"data_format": "channels_first"}, (2, 3, 4), (2, 12))


def test_flatten_matches_numpy():
    x = randn(2, 3, 4, 5)
    expected = np.array([[x[b, i, j, k] for i in range(3) for j in range(4) for k in range(5)]
                         for b in range(2)])
    np.testing.assert_array_equal(Flatten()(x).numpy(), expected)
    # channels_first: the channel axis goes last before flattening.
    expected_cf = np.array([[x[b, c, i, j] for i in range(4) for j in range(5) for c in range(3)]
                            for b in range(2)])
    np.testing.assert_array_equal(Flatten(data_format="channels_first")(x).numpy(), expected_cf)


def test_flatten_shapes():
    layer = Flatten()
    assert layer.compute_output_shape((None, 3, None)) == (None, None)
    assert layer.compute_output_shape((None,)) == (None, 1)
    assert Flatten()(np.arange(3.0)).shape == (3, 1)
    assert Flatten()(keras.Input((2, 3), dtype="int32")).dtype == "int32"


def test_flatten_grads():
    check_layer_grads(Flatten(dtype="float64"), randn(2, 3, 2, dtype=np.float64))


def test_flatten_errors():
    with pytest.raises(ValueError, match=r"Received: data_format=channels_middle$"):
        Flatten(data_format="channels_middle")
    with pytest.raises(ValueError, match=r"layer 'flatten[_0-9]*'.*expected min_ndim=1"):
        Flatten()(np.float32(3.0))


# -- Reshape -------------------------------------------------------------------------------

def test_reshape_harness():
    run_layer_test(Reshape, {"target_shape": (3, 4)}, (2, 12), (2, 3, 4))
    run_layer_test(Reshape, {"target_shape": (-1, 2, 2)}, (2, 3, 4), (2, 3, 2, 2))


def test_reshape_matches_numpy():
    x = randn(2, 3, 4)
    y = Reshape((4, -1))(x).numpy()
    flat = [list(x[b].ravel()) for b in range(2)]  # C order, by hand
    for b in range(2):
        for i in range(4):
            np.testing.assert_array_equal(y[b, i], flat[b][3 * i:3 * i + 3])


def test_reshape_shapes():
    assert Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    assert Reshape((-1, 2)).compute_output_shape((None, None, 4)) == (None, None, 2)
    assert Reshape((4,))(keras.Input((2, 2), dtype="int32")).dtype == "int32"


def test_reshape_grads():
    check_layer_grads(Reshape((6,), dtype="float64"), randn(2, 2, 3, dtype=np.float64))


def test_reshape_errors():
    with pytest.raises(ValueError, match=r"more than one `-1`.*Received: target_shape=\(-1, -1\)$"):
        Reshape((-1, -1))
    with pytest.raises(ValueError, match=r"Received: target_shape=\(2, 'a'\)$"):
        Reshape((2, "a"))
    with pytest.raises(ValueError, match=r"Layer 'reshape[_0-9]*'.*target_shape=\(5,\)$"):
        Reshape((5,))(keras.Input((2, 3)))
    with pytest.raises(ValueError, match=r"total size.*target_shape=\(-1, 4\)$"):
        Reshape((-1, 4))(randn(2, 6))


# -- Permute -------------------------------------------------------------------------------

def test_permute_harness():
    run_layer_test(Permute, {"dims": (2, 1)}, (2, 3, 4), (2, 4, 3))
    run_layer_test(Permute, {"dims": (3, 1, 2)}, (2, 3, 4, 5), (2, 5, 3, 4))


def test_permute_matches_numpy():
    x = randn(2, 3, 4, 5)
    y = Permute((3, 1, 2))(x).numpy()
    for b, i, j, k in np.ndindex(2, 3, 4, 5):
        assert y[b, k, i, j] == x[b, i, j, k]


def test_permute_grads():
    check_layer_grads(Permute((2, 1), dtype="float64"), randn(2, 3, 4, dtype=np.float64))


def test_permute_errors():
    with pytest.raises(ValueError, match=r"Received: dims=\(0, 1\)$"):
        Permute((0, 1))
    with pytest.raises(ValueError, match=r"Received: dims=3$"):
        Permute(3)
    with pytest.raises(ValueError, match=r"layer 'permute[_0-9]*'.*expected ndim=3, found ndim=4"):
        Permute((2, 1))(keras.Input((2, 3, 4)))


# -- RepeatVector --------------------------------------------------------------------------

def test_repeat_vector_harness():
    run_layer_test(RepeatVector, {"n": 3}, (2, 5), (2, 3, 5))


def test_repeat_vector_matches_numpy():
    x = randn(2, 4)
    y = RepeatVector(3)(x).numpy()
    for b, t, f in np.ndindex(2, 3, 4):
        assert y[b, t, f] == x[b, f]


def test_repeat_vector_grads():
    check_layer_grads(RepeatVector(2, dtype="float64"), randn(3, 2, dtype=np.float64))


def test_repeat_vector_errors():
    with pytest.raises(ValueError, match=r"Received: n=2.5$"):
        RepeatVector(2.5)
    with pytest.raises(ValueError, match=r"layer 'repeat_vector[_0-9]*'.*expected ndim=2"):
        RepeatVector(2)(keras.Input((3, 4)))


# -- Lambda --------------------------------------------------------------------------------

def _square(x):
    return ops.square(x)


class SquareLambda(Lambda):
    """Lambda whose from_config gets its function back, so the harness can round-trip it."""

    def __init__(self, function=_square, **kwargs):
        super().__init__(function, **kwargs)

    @classmethod
    def from_config(cls, config):
        return super().from_config(config, function=_square)


def test_lambda_harness():
    run_layer_test(SquareLambda, {}, (2, 3), (2, 3))
    run_layer_test(SquareLambda, {"output_shape": (3,)}, (2, 3), (2, 3))


def test_lambda_matches_numpy_and_passes_arguments():
    x = randn(2, 3)
    np.testing.assert_allclose(Lambda(_square)(x).numpy(), x * x, rtol=1e-6)
    layer = Lambda(lambda t, k: ops.multiply(t, k), arguments={"k": 3.0})
    np.testing.assert_allclose(layer(x).numpy(), 3 * x, rtol=1e-6)


def test_lambda_output_shapes():
    x = keras.Input((3, 4))
    # Inferred by running the function (unknown dims change between the two runs).
    assert Lambda(lambda t: ops.sum(t, axis=1))(x).shape == (None, 4)
    assert Lambda(_square, output_shape=(3, 4))(x).shape == (None, 3, 4)
    assert Lambda(_square, output_shape=[3, 4])(x).shape == (None, 3, 4)
    assert Lambda(_square, output_shape=lambda s: (s[0], 12))(x).shape == (None, 12)
    assert Lambda(_square, output_shape=lambda s: [s[0], 12])(x).shape == (None, 12)
    two = Lambda(lambda t: [t, ops.sum(t, axis=1)], output_shape=[[3, 4], [4]])(x)
    assert [t.shape for t in two] == [(None, 3, 4), (None, 4)]


def test_lambda_training_and_mask_arguments():
    seen = {}

    def fn(t, mask=None, training=None):
        seen.update(mask=mask, training=training)
        return t

    masked = Masking()(np.array([[[1.0], [0.0]]], np.float32))
    # Without a `mask` argument a Lambda doesn't pass masks on (Keras warns the same way).
    with pytest.warns(UserWarning, match="does not support masking"):
        Lambda(fn)(masked, training=True)
    assert seen["training"] is True
    np.testing.assert_array_equal(seen["mask"].numpy(), [[True, False]])


def test_lambda_mask_argument():
    x = randn(2, 3)
    y = Lambda(_square, mask=lambda inputs, mask: ops.greater(inputs, 0.0))(x)
    np.testing.assert_array_equal(y._keras_mask.numpy(), x > 0)
    assert Lambda(_square).supports_masking is False


def test_lambda_grads():
    check_layer_grads(Lambda(lambda t: ops.tanh(ops.square(t)), dtype="float64"),
                      randn(2, 3, dtype=np.float64))


def test_lambda_config_keeps_names_only_and_needs_the_function_back():
    layer = Lambda(_square, output_shape=lambda s: s, arguments={"k": 1})
    config = layer.get_config()
    assert config["function"] == "_square" and config["output_shape"] == "<lambda>"
    assert config["arguments"] == {"k": 1}
    with pytest.raises(ValueError, match=r"can't be rebuilt.*Received: function='_square'$"):
        Lambda.from_config(config)
    with pytest.raises(ValueError, match=r"Received: output_shape='<lambda>'$"):
        Lambda.from_config(config, function=_square)
    clone = Lambda.from_config(config, function=lambda t, k: t, output_shape=lambda s: s)
    assert clone.arguments == {"k": 1}
    clone = Lambda.from_config({"function": "_square", "output_shape": (3,)},
                               custom_objects={"_square": _square})
    assert clone.function is _square and clone(keras.Input((3,))).shape == (None, 3)


def test_lambda_bad_arguments():
    with pytest.raises(ValueError, match=r"Received: function=3$"):
        Lambda(3)
    with pytest.raises(ValueError, match=r"Received: arguments=\[1\]$"):
        Lambda(_square, arguments=[1])


# -- Masking -------------------------------------------------------------------------------

def _masking_reference(x, value):
    out, mask = np.zeros_like(x), np.zeros(x.shape[:-1], bool)
    for b, t in np.ndindex(*x.shape[:-1]):
        keep = any(v != value for v in x[b, t])
        mask[b, t] = keep
        out[b, t] = x[b, t] if keep else 0.0
    return out, mask


def test_masking_harness():
    run_layer_test(Masking, {"mask_value": 0.5}, (2, 3, 4), (2, 3, 4))


def test_masking_matches_numpy():
    x = randn(2, 4, 3)
    x[0, 1] = 0.0
    x[1, 3] = 0.0
    x[1, 0, 0] = 0.0  # one zero feature does not mask the step
    y = Masking()(x)
    out, mask = _masking_reference(x, 0.0)
    np.testing.assert_array_equal(y.numpy(), out)
    np.testing.assert_array_equal(y._keras_mask.numpy(), mask)
    x[0, 2] = -1.0
    y = Masking(mask_value=-1.0)(x)
    out, mask = _masking_reference(x, -1.0)
    np.testing.assert_array_equal(y.numpy(), out)
    np.testing.assert_array_equal(y._keras_mask.numpy(), mask)


def test_masking_grads():
    # NOTE: masking is discontinuous at a fully masked step, so the finite-difference check uses
    # steps that stay unmasked (some zero features); the masked case is checked in closed form.
    x = randn(2, 3, 4, dtype=np.float64)
    x[0, 1, :2] = 0.0
    check_layer_grads(Masking(dtype="float64"), x)
    x[1, 2] = 0.0
    t = Tensor(x, requires_grad=True)
    (g,) = engine.grad(Masking(dtype="float64")(t), [t], grad_outputs=np.ones_like(x))
    expected = np.ones_like(x)
    expected[1, 2] = 0.0
    np.testing.assert_array_equal(g.numpy(), expected)


def test_masking_mask_reaches_the_next_layers_in_a_chain():
    x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]], np.float32)
    y = Identity()(Dense(2)(Masking()(x)))
    np.testing.assert_array_equal(y._keras_mask.numpy(), [[True, False, True]])


# -- Identity ------------------------------------------------------------------------------

def test_identity_harness():
    run_layer_test(Identity, {}, (2, 3, 4), (2, 3, 4))


def test_identity_returns_inputs_and_structures():
    x = randn(2, 3)
    np.testing.assert_array_equal(Identity()(x).numpy(), x)
    a, b = keras.Input((3,)), keras.Input((2,), dtype="int32")
    out = Identity()([a, b])
    assert [t.shape for t in out] == [(None, 3), (None, 2)] and out[1].dtype == "int32"
    y = Identity()({"a": x, "b": 2 * x})
    np.testing.assert_array_equal(y["b"].numpy(), 2 * x)


def test_identity_grads():
    check_layer_grads(Identity(dtype="float64"), randn(2, 3, dtype=np.float64))


def test_identity_passes_masks():
    x = Masking()(np.array([[[1.0], [0.0]]], np.float32))
    np.testing.assert_array_equal(Identity()(x)._keras_mask.numpy(), [[True, False]])
