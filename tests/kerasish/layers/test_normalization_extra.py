"""GroupNormalization, UnitNormalization, RMSNormalization and SpectralNormalization (with the
Wrapper base) against plain-NumPy references."""
import numpy as np
import pytest

import kerasish as keras
from kerasish.layers import (Dense, Embedding, GroupNormalization, RMSNormalization,
                             SpectralNormalization, UnitNormalization, Wrapper)
from tests.helpers import check_layer_grads, run_layer_test


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype("float32")


def _group_norm_reference(x, groups, gamma, beta, eps=1e-3):
    """Channels last: statistics over each example's (spatial axes x channels of a group)."""
    x = np.asarray(x, np.float64)
    channels = x.shape[-1]
    y = np.empty_like(x)
    size = channels // groups
    for n in range(x.shape[0]):
        for g in range(groups):
            block = x[n, ..., g * size:(g + 1) * size]
            y[n, ..., g * size:(g + 1) * size] = (block - block.mean()) / np.sqrt(
                block.var() + eps)
    return y * gamma + beta


# -- GroupNormalization -----------------------------------------------------------------------
@pytest.mark.parametrize("shape, groups", [((2, 6), 3), ((2, 4, 6), 2), ((2, 3, 3, 4), -1),
                                           ((2, 3, 4), 1)])
def test_group_norm_matches_numpy(shape, groups):
    rng = np.random.default_rng(1)
    channels = shape[-1]
    gamma, beta = rng.uniform(0.5, 2, channels), rng.standard_normal(channels)
    layer = GroupNormalization(groups=groups)
    x = _x(*shape)
    layer(x)
    layer.set_weights([gamma.astype("float32"), beta.astype("float32")])
    expected = _group_norm_reference(x, channels if groups == -1 else groups, gamma, beta)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-4, atol=1e-4)


def test_group_norm_channels_first_axis():
    x = _x(2, 4, 3, 3)
    y = GroupNormalization(groups=2, axis=1)(x).numpy()
    reference = _group_norm_reference(np.moveaxis(x, 1, -1), 2, 1.0, 0.0)
    np.testing.assert_allclose(y, np.moveaxis(reference, -1, 1), rtol=1e-4, atol=1e-4)


def test_group_norm_harness_and_grads():
    run_layer_test(GroupNormalization, {"groups": 2}, (2, 3, 4), (2, 3, 4),
                   expected_num_trainable_weights=2, expected_weight_names=["gamma", "beta"])
    run_layer_test(GroupNormalization, {"groups": 2, "center": False}, (2, 4), (2, 4),
                   expected_num_trainable_weights=1, expected_weight_names=["gamma"])
    layer = GroupNormalization(groups=2, dtype="float64", beta_initializer="random_normal")
    check_layer_grads(layer, np.random.default_rng(3).standard_normal((2, 3, 4)))


def test_group_norm_invalid_groups():
    with pytest.raises(ValueError, match="groups"):
        GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="cannot be more than"):
        GroupNormalization(groups=8)(np.ones((2, 4)))
    with pytest.raises(ValueError, match="multiple"):
        GroupNormalization(groups=3)(np.ones((2, 4)))


# -- UnitNormalization / RMSNormalization ---------------------------------------------------------
@pytest.mark.parametrize("axis", [-1, 1, [1, 2]])
def test_unit_norm_matches_numpy(axis):
    x = _x(2, 3, 4)
    y = UnitNormalization(axis=axis)(x).numpy()
    norm = np.sqrt((x.astype(np.float64) ** 2).sum(axis=tuple(np.atleast_1d(axis)),
                                                   keepdims=True))
    np.testing.assert_allclose(y, x / norm, rtol=1e-5, atol=1e-6)


def test_unit_norm_of_zeros_is_zeros():
    np.testing.assert_array_equal(UnitNormalization()(np.zeros((1, 3))).numpy(), 0.0)
    np.testing.assert_allclose(UnitNormalization()(np.array([[3.0, 4.0]])).numpy(), [[0.6, 0.8]])


def test_unit_and_rms_norm_harness_and_grads():
    run_layer_test(UnitNormalization, {"axis": [1, 2]}, (2, 3, 4), (2, 3, 4))
    run_layer_test(RMSNormalization, {}, (2, 3, 4), (2, 3, 4), expected_num_trainable_weights=1,
                   expected_weight_names=["scale"])
    check_layer_grads(UnitNormalization(dtype="float64"), np.random.default_rng(4).random((2, 5)))
    check_layer_grads(RMSNormalization(axis=[1, 2], dtype="float64"),
                      np.random.default_rng(5).standard_normal((2, 3, 4)))


@pytest.mark.parametrize("axis, scale_shape", [(-1, (4,)), ([1, 2], (3, 4))])
def test_rms_norm_matches_numpy(axis, scale_shape):
    x = _x(2, 3, 4)
    layer = RMSNormalization(axis=axis, epsilon=1e-6)
    layer(x)
    assert layer.scale.shape == scale_shape
    scale = np.random.default_rng(2).uniform(0.5, 2, scale_shape).astype("float32")
    layer.set_weights([scale])
    axes = tuple(np.atleast_1d(axis))
    rms = np.sqrt((x.astype(np.float64) ** 2).mean(axis=axes, keepdims=True) + 1e-6)
    np.testing.assert_allclose(layer(x).numpy(), x / rms * scale, rtol=1e-5, atol=1e-6)
    assert layer.get_config()["axis"] == list(axes)


# -- Wrapper / SpectralNormalization ----------------------------------------------------------
def test_wrapper_builds_its_layer_and_round_trips():
    class Twice(Wrapper):
        def call(self, inputs):
            return self.layer(self.layer(inputs))

        def compute_output_shape(self, input_shape):
            return input_shape

    layer = Twice(Dense(3))
    layer.build((None, 3))
    assert layer.layer.built and len(layer.weights) == 2
    clone = Twice.from_config(layer.get_config())
    assert isinstance(clone.layer, Dense) and clone.layer.units == 3
    with pytest.raises(ValueError, match="Wrapper"):
        Twice("dense")


def test_spectral_norm_weights_in_keras_order():
    layer, _ = run_layer_test(SpectralNormalization, {"layer": Dense(3)}, (2, 4), (2, 3),
                              expected_num_trainable_weights=2,
                              expected_num_non_trainable_weights=1,
                              expected_weight_names=["kernel", "vector_u", "bias"])
    assert layer.vector_u.shape == (1, 3)
    check_layer_grads(SpectralNormalization(Dense(3, dtype="float64"), dtype="float64"),
                      np.random.default_rng(6).standard_normal((2, 4)))


def test_spectral_norm_power_iteration_matches_numpy():
    layer = SpectralNormalization(Dense(3, use_bias=False), power_iterations=2)
    x = _x(2, 4)
    layer(x)
    kernel, u = layer.kernel.numpy().astype(np.float64), layer.vector_u.numpy().astype(np.float64)
    for _ in range(2):
        v = u @ kernel.T
        v /= np.linalg.norm(v)
        u = v @ kernel
        u /= np.linalg.norm(u)
    sigma = (v @ kernel @ u.T).item()
    y = layer(x, training=True).numpy()
    np.testing.assert_allclose(layer.kernel.numpy(), kernel / sigma, rtol=1e-5)
    np.testing.assert_allclose(layer.vector_u.numpy(), u, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(y, x @ (kernel / sigma), rtol=1e-4, atol=1e-5)


def test_spectral_norm_converges_to_unit_spectral_norm():
    layer = SpectralNormalization(Dense(5))
    x = _x(3, 6)
    for _ in range(30):
        layer(x, training=True)
    assert np.linalg.svd(layer.layer.kernel.numpy(), compute_uv=False)[0] == \
        pytest.approx(1.0, abs=1e-3)
    before = layer.layer.kernel.numpy().copy()
    layer(x)  # inference: the kernel is left as it stands
    np.testing.assert_array_equal(layer.layer.kernel.numpy(), before)


def test_spectral_norm_wraps_embeddings_and_rejects_others():
    layer = SpectralNormalization(Embedding(10, 4))
    layer(np.array([[1, 2]]), training=True)
    assert layer.kernel is layer.layer.embeddings
    with pytest.raises(ValueError, match="kernel"):
        SpectralNormalization(keras.layers.Activation("relu"))(np.ones((2, 3)))
    with pytest.raises(ValueError, match="power_iterations"):
        SpectralNormalization(Dense(2), power_iterations=0)


def test_spectral_norm_under_mixed_float16_assigns_the_float32_kernel():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        layer = SpectralNormalization(Dense(3))
        assert layer(_x(2, 4), training=True).dtype == np.float16
        assert layer.layer.kernel.dtype == np.float32 and layer.vector_u.dtype == np.float32
    finally:
        keras.mixed_precision.set_global_policy("float32")
