"""Noise and regularization layers: identity at inference, the right statistics in training,
seeded reproducibility, gradients through the saved noise, Keras's configs."""
import numpy as np
import pytest

import engine
from engine import Tensor
from kerasish import layers
from kerasish.layers import (ActivityRegularization, AlphaDropout, GaussianDropout, GaussianNoise,
                             SpatialDropout1D, SpatialDropout2D, SpatialDropout3D)
from tests.helpers import check_layer_grads, run_layer_test

NOISE = [(GaussianNoise, {"stddev": 0.3, "seed": 1}), (GaussianDropout, {"rate": 0.3, "seed": 1}),
         (AlphaDropout, {"rate": 0.3, "seed": 1}), (SpatialDropout1D, {"rate": 0.3, "seed": 1}),
         (SpatialDropout2D, {"rate": 0.3, "seed": 1}), (SpatialDropout3D, {"rate": 0.3, "seed": 1}),
         (ActivityRegularization, {"l1": 0.1, "l2": 0.2})]
SHAPES = {SpatialDropout1D: (2, 3, 4), SpatialDropout2D: (2, 3, 3, 4),
          SpatialDropout3D: (2, 2, 3, 3, 4)}


@pytest.mark.parametrize("cls, kwargs", NOISE)
def test_layer_harness_and_identity_at_inference(cls, kwargs):
    shape = SHAPES.get(cls, (3, 5))
    _, y = run_layer_test(cls, kwargs, shape, shape)
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    np.testing.assert_array_equal(cls(**kwargs)(x).numpy(), x)


@pytest.mark.parametrize("cls, kwargs", NOISE)
def test_gradients_through_the_training_noise(cls, kwargs):
    shape = SHAPES.get(cls, (3, 5))
    x = np.random.default_rng(2).standard_normal(shape)

    if cls is ActivityRegularization:
        check_layer_grads(cls(dtype="float64", **kwargs), x)
        return

    class Fixed(cls):  # the same noise at every call (finite differences call it again)
        def call(self, inputs, training=False):
            self._generators.clear()
            return super().call(inputs, training=True)

    check_layer_grads(Fixed(dtype="float64", **kwargs), x)


def _train(layer, x):
    return layer(x, training=True).numpy().astype("float64")


def test_gaussian_noise_statistics():
    x = np.zeros((400, 250), "float32")
    y = _train(GaussianNoise(0.3, seed=0), x)
    assert abs(y.mean()) < 0.01 and abs(y.std() - 0.3) < 0.01


def test_gaussian_dropout_statistics():
    x = np.ones((400, 250), "float32")
    y = _train(GaussianDropout(0.2, seed=0), x)
    assert abs(y.mean() - 1) < 0.01 and abs(y.std() - np.sqrt(0.2 / 0.8)) < 0.01


def test_alpha_dropout_keeps_mean_and_variance_of_standard_inputs():
    x = np.random.default_rng(0).standard_normal((400, 250)).astype("float32")
    y = _train(AlphaDropout(0.2, seed=0), x)
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1) < 0.02
    # Dropped units all take one value: a * alpha' + b (SELU's saturation, mapped).
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - 0.2) * (1 + 0.2 * alpha_p ** 2)) ** -0.5
    dropped = np.isclose(y, a * alpha_p - a * alpha_p * 0.2, atol=1e-5)
    assert abs(dropped.mean() - 0.2) < 0.01


def test_alpha_dropout_noise_shape_broadcasts():
    y = _train(AlphaDropout(0.5, noise_shape=(None, 1), seed=3), np.ones((50, 8), "float32"))
    assert all(len(np.unique(row)) == 1 for row in y)


@pytest.mark.parametrize("cls, shape, channels_axis", [
    (SpatialDropout1D, (40, 6, 10), -1), (SpatialDropout2D, (40, 3, 4, 10), -1),
    (SpatialDropout3D, (40, 2, 3, 2, 10), -1)])
def test_spatial_dropout_drops_whole_channels(cls, shape, channels_axis):
    y = _train(cls(0.4, seed=5), np.ones(shape, "float32"))
    per_channel = np.moveaxis(y, channels_axis, 1).reshape(shape[0], shape[-1], -1)
    assert all(len(np.unique(c)) == 1 for row in per_channel for c in row)
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.6)}
    assert 0.25 < (y == 0).mean() < 0.55


def test_spatial_dropout_2d_channels_first():
    y = _train(SpatialDropout2D(0.5, data_format="channels_first", seed=1),
               np.ones((30, 4, 3, 3), "float32"))
    assert all(len(np.unique(y[i, c])) == 1 for i in range(30) for c in range(4))


def test_seeded_layers_are_reproducible_and_draw_new_noise_each_call():
    x = np.ones((4, 6), "float32")
    first, second = GaussianNoise(0.5, seed=7), GaussianNoise(0.5, seed=7)
    a, b = _train(first, x), _train(first, x)
    np.testing.assert_array_equal(a, _train(second, x))
    assert not np.array_equal(a, b)


def test_unseeded_layers_follow_the_global_seed():
    x = np.ones((4, 6), "float32")
    engine.random.seed(3)
    a = _train(GaussianDropout(0.3), x)
    engine.random.seed(3)
    np.testing.assert_array_equal(a, _train(GaussianDropout(0.3), x))


def test_activity_regularization_adds_its_penalty():
    layer = ActivityRegularization(l1=0.1, l2=0.2)
    x = np.array([[1.0, -2.0], [0.5, 0.0]], "float32")
    layer(x)
    expected = 0.1 * np.abs(x).sum() + 0.2 * (x ** 2).sum()
    assert [float(loss.numpy()) for loss in layer.losses] == pytest.approx([expected])
    assert "activity_regularizer" not in layer.get_config()


def test_configs_are_keras():
    assert GaussianNoise(0.1).get_config().keys() >= {"stddev", "seed", "name", "trainable"}
    assert set(SpatialDropout1D(0.1, name="s").get_config()) == {"rate", "seed", "name", "dtype"}
    assert SpatialDropout2D(0.1).get_config()["data_format"] == "channels_last"
    assert AlphaDropout(0.1).get_config()["noise_shape"] is None
    config = ActivityRegularization(0.1, 0.2).get_config()
    assert (config["l1"], config["l2"]) == (0.1, 0.2)


def test_invalid_arguments():
    with pytest.raises(ValueError, match="stddev"):
        GaussianNoise(1.5)
    with pytest.raises(ValueError, match="rate"):
        GaussianDropout(-0.1)
    with pytest.raises(ValueError, match="ndim|rank|expected"):
        SpatialDropout1D(0.1)(np.ones((2, 3)))


def test_noise_in_a_compiled_fit_replays_fresh_draws():
    import kerasish as keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), GaussianNoise(0.1, seed=1), layers.Dense(1),
                              AlphaDropout(0.1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).standard_normal((32, 4)).astype("float32")
    history = model.fit(x, x[:, :1], batch_size=8, epochs=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_tensor_inputs_keep_their_dtype():
    y = GaussianNoise(0.2, seed=0)(Tensor(np.ones((2, 2), "float64")), training=True)
    assert y.dtype == np.float64


def test_float16_inputs_get_float16_noise():
    x = Tensor(np.ones((3, 4), "float16"))
    for layer in (GaussianNoise(0.1, seed=0, dtype="float16"),
                  GaussianDropout(0.1, seed=0, dtype="float16"),
                  AlphaDropout(0.1, dtype="float16")):
        assert layer(x, training=True).dtype == np.float16
