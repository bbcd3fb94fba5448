"""BatchNormalization and LayerNormalization against plain-NumPy references."""
import numpy as np
import pytest

import kerasish as keras
from engine import Tensor
from kerasish.layers.normalization import BatchNormalization, LayerNormalization
from tests.helpers import check_layer_grads, run_layer_test

EPS = 1e-3


def _bn_weights(channels, seed=1):
    rng = np.random.default_rng(seed)
    gamma = rng.uniform(0.5, 2.0, channels).astype("float32")
    beta = rng.standard_normal(channels).astype("float32")
    moving_mean = rng.standard_normal(channels).astype("float32")
    moving_variance = rng.uniform(0.5, 2.0, channels).astype("float32")
    return gamma, beta, moving_mean, moving_variance


def _bn_reference_train(x, gamma, beta, axis=-1):
    """Loops over channels: mean and biased variance of every value of that channel."""
    x = np.moveaxis(np.asarray(x, np.float64), axis, -1)
    y = np.empty_like(x)
    means, variances = [], []
    for c in range(x.shape[-1]):
        values = x[..., c].ravel()
        mean = values.sum() / values.size
        variance = ((values - mean) ** 2).sum() / values.size
        y[..., c] = gamma[c] * (x[..., c] - mean) / np.sqrt(variance + EPS) + beta[c]
        means.append(mean)
        variances.append(variance)
    return np.moveaxis(y, -1, axis), np.array(means), np.array(variances)


def _bn_reference_infer(x, gamma, beta, moving_mean, moving_variance, axis=-1):
    x = np.moveaxis(np.asarray(x, np.float64), axis, -1)
    y = gamma * (x - moving_mean) / np.sqrt(moving_variance + EPS) + beta
    return np.moveaxis(y, -1, axis)


# -- BatchNormalization: harness ------------------------------------------------------------------
@pytest.mark.parametrize("input_shape", [(4, 3), (2, 4, 4, 3)])
def test_batch_norm_layer_test(input_shape):
    run_layer_test(BatchNormalization, {"beta_initializer": "ones", "momentum": 0.9},
                   input_shape, input_shape, expected_num_trainable_weights=2,
                   expected_num_non_trainable_weights=2,
                   expected_weight_names=["gamma", "beta", "moving_mean", "moving_variance"])


@pytest.mark.parametrize("kwargs, trainable, names", [
    ({"scale": False, "beta_initializer": "ones"}, 1, ["beta", "moving_mean", "moving_variance"]),
    ({"center": False}, 1, ["gamma", "moving_mean", "moving_variance"]),
    ({"center": False, "scale": False}, 0, ["moving_mean", "moving_variance"]),
])
def test_batch_norm_scale_center_weight_lists(kwargs, trainable, names):
    layer, _ = run_layer_test(BatchNormalization, kwargs, (3, 5, 2), (3, 5, 2),
                              expected_num_trainable_weights=trainable,
                              expected_num_non_trainable_weights=2, expected_weight_names=names)
    assert all(w.shape == (2,) for w in layer.weights)


def test_batch_norm_config_has_keras_keys():
    config = BatchNormalization().get_config()
    for key in ("axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
                "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
                "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
                "synchronized", "renorm", "renorm_clipping", "renorm_momentum"):
        assert key in config
    assert config["axis"] == -1 and config["momentum"] == 0.99 and config["epsilon"] == 1e-3
    assert config["gamma_initializer"]["class_name"] == "Ones"
    assert config["moving_variance_initializer"]["class_name"] == "Ones"


def test_batch_norm_accepts_tf_keras_list_axis():
    assert BatchNormalization(axis=[3]).axis == 3


# -- BatchNormalization: numbers ------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 3), (2, 3, 4, 3)])
def test_batch_norm_training_output_and_moving_update(shape):
    x = np.random.default_rng(0).standard_normal(shape).astype("float32") * 2 + 1
    weights = _bn_weights(3)
    gamma, beta, mm, mv = weights
    layer = BatchNormalization(momentum=0.8)
    layer.build(shape)
    layer.set_weights(list(weights))
    y = layer(x, training=True).numpy()
    expected, mean, variance = _bn_reference_train(x, gamma, beta)
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
    # Keras 3: moving = moving * momentum + batch_stat * (1 - momentum), biased variance for
    # every rank (the 4-D case included).
    np.testing.assert_allclose(layer.moving_mean.numpy(), mm * 0.8 + mean * 0.2, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), mv * 0.8 + variance * 0.2,
                               rtol=1e-5, atol=1e-6)
    assert layer.moving_variance.dtype == np.float32 and y.dtype == np.float32
    # Gamma and beta are not touched by the call.
    np.testing.assert_array_equal(layer.gamma.numpy(), gamma)


def test_batch_norm_two_training_steps_compound():
    x1 = np.arange(8, dtype="float32").reshape(4, 2)
    x2 = np.array([[1.0, -1.0], [3.0, 5.0]], dtype="float32")
    layer = BatchNormalization(momentum=0.5)
    layer(x1, training=True)
    layer(x2, training=True)
    # Hand computation: column means 3, 4 then 2, 2; biased variances 5, 5 then 1, 9.
    np.testing.assert_allclose(layer.moving_mean.numpy(),
                               [(0 * 0.5 + 3 * 0.5) * 0.5 + 2 * 0.5,
                                (0 * 0.5 + 4 * 0.5) * 0.5 + 2 * 0.5], rtol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(),
                               [(1 * 0.5 + 5 * 0.5) * 0.5 + 1 * 0.5,
                                (1 * 0.5 + 5 * 0.5) * 0.5 + 9 * 0.5], rtol=1e-6)


@pytest.mark.parametrize("training", [False, None])
def test_batch_norm_inference_uses_moving_statistics(training):
    x = np.random.default_rng(2).standard_normal((5, 4, 3)).astype("float32")
    weights = _bn_weights(3)
    layer = BatchNormalization()
    layer.build(x.shape)
    layer.set_weights(list(weights))
    y = layer(x, training=training).numpy()
    np.testing.assert_allclose(y, _bn_reference_infer(x, *weights), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), weights[2])
    np.testing.assert_array_equal(layer.moving_variance.numpy(), weights[3])


def test_batch_norm_axis_1():
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5)).astype("float32")
    weights = _bn_weights(3)
    layer = BatchNormalization(axis=1, momentum=0.0)
    layer.build(x.shape)
    layer.set_weights(list(weights))
    expected, mean, variance = _bn_reference_train(x, weights[0], weights[1], axis=1)
    np.testing.assert_allclose(layer(x, training=True).numpy(), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.numpy(), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), variance, rtol=1e-5)
    np.testing.assert_allclose(layer(x).numpy(),
                               _bn_reference_infer(x, weights[0], weights[1], mean, variance,
                                                   axis=1), rtol=1e-4, atol=1e-4)


def test_batch_norm_scale_false_center_false_numbers():
    x = np.random.default_rng(4).standard_normal((6, 2)).astype("float32")
    layer = BatchNormalization(scale=False, center=False)
    expected, _, _ = _bn_reference_train(x, np.ones(2), np.zeros(2))
    np.testing.assert_allclose(layer(x, training=True).numpy(), expected, rtol=1e-4, atol=1e-4)
    no_gamma = BatchNormalization(scale=False)
    no_gamma.build(x.shape)
    no_gamma.set_weights([np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([2.0, 4.0])])
    np.testing.assert_allclose(no_gamma(x).numpy(),
                               (x - [0.5, 0.5]) / np.sqrt(np.array([2.0, 4.0]) + EPS)
                               + [1.0, -2.0], rtol=1e-5, atol=1e-5)


def test_frozen_batch_norm_runs_in_inference_mode():
    x = np.random.default_rng(5).standard_normal((8, 3)).astype("float32")
    weights = _bn_weights(3)
    layer = BatchNormalization()
    layer.build(x.shape)
    layer.set_weights(list(weights))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4
    y = layer(x, training=True).numpy()
    np.testing.assert_allclose(y, _bn_reference_infer(x, *weights), rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), weights[2])
    np.testing.assert_array_equal(layer.moving_variance.numpy(), weights[3])


def test_batch_norm_masked_statistics():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 0]], dtype=bool)
    layer = BatchNormalization(momentum=0.0, center=False, scale=False)
    y = layer(x, training=True, mask=Tensor(mask)).numpy()
    kept = x[mask]  # (number of kept steps, channels)
    mean, variance = kept.mean(0), kept.var(0)
    np.testing.assert_allclose(layer.moving_mean.numpy(), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), variance, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(variance + EPS), rtol=1e-4, atol=1e-4)


def test_batch_norm_in_a_functional_model_follows_training():
    inputs = keras.Input((3,))
    layer = BatchNormalization(momentum=0.0)
    model = keras.Model(inputs, layer(inputs))
    x = np.random.default_rng(7).standard_normal((10, 3)).astype("float32")
    model(x)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), np.zeros(3))
    model(x, training=True)
    np.testing.assert_allclose(layer.moving_mean.numpy(), x.mean(0), rtol=1e-5, atol=1e-6)


# -- BatchNormalization: gradients ----------------------------------------------------------------
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_grads(training):
    x = np.random.default_rng(8).standard_normal((4, 3, 2))
    layer = BatchNormalization(dtype="float64", beta_initializer="random_normal",
                               gamma_initializer="random_normal")
    check_layer_grads(layer, x, call_kwargs={"training": training})


def test_batch_norm_masked_grads():
    x = np.random.default_rng(9).standard_normal((2, 4, 3))
    mask = Tensor(np.array([[1, 1, 0, 1], [0, 1, 1, 1]], dtype=bool))
    layer = BatchNormalization(dtype="float64", gamma_initializer="random_normal")
    check_layer_grads(layer, x, call_kwargs={"training": True, "mask": mask})


# -- BatchNormalization: errors -------------------------------------------------------------------
def test_batch_norm_bad_arguments():
    with pytest.raises(ValueError, match=r"Received: axis=\[1, 2\]"):
        BatchNormalization(axis=[1, 2])
    with pytest.raises(ValueError, match="Received: renorm=True"):
        BatchNormalization(renorm=True)
    with pytest.raises(ValueError, match="Received: axis=3"):
        BatchNormalization(axis=3)(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="Received: axis=3"):
        BatchNormalization(axis=3)(keras.Input((3,)))


def test_batch_norm_bad_inputs():
    layer = BatchNormalization()
    layer(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match=r"batch_normalization.*expected axis -1 .* value 3"):
        layer(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        layer(np.ones((2, 5, 3), "float32"))
    with pytest.raises(ValueError, match="must have a defined dimension"):
        BatchNormalization()(keras.Input(batch_shape=(None, 4, None)))
    with pytest.raises(ValueError, match="mask provided should be one dimension less"):
        layer(np.ones((2, 3), "float32"), training=True, mask=Tensor(np.ones((2, 3), bool)))


# -- LayerNormalization ----------------------------------------------------------------------------
def _ln_reference(x, gamma, beta, axes, epsilon=EPS):
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=axes, keepdims=True)
    variance = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    shape = [n if i in axes else 1 for i, n in enumerate(x.shape)]
    y = (x - mean) / np.sqrt(variance + epsilon)
    if gamma is not None:
        y = y * np.reshape(gamma, shape)
    if beta is not None:
        y = y + np.reshape(beta, shape)
    return y


@pytest.mark.parametrize("kwargs, input_shape, trainable", [
    ({"beta_initializer": "ones"}, (4, 5), 2),
    ({"beta_initializer": "ones", "axis": [1, 2]}, (2, 3, 4), 2),
    ({"center": False}, (2, 3, 4), 1),
    ({"scale": False, "beta_initializer": "ones"}, (2, 3, 4), 1),
    ({"scale": False, "center": False}, (2, 3), 0),
])
def test_layer_norm_layer_test(kwargs, input_shape, trainable):
    run_layer_test(LayerNormalization, kwargs, input_shape, input_shape,
                   expected_num_trainable_weights=trainable)


def test_layer_norm_weight_order_and_config():
    layer = LayerNormalization(axis=[1, 2])
    layer.build((None, 3, 4))
    assert [w.name for w in layer.weights] == ["gamma", "beta"]
    assert layer.gamma.shape == (3, 4) and layer.beta.shape == (3, 4)
    config = layer.get_config()
    assert config["axis"] == [1, 2] and config["epsilon"] == 1e-3
    assert config["rms_scaling"] is False and config["beta_constraint"] is None


@pytest.mark.parametrize("axis, shape", [(-1, (3, 5)), (-1, (2, 3, 4)), ([1, 2], (2, 3, 4)),
                                         ([1, 3], (2, 3, 2, 4)), (1, (2, 3, 4))])
def test_layer_norm_numbers(axis, shape):
    rng = np.random.default_rng(10)
    x = (rng.standard_normal(shape) * 3 + 2).astype("float32")
    layer = LayerNormalization(axis=axis)
    layer.build(shape)
    gamma = rng.uniform(0.5, 2.0, layer.gamma.shape).astype("float32")
    beta = rng.standard_normal(layer.beta.shape).astype("float32")
    layer.set_weights([gamma, beta])
    axes = tuple(a % len(shape) for a in (axis if isinstance(axis, list) else [axis]))
    np.testing.assert_allclose(layer(x).numpy(), _ln_reference(x, gamma, beta, axes),
                               rtol=1e-4, atol=1e-4)


def test_layer_norm_hand_computed():
    # Row [1, 2, 3, 4]: mean 2.5, variance 1.25.
    layer = LayerNormalization(epsilon=0.0, center=False, scale=False)
    y = layer(np.array([[1.0, 2.0, 3.0, 4.0]], "float32")).numpy()
    np.testing.assert_allclose(y, [[-1.5, -0.5, 0.5, 1.5]] / np.sqrt(1.25), rtol=1e-6)


def test_layer_norm_rms_scaling_is_deprecated_but_computed():
    x = np.random.default_rng(11).standard_normal((3, 4)).astype("float32")
    with pytest.warns(UserWarning, match="rms_scaling"):
        layer = LayerNormalization(rms_scaling=True)
    assert [w.name for w in layer.weights] == [] and layer(x) is not None
    assert [w.name for w in layer.weights] == ["gamma"]
    gamma = np.array([1.0, 2.0, 0.5, -1.0], "float32")
    layer.set_weights([gamma])
    expected = x / np.sqrt(x.astype(np.float64).var(-1, keepdims=True) + EPS) * gamma
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("axis", [-1, [1, 2]])
def test_layer_norm_grads(axis):
    x = np.random.default_rng(12).standard_normal((2, 3, 4))
    layer = LayerNormalization(axis=axis, dtype="float64", beta_initializer="random_normal",
                               gamma_initializer="random_normal")
    check_layer_grads(layer, x)


def test_layer_norm_errors():
    with pytest.raises(ValueError, match="Received: axis='last'"):
        LayerNormalization(axis="last")
    with pytest.raises(ValueError, match="Received: axis=2"):
        LayerNormalization(axis=2)(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="Received: axis=-3"):
        LayerNormalization(axis=-3).compute_output_shape((None, 3))
    layer = LayerNormalization()
    layer(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="layer_normalization.*expected axis -1 .* value 3"):
        layer(np.ones((2, 4), "float32"))
