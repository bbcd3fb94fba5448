"""EfficientNetV2 B0-B3, S, M, L against Keras 3.15's facts (data/efficientnetv2-*.json, written
once by a script outside the repository from Keras 3.15's models built with weights=None), a
Keras-layout weights file written here with h5py, and a NumPy reference of the preprocessing,
the stem, a fused MBConv block and an MBConv block with squeeze and excitation."""
import os

import numpy as np
import pytest

import applications
import kerasish
from applications import efficientnet_v2
from tests.applications import zoo_checks as zc
from tests.applications import zoo_helpers as zh
from tests.applications.zoo_checks import zero_weights  # noqa: F401 (a fixture)

MODELS = {f"efficientnetv2-{v.lower()}": getattr(applications, f"EfficientNetV2{v}")
          for v in ("B0", "B1", "B2", "B3", "S", "M", "L")}
ORIGIN = "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/"
BN_EPS = 1e-3  # BatchNormalization's default epsilon
# Keras 3.15's feature widths (include_top=False, pooling="avg").
WIDTHS = {"efficientnetv2-b0": 1280, "efficientnetv2-b1": 1280, "efficientnetv2-b2": 1408,
          "efficientnetv2-b3": 1536, "efficientnetv2-s": 1280, "efficientnetv2-m": 1280,
          "efficientnetv2-l": 1280}


@pytest.mark.usefixtures("zero_weights")
@pytest.mark.parametrize("key", MODELS)
def test_top_model_matches_keras(key):
    facts = zh.keras_facts(key)
    kerasish.utils.clear_session()
    model = MODELS[key](weights=None)
    zc.assert_matches_keras(model, facts)
    assert list(model.input_shape) == facts["input_shape"]
    assert model.output_shape == (None, 1000)


@pytest.mark.usefixtures("zero_weights")
@pytest.mark.parametrize("key", MODELS)
def test_notop_matches_keras(key):
    facts = zh.keras_facts(key)
    kerasish.utils.clear_session()
    model = MODELS[key](weights=None, include_top=False, pooling="avg", input_shape=(32, 32, 3))
    zc.assert_notop_matches_keras(model, facts)
    assert model.output_shape == (None, WIDTHS[key])
    assert list(model.layers[-2].output.shape) == facts["notop"]["bare_output_shape"]


@pytest.mark.usefixtures("zero_weights")
def test_preprocessing_layers():
    kerasish.utils.clear_session()
    b0 = applications.EfficientNetV2B0(weights=None, include_top=False)
    rescaling, normalization = b0.layers[1:3]
    assert rescaling.get_config()["scale"] == pytest.approx(1 / 255)
    assert normalization.weights == []  # constants, not weights
    np.testing.assert_allclose(normalization.get_config()["mean"], [0.485, 0.456, 0.406])
    np.testing.assert_allclose(normalization.get_config()["variance"],
                               [0.229**2, 0.224**2, 0.225**2])
    s = applications.EfficientNetV2S(weights=None, include_top=False)
    assert type(s.layers[1]).__name__ == "Rescaling" and type(s.layers[2]).__name__ == "Conv2D"
    assert s.layers[1].get_config()["scale"] == pytest.approx(1 / 128)
    assert s.layers[1].get_config()["offset"] == pytest.approx(-1)
    bare = applications.EfficientNetV2B0(weights=None, include_top=False,
                                         include_preprocessing=False)
    assert bare.layers[1].name == "stem_conv"
    # B variants use V1's preprocessing only for 3 channels.
    gray = applications.EfficientNetV2B0(weights=None, include_top=False,
                                         input_shape=(32, 32, 1))
    assert gray.layers[1].get_config()["offset"] == pytest.approx(-1)


def test_arguments_and_drop_schedule():
    kerasish.utils.clear_session()
    model = applications.EfficientNetV2B0(weights=None, classes=5, classifier_activation=None,
                                          name="mine")
    assert model.name == "mine" and model.output_shape == (None, 5)
    dense = model.get_layer("predictions").get_config()
    assert dense["activation"] == "linear"
    assert dense["bias_initializer"]["class_name"] == "Constant"
    # The schedule's value is the Dropout rate (0.2 * b / 21 for block b of B0's 21 blocks).
    assert model.get_layer("block1a_project_bn").output.shape[-1] == 16
    assert model.get_layer("block2b_drop").rate == pytest.approx(0.2 * 2 / 21)
    assert model.get_layer("stem_bn").get_config()["momentum"] == pytest.approx(0.9)
    pooled = applications.EfficientNetV2S(weights=None, include_top=False, pooling="max")
    assert pooled.layers[-1].name == "max_pool" and pooled.output_shape == (None, 1280)


@pytest.mark.parametrize("kwargs, message", [
    ({"weights": "bogus"}, "The `weights` argument should be either `None` (random "
     "initialization), `imagenet` (pre-training on ImageNet), or the path to the weights file "
     "to be loaded."),
    ({"classes": 10}, 'If using `weights="imagenet"` with `include_top` as true, `classes` '
     "should be 1000"),
    ({"input_shape": (200, 200, 3)}, "When setting `include_top=True` and loading `imagenet` "
     "weights, `input_shape` should be (224, 224, 3).  Received: input_shape=(200, 200, 3)"),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        applications.EfficientNetV2B0(**kwargs)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("key, fn", [("efficientnetv2-s", "EfficientNetV2S"),
                                     ("efficientnetv2-b3", "EfficientNetV2B3")])
def test_missing_imagenet_file_names_the_path_and_url(tmp_path, monkeypatch, key, fn):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        getattr(applications, fn)(include_top=False, input_shape=(32, 32, 3))
    fname = f"{key}_notop.h5"
    assert os.path.join(str(tmp_path), "models", fname) in str(info.value)
    assert ORIGIN + fname in str(info.value)


# -- Keras's files, by topology; the forward pass against NumPy ----------------------------------
def reference_to_block4a(model, x):
    """Rescaling(1/255) + Normalization (ImageNet's mean and std) -> 3x3/2 "same" conv, BN,
    swish -> block1a (fused, expand 1: 3x3 conv, BN, swish) -> block2a (fused, expand 4:
    3x3/2 conv, BN, swish, 1x1 conv, BN) ... -> block4a (MBConv: 1x1 expand, BN, swish,
    3x3/2 depthwise, BN, swish, squeeze-excite, 1x1 projection, BN)."""
    x = (x / 255.0 - [0.485, 0.456, 0.406]) / np.array([0.229, 0.224, 0.225])

    def conv_bn(h, conv, bn, stride=1):
        (kernel,) = zh.weights_of(model, conv)
        return zh.bn_of(model, bn, BN_EPS)(zh.conv2d(h, kernel, stride=stride, padding="same"))

    x = zc.swish(conv_bn(x, "stem_conv", "stem_bn", stride=2))
    x = zc.swish(conv_bn(x, "block1a_project_conv", "block1a_project_bn"))
    for name, stride in [("block2a_", 2), ("block2b_", 1), ("block3a_", 2), ("block3b_", 1)]:
        h = zc.swish(conv_bn(x, f"{name}expand_conv", f"{name}expand_bn", stride=stride))
        h = conv_bn(h, f"{name}project_conv", f"{name}project_bn")
        x = h + x if stride == 1 else h  # Dropout is the identity in inference
    h = zc.swish(conv_bn(x, "block4a_expand_conv", "block4a_expand_bn"))
    (kernel,) = zh.weights_of(model, "block4a_dwconv2")
    h = zh.depthwise_conv2d(h, kernel, stride=2, padding="same")
    h = zc.swish(zh.bn_of(model, "block4a_bn", BN_EPS)(h))
    h = zc.squeeze_excite(model, h, "block4a_")
    return conv_bn(h, "block4a_project_conv", "block4a_project_bn")


def test_imagenet_notop_file_loads_and_predicts_as_numpy(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = applications.EfficientNetV2B0(weights=None, include_top=False,
                                           input_shape=(32, 32, 3))
    (tmp_path / "models").mkdir()
    written = zc.write_keras_weights_file(tmp_path / "models" / "efficientnetv2-b0_notop.h5",
                                          layout.layers, seed=3)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    kerasish.utils.clear_session()
    model = applications.EfficientNetV2B0(include_top=False, pooling="avg",
                                          input_shape=(32, 32, 3))
    zh.assert_loaded(model, written, ["stem_conv", "block1a_project_bn", "block4a_se_expand",
                                      "block6h_dwconv2", "top_bn"])
    images = np.random.default_rng(4).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    assert efficientnet_v2.preprocess_input(images) is images
    block = kerasish.Model(model.input, model.get_layer("block4a_project_bn").output)
    np.testing.assert_allclose(block.predict(images, verbose=0),
                               reference_to_block4a(model, images.astype(np.float64)),
                               rtol=1e-4, atol=1e-4)
    features = model.predict(images, verbose=0)
    assert features.shape == (2, 1280) and np.isfinite(features).all()


def test_imagenet_top_file_loads_the_classifier_too(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = applications.EfficientNetV2B0(weights=None)
    (tmp_path / "models").mkdir()
    written = zc.write_keras_weights_file(tmp_path / "models" / "efficientnetv2-b0.h5",
                                          layout.layers, seed=8)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    kerasish.utils.clear_session()
    model = applications.EfficientNetV2B0()
    zh.assert_loaded(model, written, ["stem_bn", "block6h_project_bn", "predictions"])


# -- preprocessing and public names ---------------------------------------------------------------
def test_preprocess_input_is_a_pass_through_and_decode_predictions():
    pixels = np.array([[[[255, 128, 0]]]], dtype="uint8")
    assert efficientnet_v2.preprocess_input(pixels) is pixels
    preds = np.zeros((2, 1000), dtype="float32")
    preds[:, 1] = 1.0
    assert efficientnet_v2.decode_predictions(preds, top=1)[1][0][:2] == ("n01443537",
                                                                          "goldfish")


def test_public_names():
    for fn in MODELS.values():
        assert getattr(kerasish.applications, fn.__name__) is fn
        assert getattr(kerasish.applications.efficientnet_v2, fn.__name__) is fn
    assert sorted(fn.__name__ for fn in MODELS.values()) == [
        "EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2", "EfficientNetV2B3",
        "EfficientNetV2L", "EfficientNetV2M", "EfficientNetV2S"]
