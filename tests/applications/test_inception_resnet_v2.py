"""InceptionResNetV2 against Keras 3.15's facts (data/inception_resnet_v2.json, written once by a
script outside the repository from Keras 3.15's model built with weights=None), Keras-layout
weight files written here with h5py, and a NumPy reference of the stem and of block35_1."""
import os

import numpy as np
import pytest

import applications
import kerasish
from applications import InceptionResNetV2, inception_resnet_v2
from applications.inception_resnet_v2 import CustomScaleLayer
from tests.applications import zoo_helpers as zh

TOP_FILE = "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5"
NOTOP_FILE = "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5"
ORIGIN = "https://storage.googleapis.com/tensorflow/keras-applications/inception_resnet_v2/"
EPS = 1e-3  # BatchNormalization's default


@pytest.fixture(scope="module")
def facts():
    return zh.keras_facts("inception_resnet_v2")


@pytest.fixture(scope="module")
def top_model():
    kerasish.utils.clear_session()  # Keras's automatic names are those of a fresh session
    return InceptionResNetV2(weights=None)


def test_top_model_matches_keras(top_model, facts):
    zh.assert_matches_keras(top_model, facts)
    # Keras's documented size (keras.io/api/applications): 55,873,736 parameters.
    assert top_model.count_params() == 55_873_736
    assert top_model.input_shape == (None, 299, 299, 3)
    assert top_model.output_shape == (None, 1000)


def test_notop_matches_keras(facts):
    shape = tuple(facts["notop"]["input_shape"])
    kerasish.utils.clear_session()
    model = InceptionResNetV2(weights=None, include_top=False, pooling="avg", input_shape=shape)
    zh.assert_notop_matches_keras(model, facts)
    assert model.output_shape == (None, 1536)  # Keras's feature width


def test_custom_scale_layer_config_and_sum():
    layer = CustomScaleLayer(0.17, name="s")
    assert layer.get_config()["scale"] == 0.17
    clone = CustomScaleLayer.from_config(layer.get_config())
    assert clone.scale == 0.17 and clone.name == "s"
    a = np.array([[1.0, 2.0]], dtype="float32")
    b = np.array([[10.0, -20.0]], dtype="float32")
    np.testing.assert_allclose(np.asarray(layer([a, b])), [[2.7, -1.4]], rtol=1e-6)
    assert kerasish.saving.get_registered_object(
        kerasish.saving.get_registered_name(CustomScaleLayer)) is CustomScaleLayer


def test_custom_scale_layer_saves_and_loads(tmp_path):
    a, b = kerasish.Input((3,)), kerasish.Input((3,))
    model = kerasish.Model([a, b], CustomScaleLayer(0.2)([a, b]))
    model.save(tmp_path / "m.keras")
    loaded = kerasish.saving.load_model(tmp_path / "m.keras")
    assert type(loaded.layers[-1]) is CustomScaleLayer and loaded.layers[-1].scale == 0.2
    ones = np.ones((1, 3), dtype="float32")
    np.testing.assert_allclose(loaded.predict([ones, ones], verbose=0), [[1.2, 1.2, 1.2]])


def test_names_and_classifier_arguments():
    model = InceptionResNetV2(weights=None, include_top=False, pooling="max",
                              input_shape=(75, 75, 3), name="mine")
    assert model.name == "mine"
    assert model.layers[-1].name.startswith("global_max_pooling2d")
    assert model.output_shape == (None, 1536)
    bare = InceptionResNetV2(weights=None, include_top=False)
    assert bare.input_shape == (None, None, None, 3)  # any size without the top


def test_input_tensor_keeps_its_source_inputs():
    images = kerasish.Input((75, 75, 3))
    scaled = kerasish.layers.Activation("linear")(images)
    model = InceptionResNetV2(weights=None, include_top=False, input_tensor=scaled)
    assert model.inputs[0] is images
    assert model.output_shape == (None, 1, 1, 1536)


@pytest.mark.parametrize("kwargs, message", [
    ({"weights": "bogus"}, "The `weights` argument should be either `None` (random "
     "initialization), `imagenet` (pre-training on ImageNet), or the path to the weights file "
     "to be loaded. Received: weights=bogus"),
    ({"classes": 10}, 'If using `weights="imagenet"` with `include_top=True`, `classes` should '
     "be 1000. Received classes=10"),
    ({"input_shape": (150, 150, 3)}, "When setting `include_top=True` and loading `imagenet` "
     "weights, `input_shape` should be (299, 299, 3).  Received: input_shape=(150, 150, 3)"),
    ({"weights": None, "include_top": False, "input_shape": (74, 80, 3)},
     "Input size must be at least 75x75; Received: input_shape=(74, 80, 3)"),
    ({"weights": None, "input_shape": (None, None, 3)},
     "If `include_top` is True, you should specify a static `input_shape`. Received: "
     "input_shape=(None, None, 3)"),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        InceptionResNetV2(**kwargs)
    assert str(info.value) == message


def test_unknown_block_type():
    with pytest.raises(ValueError, match='Expects "block35", "block17" or "block8", but got: '
                                         "block99"):
        inception_resnet_v2.inception_resnet_block(kerasish.Input((8, 8, 32)), 0.1, "block99", 1)


def test_missing_imagenet_file_names_the_path_and_url(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        InceptionResNetV2(include_top=False, input_shape=(75, 75, 3))
    text = str(info.value)
    assert os.path.join(str(tmp_path), "models", NOTOP_FILE) in text
    assert ORIGIN + NOTOP_FILE in text


# -- Keras's files, by topology; the forward pass against NumPy ----------------------------------
def conv_bn_relu(model, index, x, stride=1, padding="same"):
    """Keras's unnamed conv2d_bn: conv2d_<index> (no bias) -> batch_normalization_<index>
    (scale=False) -> ReLU."""
    suffix = f"_{index}" if index else ""
    (kernel,) = zh.weights_of(model, f"conv2d{suffix}")
    y = zh.conv2d(x, kernel, stride=stride, padding=padding)
    return zh.relu(zh.bn_of(model, f"batch_normalization{suffix}", EPS)(y))


def reference_stem(model, x):
    """Three 3x3 conv-bn-relu (the first strided), a 3x3/2 max pooling, a 1x1 and a 3x3
    conv-bn-relu, a 3x3/2 max pooling: 75 x 75 -> 7 x 7 x 192."""
    y = conv_bn_relu(model, 0, x, stride=2, padding="valid")
    y = conv_bn_relu(model, 1, y, padding="valid")
    y = conv_bn_relu(model, 2, y)
    y = zh.max_pool(y, 3, 2)
    y = conv_bn_relu(model, 3, y, padding="valid")
    y = conv_bn_relu(model, 4, y, padding="valid")
    return zh.max_pool(y, 3, 2)


def reference_block35_1(model, x):
    """block35_1 on mixed_5b's output: three branches (conv2d_12; 13-14; 15-17), concatenated,
    a biased 1x1 convolution back to 320 channels, x + 0.17 * that, ReLU."""
    b0 = conv_bn_relu(model, 12, x)
    b1 = conv_bn_relu(model, 14, conv_bn_relu(model, 13, x))
    b2 = conv_bn_relu(model, 17, conv_bn_relu(model, 16, conv_bn_relu(model, 15, x)))
    kernel, bias = zh.weights_of(model, "block35_1_conv")
    up = zh.conv2d(np.concatenate([b0, b1, b2], axis=-1), kernel, bias)
    return zh.relu(x + 0.17 * up)


def test_imagenet_notop_file_loads_and_predicts_as_numpy(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = InceptionResNetV2(weights=None, include_top=False, input_shape=(75, 75, 3))
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    written = zh.write_keras2_weights_file(models_dir / NOTOP_FILE, layout.layers, seed=5)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    kerasish.utils.clear_session()
    model = InceptionResNetV2(include_top=False, pooling="avg", input_shape=(75, 75, 3))
    zh.assert_loaded(model, written, ["conv2d", "batch_normalization", "block35_1_conv",
                                      "block17_20_conv", "conv_7b", "conv_7b_bn"])
    images = np.random.default_rng(6).uniform(0, 255, (2, 75, 75, 3)).astype("float32")
    x = inception_resnet_v2.preprocess_input(images.copy())
    probe = kerasish.Model(model.input, [model.get_layer(name).output for name in
                                         ("max_pooling2d_1", "mixed_5b", "block35_1_ac")])
    stem, mixed, block = probe.predict(x, verbose=0)
    np.testing.assert_allclose(stem, reference_stem(model, x.astype(np.float64)),
                               rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(block, reference_block35_1(model, mixed.astype(np.float64)),
                               rtol=1e-4, atol=1e-3)
    features = model.predict(x, verbose=0)
    assert features.shape == (2, 1536) and np.isfinite(features).all()


def test_imagenet_top_file_loads_the_classifier_too(tmp_path, monkeypatch, top_model):
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    written = zh.write_keras2_weights_file(models_dir / TOP_FILE, top_model.layers, seed=7)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    kerasish.utils.clear_session()
    model = InceptionResNetV2(classifier_activation=None)
    zh.assert_loaded(model, written, ["conv2d", "block8_10_conv", "conv_7b_bn", "predictions"])


# -- preprocessing and public names ---------------------------------------------------------------
def test_preprocess_input_is_tf_and_decode_predictions():
    pixels = np.array([[[[0.0, 127.5, 255.0]]]], dtype="float32")  # x / 127.5 - 1
    np.testing.assert_allclose(inception_resnet_v2.preprocess_input(pixels.copy()),
                               [[[[-1.0, 0.0, 1.0]]]])
    tensor = inception_resnet_v2.preprocess_input(kerasish.ops.convert_to_tensor(pixels))
    np.testing.assert_allclose(kerasish.ops.convert_to_numpy(tensor), [[[[-1.0, 0.0, 1.0]]]])
    preds = np.zeros((1, 1000), dtype="float32")
    preds[0, [207, 1]] = [0.75, 0.25]
    assert [r[:2] for r in inception_resnet_v2.decode_predictions(preds, top=2)[0]] == [
        ("n02099601", "golden_retriever"), ("n01443537", "goldfish")]


def test_public_names():
    assert kerasish.applications.InceptionResNetV2 is InceptionResNetV2
    assert kerasish.applications.inception_resnet_v2.InceptionResNetV2 is InceptionResNetV2
    module = applications.inception_resnet_v2
    assert callable(module.preprocess_input) and callable(module.decode_predictions)
