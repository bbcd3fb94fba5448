"""Rescaling, Normalization, Discretization and CategoryEncoding: Keras 3.15's numbers (its
docstring examples and outputs computed with Keras 3.15, hard-coded), adapt, configs, and
save -> load through ``.keras`` and legacy ``.h5``."""
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers
from tests.helpers import check_layer_grads, run_layer_test

ADAPT_ROWS = np.array([[0., 7., 4.], [2., 9., 6.], [0., 7., 4.], [2., 9., 6.]], "float32")


def _save_load(model, tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    model.save(path)
    return keras.models.load_model(path)


# -- Rescaling ----------------------------------------------------------------------------------

def test_rescaling_harness_and_grads():
    run_layer_test(layers.Rescaling, {"scale": 0.5, "offset": -1.0}, (2, 3), (2, 3))
    run_layer_test(layers.Rescaling, {"scale": [1.0, 2.0, 3.0]}, (2, 4, 3), (2, 4, 3))
    x = np.random.default_rng(0).standard_normal((2, 3))
    check_layer_grads(layers.Rescaling(2.0, 1.0, dtype="float64"), x)


def test_rescaling_numbers():
    # Keras 3.15: Rescaling([1., 2., 3.], 0.5)(uint8 ones) -> [[1.5, 2.5, 3.5]] as float32.
    y = layers.Rescaling([1.0, 2.0, 3.0], 0.5)(np.ones((1, 3), "uint8"))
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), [[1.5, 2.5, 3.5]])
    y = layers.Rescaling(1 / 127.5, offset=-1)(np.array([[0, 255]], "uint8"))
    np.testing.assert_allclose(y.numpy(), [[-1.0, 1.0]], rtol=1e-6)


def test_rescaling_config_as_keras():
    config = layers.Rescaling([1.0, 2.0, 3.0], 0.5).get_config()
    assert (config["scale"], config["offset"]) == ([1.0, 2.0, 3.0], 0.5)
    # An array scale is written as a tagged value and read back as an array.
    config = layers.Rescaling(np.array([1.0, 2.0]), 0.5).get_config()
    assert config["scale"]["config"]["value"] == [1.0, 2.0]
    clone = layers.Rescaling.from_config(config)
    np.testing.assert_array_equal(clone(np.ones((1, 2))).numpy(), [[1.5, 2.5]])


# -- Normalization ------------------------------------------------------------------------------

def test_normalization_harness_and_grads():
    run_layer_test(layers.Normalization, {"mean": [1.0, 2.0, 3.0], "variance": [1.0, 4.0, 9.0]},
                   (2, 3), (2, 3))
    run_layer_test(layers.Normalization, {}, (2, 3), (2, 3),
                   expected_num_non_trainable_weights=3,
                   expected_weight_names=["mean", "variance", "count"])
    layer = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], dtype="float64")
    check_layer_grads(layer, np.random.default_rng(0).standard_normal((3, 2)))
    layer = layers.Normalization(axis=None, invert=True, dtype="float64")
    layer.adapt(np.array([1.0, 2.0, 4.0]))
    check_layer_grads(layer, np.random.default_rng(1).standard_normal((3, 2)))


def test_normalization_keras_docstring_numbers():
    layer = layers.Normalization(axis=None)
    layer.adapt(np.array([1., 2., 3., 4., 5.], "float32"))
    np.testing.assert_allclose(layer(np.array([1., 2., 3.], "float32")).numpy(),
                               [-1.4142135, -0.70710677, 0.], rtol=1e-6)
    layer = layers.Normalization(axis=-1)
    layer.adapt(ADAPT_ROWS)
    np.testing.assert_allclose(layer(ADAPT_ROWS[:1]).numpy(), [[-1., -1., -1.]])
    layer = layers.Normalization(mean=3., variance=2.)
    np.testing.assert_allclose(layer(np.array([[1.], [2.], [3.]], "float32")).numpy(),
                               [[-1.4142135], [-0.70710677], [0.]], rtol=1e-6)
    layer = layers.Normalization(axis=-1, invert=True)
    layer.adapt(ADAPT_ROWS)
    np.testing.assert_allclose(layer(np.array([[1., 2., 3.]], "float32")).numpy(),
                               [[2., 10., 8.]])


def test_normalization_weights_and_config():
    layer = layers.Normalization()
    layer.adapt(ADAPT_ROWS)
    assert [(w.name, w.dtype, w.trainable) for w in layer.weights] == [
        ("mean", np.float32, False), ("variance", np.float32, False), ("count", np.int64, False)]
    np.testing.assert_array_equal(layer.adapt_mean.numpy(), [1., 8., 5.])
    np.testing.assert_array_equal(layer.adapt_variance.numpy(), [1., 1., 1.])  # population
    assert layer.get_config()["axis"] == (-1,) and layer.get_config()["mean"] is None
    config = layers.Normalization(axis=(1, 2), mean=[1, 2], variance=[3, 4]).get_config()
    assert (config["axis"], config["mean"], config["variance"]) == ((1, 2), [1, 2], [3, 4])
    # Given statistics broadcast right-aligned against the kept axes (Keras 3.15's numbers).
    y = layers.Normalization(mean=[1, 2], variance=[3, 4])(np.ones((2, 2), "float32"))
    np.testing.assert_allclose(y.numpy(), [[0., -0.5], [0., -0.5]])


def test_normalization_adapt_batches_merge_as_one_array():
    rng = np.random.default_rng(0)
    data = rng.normal(3.0, 2.0, (50, 4, 3)).astype("float32")
    whole = layers.Normalization(axis=-1)
    whole.adapt(data)
    batched = layers.Normalization(axis=-1)
    batched.adapt([data[i:i + 16] for i in range(0, 50, 16)])  # 16, 16, 16, 2
    expected = data.reshape(-1, 3).astype("float64")
    np.testing.assert_allclose(whole.adapt_mean.numpy(), expected.mean(0), rtol=1e-5)
    np.testing.assert_allclose(whole.adapt_variance.numpy(), expected.var(0), rtol=1e-5)
    np.testing.assert_allclose(batched.adapt_mean.numpy(), expected.mean(0), rtol=1e-5)
    np.testing.assert_allclose(batched.adapt_variance.numpy(), expected.var(0), rtol=1e-5)
    gen = layers.Normalization(axis=None)
    gen.adapt((data[i:i + 10], None) for i in range(0, 50, 10))  # (x, y) batches give x
    np.testing.assert_allclose(gen.adapt_mean.numpy(), expected.mean(), rtol=1e-5)


def test_normalization_errors():
    with pytest.raises(ValueError, match="both `mean` and `variance`"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match="same shape"):
        layers.Normalization(mean=[1.0, 2.0], variance=1.0)
    with pytest.raises(ValueError, match="empty iterable"):
        layers.Normalization().adapt([])
    layer = layers.Normalization()
    layer.adapt(ADAPT_ROWS)
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(np.ones((2, 4), "float32"))
    with pytest.raises(TypeError, match="Unsupported data type"):
        layer.adapt(3)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_normalization_and_rescaling_save_load(tmp_path, suffix):
    inputs = keras.Input(shape=(3,))
    norm = layers.Normalization()
    norm.adapt(ADAPT_ROWS * 3.0)
    outputs = layers.Dense(2)(layers.Rescaling([1.0, 0.5, 2.0], 1.0)(norm(inputs)))
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype("float32")
    loaded = _save_load(model, tmp_path, suffix)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    assert [w.name for w in loaded.layers[1].weights] == ["mean", "variance", "count"]
