"""Image preprocessing and augmentation layers: outputs against Keras 3.15's (numbers computed
with the real Keras 3.15, JAX backend, and hard-coded here), the layer harness, gradients to the
pixels, training-only activity, seeding, and save -> load through ``.keras`` and ``.h5``."""
import json

import numpy as np
import pytest

import kerasish as keras
from kerasish import layers
from tests.helpers import check_layer_grads, run_layer_test

X = np.arange(1 * 4 * 5 * 2, dtype="float32").reshape(1, 4, 5, 2)

# Keras 3.15 (JAX): each layer applied to X (training=True for the augmentation layers, with
# factors that pin the random draw to one value), channel 0 (channel 1 for "resize_nearest").
KERAS = {
    "resize_bilinear": (layers.Resizing, dict(height=3, width=4), [
        [1.91667, 4.41667, 6.91667, 9.41667], [15.25, 17.75, 20.25, 22.75],
        [28.58333, 31.08333, 33.58333, 36.08333]]),
    "resize_nearest": (layers.Resizing, dict(height=3, width=2, interpolation="nearest"),
                       [[3.0, 7.0], [23.0, 27.0], [33.0, 37.0]]),
    "resize_crop": (layers.Resizing, dict(height=2, width=2, crop_to_aspect_ratio=True),
                    [[6.0, 10.0], [26.0, 30.0]]),
    "resize_antialias": (layers.Resizing, dict(height=2, width=2, antialias=True),
                         [[9.14286, 13.14286], [24.85714, 28.85714]]),
    "center_crop": (layers.CenterCrop, dict(height=2, width=3),
                    [[12.0, 14.0, 16.0], [22.0, 24.0, 26.0]]),
    "center_crop_up": (layers.CenterCrop, dict(height=6, width=4), [
        [2.0, 2.5, 3.5, 4.0], [7.0, 7.5, 8.5, 9.0], [13.66667, 14.16667, 15.16667, 15.66667],
        [20.33333, 20.83333, 21.83333, 22.33333], [27.0, 27.5, 28.5, 29.0],
        [32.0, 32.5, 33.5, 34.0]]),
    "rot90": (layers.RandomRotation, dict(factor=(0.25, 0.25)), [
        [7.0, 12.0, 22.0, 32.0, 37.0], [5.0, 10.0, 20.0, 30.0, 35.0],
        [3.0, 8.0, 18.0, 28.0, 33.0], [1.0, 6.0, 16.0, 26.0, 31.0]]),
    "rot90_const": (layers.RandomRotation, dict(factor=(0.25, 0.25), fill_mode="constant",
                                                fill_value=-1.0), [
        [3.0, 12.0, 22.0, 32.0, 18.0], [2.0, 10.0, 20.0, 30.0, 17.0],
        [1.0, 8.0, 18.0, 28.0, 16.0], [0.0, 6.0, 16.0, 26.0, 15.0]]),
    "rot30_nearest_wrap": (layers.RandomRotation, dict(factor=(1 / 12, 1 / 12),
                                                       interpolation="nearest",
                                                       fill_mode="wrap"), [
        [32.0, 4.0, 6.0, 18.0, 18.0], [2.0, 12.0, 14.0, 26.0, 28.0],
        [10.0, 12.0, 24.0, 26.0, 36.0], [20.0, 20.0, 32.0, 34.0, 6.0]]),
    "zoom_out_nearest": (layers.RandomZoom, dict(height_factor=(0.5, 0.5), fill_mode="nearest"), [
        [0.0, 1.0, 4.0, 7.0, 8.0], [7.5, 8.5, 11.5, 14.5, 15.5],
        [22.5, 23.5, 26.5, 29.5, 30.5], [30.0, 31.0, 34.0, 37.0, 38.0]]),
    "zoom_in": (layers.RandomZoom, dict(height_factor=(-0.5, -0.5), width_factor=(-0.2, -0.2)), [
        [8.3, 9.9, 11.5, 13.1, 14.7], [13.3, 14.9, 16.5, 18.1, 19.7],
        [18.3, 19.9, 21.5, 23.1, 24.7], [23.3, 24.9, 26.5, 28.1, 29.7]]),
    "translate_const": (layers.RandomTranslation, dict(height_factor=(0.25, 0.25),
                                                       width_factor=(-0.2, -0.2),
                                                       fill_mode="constant"), [
        [0.0, 0.0, 0.0, 0.0, 0.0], [2.0, 4.0, 6.0, 8.0, 0.0], [12.0, 14.0, 16.0, 18.0, 0.0],
        [22.0, 24.0, 26.0, 28.0, 0.0]]),
    "translate_reflect": (layers.RandomTranslation, dict(height_factor=(0.5, 0.5),
                                                         width_factor=(0.4, 0.4)), [
        [12.0, 10.0, 10.0, 12.0, 14.0], [2.0, 0.0, 0.0, 2.0, 4.0], [2.0, 0.0, 0.0, 2.0, 4.0],
        [12.0, 10.0, 10.0, 12.0, 14.0]]),
    "brightness": (layers.RandomBrightness, dict(factor=(0.1, 0.1), value_range=(0, 20)), [
        [2.0, 4.0, 6.0, 8.0, 10.0], [12.0, 14.0, 16.0, 18.0, 20.0], [20.0] * 5, [20.0] * 5]),
}


@pytest.mark.parametrize("case", sorted(KERAS))
def test_outputs_equal_keras(case):
    cls, kwargs, expected = KERAS[case]
    y = cls(**kwargs)(X, training=True).numpy()
    channel = 1 if case == "resize_nearest" else 0
    np.testing.assert_allclose(y[0, ..., channel], np.array(expected), atol=2e-4)


def test_resizing_keeps_integer_images_integer_and_pads_to_aspect_ratio():
    images = (np.arange(16).reshape(1, 4, 4, 1) * 15).astype("uint8")
    y = layers.Resizing(3, 3)(images)
    assert y.dtype == np.uint8 and y.shape == (1, 3, 3, 1)
    # Keras 3.15: [[13, 32, 53], [92, 112, 132], [173, 192, 212]]; the x.5 ties may round
    # either way in float32.
    np.testing.assert_allclose(y.numpy()[0, ..., 0], [[13, 32, 53], [92, 112, 132],
                                                      [173, 192, 212]], atol=1)
    padded = layers.Resizing(4, 4, pad_to_aspect_ratio=True)(np.ones((1, 2, 4, 1), "float32"))
    np.testing.assert_array_equal(padded.numpy()[0, ..., 0], [[0] * 4, [1] * 4, [1] * 4, [0] * 4])


def test_single_images_and_rank_errors():
    image = X[0]
    assert layers.Resizing(2, 3)(image).shape == (2, 3, 2)
    assert layers.CenterCrop(2, 2)(image).shape == (2, 2, 2)
    y = layers.RandomRotation((0.25, 0.25))(image)
    np.testing.assert_allclose(y.numpy()[..., 0], KERAS["rot90"][2], atol=2e-4)
    with pytest.raises(ValueError, match="rank 3"):
        layers.RandomFlip()(np.ones((2, 3)))


@pytest.mark.parametrize("cls,kwargs", [
    (layers.RandomFlip, {}), (layers.RandomRotation, {"factor": 0.3}),
    (layers.RandomZoom, {"height_factor": 0.3}),
    (layers.RandomTranslation, {"height_factor": 0.3, "width_factor": 0.3}),
    (layers.RandomContrast, {"factor": 0.5}), (layers.RandomBrightness, {"factor": 0.5}),
])
def test_augmentation_is_identity_at_inference_and_seeded(cls, kwargs):
    x = np.random.default_rng(0).uniform(0, 255, (6, 8, 8, 3)).astype("float32")
    np.testing.assert_array_equal(cls(**kwargs, seed=1)(x, training=False).numpy(), x)
    a = cls(**kwargs, seed=7)(x, training=True).numpy()
    b = cls(**kwargs, seed=7)(x, training=True).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, x)
    # A direct call without `training` augments, as Keras's layers default to training=True.
    assert not np.allclose(cls(**kwargs, seed=7)(x).numpy(), x)
    # In a model: fit augments, predict does not.
    model = keras.Sequential([keras.Input((8, 8, 3)), cls(**kwargs, seed=3)])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)


def test_random_flip_flips_whole_images_and_contrast_keeps_the_mean():
    x = np.random.default_rng(1).uniform(0, 1, (16, 3, 4, 2)).astype("float32")
    y = layers.RandomFlip("horizontal", seed=0)(x).numpy()
    flipped = [np.array_equal(y[i], x[i, :, ::-1]) for i in range(16)]
    kept = [np.array_equal(y[i], x[i]) for i in range(16)]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)
    both = layers.RandomFlip(seed=0)(x).numpy()
    assert all(np.array_equal(both[i], x[i, ::-1, ::-1]) or np.array_equal(both[i], x[i])
               for i in range(16))
    c = layers.RandomContrast((0.2, 0.4), value_range=(-10, 10), seed=0)(x).numpy()
    mean = x.mean(axis=(1, 2), keepdims=True)
    scale = (c - mean) / (x - mean)
    # Per image one factor in [1 - 0.2, 1 + 0.4] (Keras's rule), the mean unchanged.
    np.testing.assert_allclose(scale, scale[:, :1, :1, :1] * np.ones_like(scale), rtol=1e-3)
    assert np.all((scale >= 0.8 - 1e-4) & (scale <= 1.4 + 1e-4))


def test_argument_errors_are_keras():
    with pytest.raises(ValueError, match="factor"):
        layers.RandomRotation(1.5)
    with pytest.raises(ValueError, match=r"\(-1.0, 1.0\]"):
        layers.RandomZoom(-1.0)
    with pytest.raises(NotImplementedError, match="fill_mode"):
        layers.RandomTranslation(0.1, 0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="value_range"):
        layers.RandomBrightness(0.1, value_range=5)
    with pytest.raises(ValueError, match="mode"):
        layers.RandomFlip("diagonal")
    assert layers.RandomContrast(0.2).factor == (0, 0.2)
    assert layers.RandomBrightness(0.2).factor == (-0.2, 0.2)


@pytest.mark.parametrize("cls,kwargs,out_shape", [
    (layers.Resizing, {"height": 3, "width": 5}, (2, 3, 5, 3)),
    (layers.CenterCrop, {"height": 4, "width": 4}, (2, 4, 4, 3)),
    (layers.RandomFlip, {"seed": 1}, None),
    (layers.RandomRotation, {"factor": 0.2, "seed": 1}, None),
    (layers.RandomZoom, {"height_factor": 0.2, "width_factor": (-0.1, 0.3), "seed": 1}, None),
    (layers.RandomTranslation, {"height_factor": 0.2, "width_factor": 0.1, "seed": 1}, None),
    (layers.RandomContrast, {"factor": 0.3, "seed": 1}, None),
    (layers.RandomBrightness, {"factor": 0.3, "value_range": (0, 1), "seed": 1}, None),
])
def test_layer_harness(cls, kwargs, out_shape):
    run_layer_test(cls, kwargs, (2, 6, 7, 3), out_shape or (2, 6, 7, 3),
                   call_kwargs={"training": False})


@pytest.mark.parametrize("cls,kwargs", [
    (layers.Resizing, {"height": 3, "width": 5}), (layers.CenterCrop, {"height": 3, "width": 3}),
    (layers.RandomFlip, {}), (layers.RandomRotation, {"factor": 0.2}),
    (layers.RandomZoom, {"height_factor": 0.3}),
    (layers.RandomTranslation, {"height_factor": 0.2, "width_factor": 0.2}),
    (layers.RandomContrast, {"factor": 0.5, "value_range": (-100, 100)}),
    (layers.RandomBrightness, {"factor": 0.3, "value_range": (-100, 100)}),
])
def test_gradients_reach_the_pixels(cls, kwargs):
    layer = cls(**kwargs, dtype="float64")
    # NOTE: one fixed draw, so the finite differences see the same transform on every call.
    layer._uniform = lambda low, high, size: np.full(size, low + 0.3 * (high - low), "float32")
    x = np.random.default_rng(0).standard_normal((2, 5, 6, 2))
    check_layer_grads(layer, x, call_kwargs={"training": True})


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_save_load(tmp_path, suffix):
    model = keras.Sequential([
        keras.Input((6, 7, 3)), layers.Resizing(5, 5, interpolation="nearest"),
        layers.CenterCrop(4, 4), layers.RandomFlip("horizontal", seed=1),
        layers.RandomRotation(0.1, fill_mode="constant", seed=2), layers.RandomZoom(0.1),
        layers.RandomTranslation(0.1, (-0.2, 0.1)), layers.RandomContrast(0.2),
        layers.RandomBrightness(0.1), layers.Flatten(), layers.Dense(2)])
    x = np.random.default_rng(0).uniform(0, 255, (3, 6, 7, 3)).astype("float32")
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((3, 2), "float32"), epochs=1, verbose=0)
    path = str(tmp_path / f"m{suffix}")
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-4)
    for a, b in zip(model.layers, loaded.layers):
        assert json.dumps(a.get_config()) == json.dumps(b.get_config())
