"""NASNetMobile and NASNetLarge against Keras 3.15's facts (data/nasnet_*.json, written once by
a script outside the repository from Keras 3.15's models built with weights=None), Keras-layout
weight files written here with h5py, and a NumPy reference of the stem and of the first
reduction cell's first sum."""
import os

import numpy as np
import pytest

import applications
import kerasish
from applications import NASNetLarge, NASNetMobile, nasnet
from tests.applications import zoo_helpers as zh

MODELS = {"nasnet_mobile": NASNetMobile, "nasnet_large": NASNetLarge}
ORIGIN = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/"
EPS = 1e-3
# Keras's documented sizes (keras.io/api/applications) and feature widths.
PARAMS = {"nasnet_mobile": 5_326_716, "nasnet_large": 88_949_818}
WIDTH = {"nasnet_mobile": 1056, "nasnet_large": 4032}
SIZE = {"nasnet_mobile": 224, "nasnet_large": 331}


@pytest.mark.parametrize("key", MODELS)
def test_top_model_matches_keras(key):
    kerasish.utils.clear_session()
    model = MODELS[key](weights=None)
    zh.assert_matches_keras(model, zh.keras_facts(key))
    assert model.count_params() == PARAMS[key]
    assert model.input_shape == (None, SIZE[key], SIZE[key], 3)
    assert model.output_shape == (None, 1000)


@pytest.mark.parametrize("key", MODELS)
def test_notop_matches_keras(key):
    facts = zh.keras_facts(key)
    shape = tuple(facts["notop"]["input_shape"])
    kerasish.utils.clear_session()
    model = MODELS[key](weights=None, include_top=False, pooling="avg", input_shape=shape)
    zh.assert_notop_matches_keras(model, facts)
    assert model.output_shape == (None, WIDTH[key])


@pytest.mark.parametrize("key", MODELS)
def test_notop_without_input_shape_matches_keras(key):
    """Keras 3 builds the static graph (tf_keras built a smaller one for unknown sizes):
    NASNetMobile defaults to 224 x 224 without the top."""
    facts = zh.keras_facts(key)["notop_none"]
    kerasish.utils.clear_session()
    model = MODELS[key](weights=None, include_top=False)
    assert list(model.input_shape) == [None] + facts["input_shape"][1:]
    assert len(model.layers) == facts["num_layers"]
    assert sum(1 for layer in model.layers if layer.weights) == facts["weighted"]
    assert zh.count(model.weights) == facts["total"]
    assert list(model.output_shape) == facts["output_shape"]


def test_names_and_classifier_arguments():
    model = NASNetMobile(weights=None, classes=7, classifier_activation=None, name="mine")
    assert model.name == "mine"
    assert model.output_shape == (None, 7)
    assert model.get_layer("predictions").get_config()["activation"] == "linear"
    pooled = NASNetMobile(weights=None, include_top=False, pooling="max",
                          input_shape=(32, 32, 3))
    assert pooled.layers[-1].name.startswith("global_max_pooling2d")
    assert pooled.output_shape == (None, 1056)
    tiny = nasnet.NASNet((32, 32, 3), penultimate_filters=96, num_blocks=1, weights=None,
                         include_top=False)
    assert tiny.name == "NASNet" and tiny.output_shape == (None, 1, 1, 96)


def test_input_tensor_keeps_its_source_inputs():
    images = kerasish.Input((32, 32, 3))
    scaled = kerasish.layers.Activation("linear")(images)
    model = NASNetMobile(weights=None, include_top=False, input_tensor=scaled)
    assert model.inputs[0] is images
    assert model.output_shape == (None, 1, 1, 1056)


@pytest.mark.parametrize("kwargs, message", [
    ({"weights": "bogus"}, "The `weights` argument should be either `None` (random "
     "initialization), `imagenet` (pre-training on ImageNet), or the path to the weights file "
     "to be loaded. Received: weights=bogus"),
    ({"classes": 10}, 'If using `weights` as `"imagenet"` with `include_top` as true, `classes` '
     "should be 1000. Received: classes=10"),
    ({"include_top": False, "input_shape": (None, None, 3)}, "When specifying the input shape "
     "of a NASNet and loading `ImageNet` weights, the input_shape argument must be static (no "
     "None entries). Got: `input_shape=(None, None, 3)`."),
    ({"input_shape": (200, 200, 3)}, "When setting `include_top=True` and loading `imagenet` "
     "weights, `input_shape` should be (224, 224, 3).  Received: input_shape=(200, 200, 3)"),
    ({"weights": None, "include_top": False, "input_shape": (31, 40, 3)},
     "Input size must be at least 32x32; Received: input_shape=(31, 40, 3)"),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        NASNetMobile(**kwargs)
    assert str(info.value) == message


def test_nasnet_checks(monkeypatch):
    with pytest.raises(ValueError, match=r"must be a multiple of 24 \* \(`filter_multiplier` "
                                         r"\*\* 2\). Current value: 100"):
        nasnet.NASNet((32, 32, 3), penultimate_filters=100, weights=None, include_top=False)
    with pytest.raises(ValueError, match="ImageNet weights can only be loaded with NASNetLarge "
                                         "or NASNetMobile"):
        nasnet.NASNet((64, 64, 3), default_size=64, include_top=False)
    # kerasish runs channels_last only; Keras's own check comes first all the same.
    monkeypatch.setattr(kerasish.config, "image_data_format", lambda: "channels_first")
    with pytest.raises(ValueError, match="NASNet does not support the `channels_first`"):
        NASNetMobile(weights=None)


@pytest.mark.parametrize("include_top, fname, url", [
    (True, "nasnet_mobile.h5", "NASNet-mobile.h5"),
    (False, "nasnet_mobile_no_top.h5", "NASNet-mobile-no-top.h5")])
def test_missing_imagenet_file_names_the_path_and_url(tmp_path, monkeypatch, include_top, fname,
                                                      url):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        NASNetMobile(include_top=include_top)
    text = str(info.value)
    assert os.path.join(str(tmp_path), "models", fname) in text
    assert ORIGIN + url in text  # the URL names differ from the cache names


def test_large_files_are_keras_names():
    files = applications.weights.IMAGENET_FILES["nasnet_large"]
    assert files[True][:2] == ("nasnet_large.h5", ORIGIN + "NASNet-large.h5")
    assert files[False][:2] == ("nasnet_large_no_top.h5", ORIGIN + "NASNet-large-no-top.h5")


# -- Keras's files, by topology; the forward pass against NumPy ----------------------------------
def correct_pad(size, kernel):
    """TensorFlow's "same" for a stride-2 "valid" convolution (Keras's correct_pad)."""
    adjust = 1 - size % 2
    return (kernel // 2 - adjust, kernel // 2)


def separable_block(model, block_id, x, kernel, stride):
    """ReLU -> [pad] -> SeparableConv2D -> BN -> ReLU -> SeparableConv2D -> BN."""
    def sep(h, name, stride, padding):
        depthwise, pointwise = zh.weights_of(model, name)
        h = zh.depthwise_conv2d(h, depthwise, stride=stride, padding=padding)
        return zh.conv2d(h, pointwise)

    y = zh.relu(x)
    if stride == 2:
        y = zh.pad(y, correct_pad(y.shape[1], kernel), correct_pad(y.shape[2], kernel))
    y = sep(y, f"separable_conv_1_{block_id}", stride, "valid" if stride == 2 else "same")
    y = zh.relu(zh.bn_of(model, f"separable_conv_1_bn_{block_id}", EPS)(y))
    y = sep(y, f"separable_conv_2_{block_id}", 1, "same")
    return zh.bn_of(model, f"separable_conv_2_bn_{block_id}", EPS)(y)


def reference_first_reduction_sum(model, x):
    """stem_conv1 (3x3/2 valid, no bias) + stem_bn1; then cell stem_1's first sum: a 5x5/2
    separable block of h (ReLU -> 1x1 conv -> BN of the stem) plus a 7x7/2 one of the stem."""
    (kernel,) = zh.weights_of(model, "stem_conv1")
    stem = zh.bn_of(model, "stem_bn1", EPS)(zh.conv2d(x, kernel, stride=2))
    (kernel,) = zh.weights_of(model, "reduction_conv_1_stem_1")
    h = zh.bn_of(model, "reduction_bn_1_stem_1", EPS)(zh.conv2d(zh.relu(stem), kernel))
    left = separable_block(model, "reduction_left1_stem_1", h, 5, 2)
    right = separable_block(model, "reduction_right1_stem_1", stem, 7, 2)
    return stem, left + right


def test_imagenet_notop_file_loads_and_predicts_as_numpy(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = NASNetMobile(weights=None, include_top=False, input_shape=(32, 32, 3))
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    written = zh.write_keras2_weights_file(models_dir / "nasnet_mobile_no_top.h5", layout.layers,
                                           seed=5)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    kerasish.utils.clear_session()
    model = NASNetMobile(include_top=False, pooling="avg", input_shape=(32, 32, 3))
    zh.assert_loaded(model, written, ["stem_conv1", "stem_bn1", "adjust_conv_1_stem_2",
                                      "separable_conv_2_normal_left5_11",
                                      "separable_conv_2_bn_normal_left5_12"])
    images = np.random.default_rng(6).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    x = nasnet.preprocess_input(images.copy())
    probe = kerasish.Model(model.input, [model.get_layer("stem_bn1").output,
                                         model.get_layer("reduction_add_1_stem_1").output])
    stem, cell_sum = probe.predict(x, verbose=0)
    ref_stem, ref_sum = reference_first_reduction_sum(model, x.astype(np.float64))
    np.testing.assert_allclose(stem, ref_stem, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(cell_sum, ref_sum, rtol=1e-4, atol=1e-3)
    features = model.predict(x, verbose=0)
    assert features.shape == (2, 1056) and np.isfinite(features).all()


def test_imagenet_top_file_loads_the_classifier_too(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = NASNetMobile(weights=None)
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    written = zh.write_keras2_weights_file(models_dir / "nasnet_mobile.h5", layout.layers,
                                           seed=7)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    model = NASNetMobile()
    zh.assert_loaded(model, written, ["stem_conv1", "adjust_bn_reduce_8", "predictions"])
    by_path = NASNetMobile(weights=str(models_dir / "nasnet_mobile.h5"),
                           classifier_activation=None)
    zh.assert_loaded(by_path, written, ["predictions"])


# -- preprocessing and public names ---------------------------------------------------------------
def test_preprocess_input_is_tf_and_decode_predictions():
    pixels = np.array([[[[0.0, 51.0, 255.0]]]], dtype="float32")  # x / 127.5 - 1
    np.testing.assert_allclose(nasnet.preprocess_input(pixels.copy()), [[[[-1.0, -0.6, 1.0]]]],
                               rtol=1e-6)
    tensor = nasnet.preprocess_input(kerasish.ops.convert_to_tensor(pixels))
    np.testing.assert_allclose(kerasish.ops.convert_to_numpy(tensor), [[[[-1.0, -0.6, 1.0]]]],
                               rtol=1e-6)
    preds = np.zeros((1, 1000), dtype="float32")
    preds[0, [2, 0]] = [0.6, 0.4]
    assert [r[:2] for r in nasnet.decode_predictions(preds, top=2)[0]] == [
        ("n01484850", "great_white_shark"), ("n01440764", "tench")]


def test_public_names():
    assert kerasish.applications.NASNetMobile is NASNetMobile
    assert kerasish.applications.nasnet.NASNetLarge is NASNetLarge
    module = applications.nasnet
    assert callable(module.preprocess_input) and callable(module.decode_predictions)
