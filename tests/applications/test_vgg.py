"""VGG16 and VGG19 against Keras 3.15's facts (data/vgg16.json, data/vgg19.json, written once
by a script outside the repository from Keras 3.15's models built with weights=None), a
Keras-layout weights file written here with h5py, and a NumPy reference of block 1."""
import os

import numpy as np
import pytest

import kerasish
from applications import VGG16, VGG19, vgg16, vgg19
from tests.applications import zoo_helpers as zh

MODELS = {"vgg16": VGG16, "vgg19": VGG19}


@pytest.mark.parametrize("key", MODELS)
def test_top_model_matches_keras(key):
    # NOTE: the slowest build of the zoo's tests: fc1 alone holds 102.8 M weights to draw.
    kerasish.utils.clear_session()
    model = MODELS[key](weights=None)
    zh.assert_matches_keras(model, zh.keras_facts(key))
    assert model.input_shape == (None, 224, 224, 3)
    if key == "vgg16":
        zh.assert_summary_matches_keras(model, "vgg16_summary.txt")


@pytest.mark.parametrize("key", MODELS)
def test_notop_matches_keras(key):
    facts = zh.keras_facts(key)
    shape = tuple(facts["notop"]["input_shape"])
    kerasish.utils.clear_session()
    model = MODELS[key](weights=None, include_top=False, pooling="avg", input_shape=shape)
    zh.assert_notop_matches_keras(model, facts)
    assert model.output_shape == (None, 512)  # Keras's feature width
    bare = MODELS[key](weights=None, include_top=False, input_shape=shape)
    assert list(bare.output_shape) == facts["notop"]["bare_output_shape"]
    pooled = MODELS[key](weights=None, include_top=False, pooling="max", name="features")
    assert pooled.name == "features" and pooled.output_shape == (None, 512)
    assert pooled.layers[-1].name.startswith("global_max_pooling2d")


@pytest.mark.parametrize("kwargs, message", [
    ({"weights": "nope.h5"}, "The `weights` argument should be either `None` (random "
     "initialization), 'imagenet' (pre-training on ImageNet), or the path to the weights file "
     "to be loaded.  Received: weights=nope.h5"),
    ({"classes": 2}, "If using `weights='imagenet'` with `include_top=True`, `classes` should "
     "be 1000.  Received classes=2"),
    ({"input_shape": (64, 64, 3)}, "When setting `include_top=True` and loading `imagenet` "
     "weights, `input_shape` should be (224, 224, 3).  Received: input_shape=(64, 64, 3)"),
    ({"include_top": False, "input_shape": (32, 32, 4)},
     "The input must have 3 channels; Received `input_shape=(32, 32, 4)`"),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        VGG19(**kwargs)
    assert str(info.value) == message


def test_missing_imagenet_file_names_the_path_and_url(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        VGG19(include_top=False, input_shape=(32, 32, 3))
    fname = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert os.path.join(str(tmp_path), "models", fname) in str(info.value)
    assert ("https://storage.googleapis.com/tensorflow/keras-applications/vgg19/" + fname
            in str(info.value))


def test_imagenet_notop_file_loads_and_predicts_as_numpy(tmp_path, monkeypatch):
    layout = VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    fname = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"
    written = zh.write_keras2_weights_file(models_dir / fname, layout.layers, seed=10)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    model = VGG16(include_top=False, pooling="avg", input_shape=(32, 32, 3))
    zh.assert_loaded(model, written, ["block1_conv1", "block3_conv3", "block5_conv3"])
    images = np.random.default_rng(11).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    x = vgg16.preprocess_input(images.copy())
    block = kerasish.Model(model.input, model.get_layer("block2_conv1").output)
    y = x.astype(np.float64)
    y = zh.relu(zh.conv2d(y, *zh.weights_of(model, "block1_conv1"), padding="same"))
    y = zh.relu(zh.conv2d(y, *zh.weights_of(model, "block1_conv2"), padding="same"))
    y = zh.relu(zh.conv2d(zh.max_pool(y, 2, 2), *zh.weights_of(model, "block2_conv1"),
                          padding="same"))
    np.testing.assert_allclose(block.predict(x, verbose=0), y, rtol=1e-4, atol=1e-3)
    features = model.predict(x, verbose=0)
    assert features.shape == (2, 512) and np.isfinite(features).all()


def test_preprocess_input_is_caffe_and_public_names():
    # Keras's "caffe" mode: BGR order, minus the mean pixel (103.939, 116.779, 123.68).
    rgb = np.array([[[10.0, 20.0, 30.0]]], dtype="float32")
    np.testing.assert_allclose(vgg19.preprocess_input(rgb.copy()),
                               [[[30 - 103.939, 20 - 116.779, 10 - 123.68]]], rtol=1e-6)
    np.testing.assert_allclose(vgg16.preprocess_input(rgb.copy()),
                               vgg19.preprocess_input(rgb.copy()))
    assert vgg16.decode_predictions(np.eye(1000)[[999]], top=1)[0][0][:2] == (
        "n15075141", "toilet_tissue")
    assert kerasish.applications.VGG16 is VGG16 and kerasish.applications.vgg19.VGG19 is VGG19
