"""EfficientNetB0-B7 against Keras 3.15's facts (data/efficientnetb*.json, written once by a
script outside the repository from Keras 3.15's models built with weights=None), a Keras-layout
weights file written here with h5py, and a NumPy reference of the preprocessing, the stem and
the first MBConv block."""
import math
import os

import numpy as np
import pytest

import applications
import kerasish
from applications import efficientnet
from tests.applications import zoo_checks as zc
from tests.applications import zoo_helpers as zh
from tests.applications.zoo_checks import zero_weights  # noqa: F401 (a fixture)

MODELS = {f"efficientnetb{i}": getattr(applications, f"EfficientNetB{i}") for i in range(8)}
ORIGIN = "https://storage.googleapis.com/keras-applications/"
BN_EPS = 1e-3  # BatchNormalization's default epsilon
# Keras 3.15's feature widths (include_top=False, pooling="avg").
WIDTHS = {"efficientnetb0": 1280, "efficientnetb1": 1280, "efficientnetb2": 1408,
          "efficientnetb3": 1536, "efficientnetb4": 1792, "efficientnetb5": 2048,
          "efficientnetb6": 2304, "efficientnetb7": 2560}


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


def test_block_arguments_and_drop_connect_schedule():
    kerasish.utils.clear_session()
    model = applications.EfficientNetB0(weights=None, include_top=False)
    assert model.input_shape == (None, None, None, 3)
    # Rescaling(1/255), then an adapted Normalization: mean/variance float32, count int64.
    assert model.layers[1].get_config()["scale"] == pytest.approx(1 / 255)
    norm = model.layers[2]
    assert [(w.name, str(w.dtype), w.trainable) for w in norm.weights] == [
        ("mean", "float32", False), ("variance", "float32", False), ("count", "int64", False)]
    # Drop-connect: Dropout(drop_connect_rate * b / blocks, noise_shape=(None, 1, 1, 1)) on the
    # residual branch of block b (0-based) of B0's 16 blocks.
    drop = model.get_layer("block2b_drop")
    assert drop.rate == pytest.approx(0.2 * 2 / 16)
    assert tuple(drop.noise_shape) == (None, 1, 1, 1)
    assert model.get_layer("block7a_project_bn").output.shape[-1] == 320
    se = model.get_layer("block6b_se_reduce")  # swish, which Keras 3 calls silu
    assert se.get_config()["activation"] == "silu" and se.kernel.shape == (1, 1, 1152, 48)


@pytest.mark.usefixtures("zero_weights")
def test_summary_matches_keras():
    kerasish.utils.clear_session()
    model = applications.EfficientNetB0(weights=None, include_top=False, pooling="avg",
                                        input_shape=(32, 32, 3))
    zc.assert_summary_matches_keras(model, "efficientnetb0_summary.txt", ignore_last_size=True)


def test_arguments():
    kerasish.utils.clear_session()
    model = applications.EfficientNetB0(weights=None, include_top=False, pooling="max",
                                        input_shape=(33, 35, 3))
    assert model.layers[-1].name == "max_pool" and model.output_shape == (None, 1280)
    # An odd size pads the stride-2 convolutions symmetrically (correct_pad).
    assert model.get_layer("stem_conv_pad").padding == ((1, 1), (1, 1))
    model = applications.EfficientNetB0(weights=None, classes=7, classifier_activation=None,
                                        name="mine")
    assert model.name == "mine" and model.output_shape == (None, 7)
    assert model.get_layer("predictions").get_config()["activation"] == "linear"
    assert model.get_layer("top_dropout").rate == pytest.approx(0.2)
    images = kerasish.Input((32, 32, 3))
    model = applications.EfficientNetB0(weights=None, include_top=False,
                                        input_tensor=kerasish.layers.Activation("linear")(images))
    assert model.inputs[0] is images


@pytest.mark.parametrize("kwargs, message", [
    ({"weights": "bogus"}, "The `weights` argument should be either `None` (random "
     "initialization), `imagenet` (pre-training on ImageNet), or the path to the weights file "
     "to be loaded."),
    ({"classes": 10}, 'If using `weights="imagenet"` with `include_top` as true, `classes` '
     "should be 1000"),
    ({"input_shape": (200, 200, 3)}, "When setting `include_top=True` and loading `imagenet` "
     "weights, `input_shape` should be (224, 224, 3).  Received: input_shape=(200, 200, 3)"),
    ({"weights": None, "include_top": False, "input_shape": (31, 40, 3)},
     "Input size must be at least 32x32; Received: input_shape=(31, 40, 3)"),
    ({"weights": None, "classifier_activation": "relu", "weights_path": True},
     "Only `None` and `softmax` activations are allowed"),
])
def test_argument_errors(tmp_path, kwargs, message):
    if kwargs.pop("weights_path", False):
        kwargs["weights"] = str(tmp_path)  # an existing path: pretrained, so softmax only
    with pytest.raises(ValueError) as info:
        applications.EfficientNetB0(**kwargs)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize("include_top", [True, False])
def test_missing_imagenet_file_names_the_path_and_url(tmp_path, monkeypatch, include_top):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    fname = "efficientnetb0.h5" if include_top else "efficientnetb0_notop.h5"
    with pytest.raises(FileNotFoundError) as info:
        applications.EfficientNetB0(include_top=include_top)
    assert os.path.join(str(tmp_path), "models", fname) in str(info.value)
    assert ORIGIN + fname in str(info.value)
    # As in Keras, the file is named after the model.
    with pytest.raises(FileNotFoundError, match="mine_notop.h5"):
        applications.EfficientNetB0(include_top=False, name="mine")


# -- Keras's files, by topology; the forward pass against NumPy ----------------------------------
def reference_stem_and_block1a(model, x, imagenet):
    """Rescaling(1/255) -> Normalization (the file's mean/variance) [-> Rescaling(1/sqrt(std))
    for "imagenet"] -> correct_pad -> 3x3/2 conv -> BN -> swish -> block1a (depthwise 3x3,
    BN, swish, squeeze-excite, 1x1 projection, BN)."""
    (norm,) = [layer for layer in model.layers if type(layer).__name__ == "Normalization"]
    mean, variance, _ = [np.asarray(w.numpy(), np.float64) for w in norm.weights]
    x = (x / 255.0 - mean) / np.maximum(np.sqrt(variance), 1e-7)
    if imagenet:
        x = x / np.sqrt([0.229, 0.224, 0.225])
    x = zh.conv2d(zh.pad(x, (0, 1), (0, 1)), *zh.weights_of(model, "stem_conv"), stride=2)
    x = zc.swish(zh.bn_of(model, "stem_bn", BN_EPS)(x))
    (kernel,) = zh.weights_of(model, "block1a_dwconv")
    x = zc.swish(zh.bn_of(model, "block1a_bn", BN_EPS)(zh.depthwise_conv2d(x, kernel)))
    x = zc.squeeze_excite(model, x, "block1a_")
    x = zh.conv2d(x, *zh.weights_of(model, "block1a_project_conv"))
    return zh.bn_of(model, "block1a_project_bn", BN_EPS)(x)


def test_imagenet_notop_file_loads_and_predicts_as_numpy(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = applications.EfficientNetB0(weights=None, include_top=False,
                                         input_shape=(32, 32, 3))
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    path = models_dir / "efficientnetb0_notop.h5"
    written = zc.write_keras_weights_file(path, layout.layers, seed=5)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    kerasish.utils.clear_session()
    model = applications.EfficientNetB0(include_top=False, pooling="avg",
                                        input_shape=(32, 32, 3))
    # "imagenet" adds Rescaling(1 / sqrt(std)) after the normalization (Keras 3's fix of
    # tensorflow#49930): one layer more than the same file loaded by path.
    assert [layer.name for layer in model.layers[1:5]] == [
        "rescaling", "normalization", "rescaling_1", "stem_conv_pad"]
    np.testing.assert_allclose(model.layers[3].get_config()["scale"],
                               [1 / math.sqrt(s) for s in (0.229, 0.224, 0.225)])
    zh.assert_loaded(model, written, ["normalization", "stem_conv", "block1a_se_reduce",
                                      "block4c_dwconv", "top_bn"])
    assert int(model.get_layer("normalization").weights[2].numpy()) == int(
        written["normalization"][2])
    images = np.random.default_rng(6).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    assert efficientnet.preprocess_input(images) is images  # preprocessing is in the model
    block = kerasish.Model(model.input, model.get_layer("block1a_project_bn").output)
    np.testing.assert_allclose(block.predict(images, verbose=0),
                               reference_stem_and_block1a(model, images.astype(np.float64),
                                                          imagenet=True),
                               rtol=1e-4, atol=1e-4)
    features = model.predict(images, verbose=0)
    assert features.shape == (2, 1280) and np.isfinite(features).all()

    # The same file by path: Keras's plain graph (no extra Rescaling).
    by_path = applications.EfficientNetB0(weights=str(path), include_top=False,
                                          input_shape=(32, 32, 3))
    assert len(by_path.layers) == len(model.layers) - 2  # no rescaling_1, no avg_pool
    block = kerasish.Model(by_path.input, by_path.get_layer("block1a_project_bn").output)
    np.testing.assert_allclose(block.predict(images, verbose=0),
                               reference_stem_and_block1a(by_path, images.astype(np.float64),
                                                          imagenet=False),
                               rtol=1e-4, atol=1e-4)


def test_imagenet_top_file_loads_the_classifier_too(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = applications.EfficientNetB0(weights=None)
    (tmp_path / "models").mkdir()
    written = zc.write_keras_weights_file(tmp_path / "models" / "efficientnetb0.h5",
                                          layout.layers, seed=7)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    kerasish.utils.clear_session()
    model = applications.EfficientNetB0()
    zh.assert_loaded(model, written, ["normalization", "block7a_project_bn", "predictions"])


# -- preprocessing and public names ---------------------------------------------------------------
def test_preprocess_input_is_a_pass_through_and_decode_predictions():
    pixels = np.array([[[[255, 128, 0]]]], dtype="uint8")
    assert efficientnet.preprocess_input(pixels) is pixels  # unchanged, even uint8
    tensor = kerasish.ops.convert_to_tensor(np.ones((1, 2, 2, 3), "float32"))
    assert efficientnet.preprocess_input(tensor) is tensor
    preds = np.zeros((1, 1000), dtype="float32")
    preds[0, [145, 3]] = [0.75, 0.25]
    assert [r[:2] for r in efficientnet.decode_predictions(preds, top=2)[0]] == [
        ("n02056570", "king_penguin"), ("n01491361", "tiger_shark")]


def test_public_names():
    for key, fn in MODELS.items():
        name = f"EfficientNet{key[-2:].upper()}"
        assert fn.__name__ == name
        assert getattr(kerasish.applications, name) is fn
        assert getattr(kerasish.applications.efficientnet, name) is fn
    assert callable(kerasish.applications.efficientnet.decode_predictions)
