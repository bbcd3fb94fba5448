"""DenseNet121/169/201 against Keras 3.15's facts (data/densenet*.json, written once by a script
outside the repository from Keras 3.15's models built with weights=None), Keras-layout weight
files written here with h5py (tf_keras's ``conv1/conv`` names, nested HDF5 groups), and a NumPy
reference of the stem and the first dense layer."""
import os

import h5py
import numpy as np
import pytest

import applications
import kerasish
from applications import DenseNet121, DenseNet169, DenseNet201, densenet
from tests.applications import zoo_helpers as zh

MODELS = {"densenet121": DenseNet121, "densenet169": DenseNet169, "densenet201": DenseNet201}
ORIGIN = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
EPS = 1.001e-5
# Keras's documented sizes (keras.io/api/applications) and feature widths.
PARAMS = {"densenet121": 8_062_504, "densenet169": 14_307_880, "densenet201": 20_242_984}
WIDTH = {"densenet121": 1024, "densenet169": 1664, "densenet201": 1920}


@pytest.mark.parametrize("key", MODELS)
def test_top_model_matches_keras(key):
    kerasish.utils.clear_session()
    model = MODELS[key](weights=None)
    zh.assert_matches_keras(model, zh.keras_facts(key))
    assert model.count_params() == PARAMS[key]
    assert model.input_shape == (None, 224, 224, 3)
    assert model.output_shape == (None, 1000)


@pytest.mark.parametrize("key", MODELS)
def test_notop_matches_keras(key):
    facts = zh.keras_facts(key)
    shape = tuple(facts["notop"]["input_shape"])
    kerasish.utils.clear_session()
    model = MODELS[key](weights=None, include_top=False, pooling="avg", input_shape=shape)
    zh.assert_notop_matches_keras(model, facts)
    assert model.output_shape == (None, WIDTH[key])
    if key == "densenet121":
        zh.assert_summary_matches_keras(model, "densenet121_notop_summary.txt")


def test_names_and_classifier_arguments():
    pooled = DenseNet121(weights=None, include_top=False, pooling="max")
    assert pooled.layers[-1].name == "max_pool" and pooled.output_shape == (None, 1024)
    assert pooled.input_shape == (None, None, None, 3)  # any size without the top
    model = DenseNet121(weights=None, classes=7, classifier_activation=None, name="mine")
    assert model.name == "mine"
    assert model.output_shape == (None, 7)
    assert model.get_layer("predictions").get_config()["activation"] == "linear"
    tiny = densenet.DenseNet([1, 1, 1, 1], weights=None, include_top=False,
                             input_shape=(32, 32, 3))
    assert tiny.name == "densenet" and tiny.output_shape == (None, 1, 1, 68)


def test_input_tensor_keeps_its_source_inputs():
    images = kerasish.Input((32, 32, 3))
    scaled = kerasish.layers.Activation("linear")(images)
    model = DenseNet121(weights=None, include_top=False, input_tensor=scaled)
    assert model.inputs[0] is images
    assert model.output_shape == (None, 1, 1, 1024)


@pytest.mark.parametrize("kwargs, message", [
    ({"weights": "bogus"}, "The `weights` argument should be either `None` (random "
     "initialization), `imagenet` (pre-training on ImageNet), or the path to the weights file "
     "to be loaded. Received: weights=bogus"),
    ({"classes": 10}, 'If using `weights` as `"imagenet"` with `include_top` as true, `classes` '
     "should be 1000. Received: classes=10"),
    ({"input_shape": (200, 200, 3)}, "When setting `include_top=True` and loading `imagenet` "
     "weights, `input_shape` should be (224, 224, 3).  Received: input_shape=(200, 200, 3)"),
    ({"weights": None, "include_top": False, "input_shape": (31, 40, 3)},
     "Input size must be at least 32x32; Received: input_shape=(31, 40, 3)"),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        DenseNet121(**kwargs)
    assert str(info.value) == message


def test_channels_first_and_custom_blocks_with_imagenet_are_refused(monkeypatch):
    with pytest.raises(ValueError, match="weights_path undefined"):
        densenet.DenseNet([1, 1, 1, 1], include_top=False)
    # kerasish runs channels_last only; Keras's own check comes first all the same.
    monkeypatch.setattr(kerasish.config, "image_data_format", lambda: "channels_first")
    with pytest.raises(ValueError, match="DenseNet does not support the `channels_first`"):
        DenseNet121(weights=None)


@pytest.mark.parametrize("key, include_top", [("densenet169", False), ("densenet121", True)])
def test_missing_imagenet_file_names_the_path_and_url(tmp_path, monkeypatch, key, include_top):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    fname = f"{key}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    with pytest.raises(FileNotFoundError) as info:
        MODELS[key](include_top=include_top)
    text = str(info.value)
    assert os.path.join(str(tmp_path), "models", fname) in text
    assert ORIGIN + fname in text


# -- Keras's files, by topology; the forward pass against NumPy ----------------------------------
# tf_keras named the stem `conv1/conv`, `conv1/bn`, `conv1/relu` (Keras 3: `conv1_conv`, ...).
TF_KERAS_NAMES = {"conv1_conv": "conv1/conv", "conv1_bn": "conv1/bn", "conv1_relu": "conv1/relu"}


def write_tf_keras_file(path, layers, seed, monkeypatch):
    base = zh.keras2_name
    monkeypatch.setattr(zh, "keras2_name", lambda name: TF_KERAS_NAMES.get(name, base(name)))
    return zh.write_keras2_weights_file(path, layers, seed)


def reference_stem_and_first_layer(model, x):
    """conv1 (7x7/2 on a 3-padded input, no bias) + BN + ReLU, 3x3/2 max pooling on a 1-padded
    input, then conv2_block1: BN-ReLU-1x1 (128) -> BN-ReLU-3x3 (32), concatenated."""
    (kernel,) = zh.weights_of(model, "conv1_conv")
    y = zh.conv2d(zh.pad(x, (3, 3), (3, 3)), kernel, stride=2)
    y = zh.relu(zh.bn_of(model, "conv1_bn", EPS)(y))
    y = zh.max_pool(zh.pad(y, (1, 1), (1, 1)), 3, 2)
    h = zh.relu(zh.bn_of(model, "conv2_block1_0_bn", EPS)(y))
    (kernel,) = zh.weights_of(model, "conv2_block1_1_conv")
    h = zh.relu(zh.bn_of(model, "conv2_block1_1_bn", EPS)(zh.conv2d(h, kernel)))
    (kernel,) = zh.weights_of(model, "conv2_block1_2_conv")
    return np.concatenate([y, zh.conv2d(h, kernel, padding="same")], axis=-1)


def test_imagenet_notop_file_loads_and_predicts_as_numpy(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = DenseNet121(weights=None, include_top=False, input_shape=(32, 32, 3))
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    fname = "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5"
    written = write_tf_keras_file(models_dir / fname, layout.layers, 5, monkeypatch)
    with h5py.File(models_dir / fname, "r") as f:  # `/` in a name makes nested groups
        assert "conv1/conv/conv1/conv/kernel:0" in f and "conv" in f["conv1"]
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    model = DenseNet121(include_top=False, pooling="avg", input_shape=(32, 32, 3))
    zh.assert_loaded(model, written, ["conv1_conv", "conv1_bn", "conv3_block7_1_conv",
                                      "pool4_conv", "bn"])
    images = np.random.default_rng(6).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    x = densenet.preprocess_input(images.copy())
    block = kerasish.Model(model.input, model.get_layer("conv2_block1_concat").output)
    np.testing.assert_allclose(block.predict(x, verbose=0),
                               reference_stem_and_first_layer(model, x.astype(np.float64)),
                               rtol=1e-4, atol=1e-3)
    features = model.predict(x, verbose=0)
    assert features.shape == (2, 1024) and np.isfinite(features).all()


def test_imagenet_top_file_loads_the_classifier_too(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = DenseNet121(weights=None)
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    fname = "densenet121_weights_tf_dim_ordering_tf_kernels.h5"
    written = write_tf_keras_file(models_dir / fname, layout.layers, 7, monkeypatch)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    model = DenseNet121()
    zh.assert_loaded(model, written, ["conv1_conv", "conv5_block16_2_conv", "bn", "predictions"])
    by_path = DenseNet121(weights=str(models_dir / fname), classifier_activation=None)
    zh.assert_loaded(by_path, written, ["predictions"])


# -- preprocessing and public names ---------------------------------------------------------------
def test_preprocess_input_is_torch_and_decode_predictions():
    # "torch": x / 255, minus ImageNet's mean (0.485, 0.456, 0.406), over its std (0.229,
    # 0.224, 0.225): 255 -> (1 - 0.485) / 0.229 = 2.2489..., 0 -> -0.456 / 0.224 = -2.0357...
    pixels = np.array([[[[255.0, 0.0, 127.5]]]], dtype="float32")
    expected = [[[[2.2489083, -2.0357143, 0.4177778]]]]
    np.testing.assert_allclose(densenet.preprocess_input(pixels.copy()), expected, rtol=1e-6)
    tensor = densenet.preprocess_input(kerasish.ops.convert_to_tensor(pixels))
    np.testing.assert_allclose(kerasish.ops.convert_to_numpy(tensor), expected, rtol=1e-6)
    ints = densenet.preprocess_input(np.array([[[255, 0, 0]]], dtype="uint8"))
    assert ints.dtype == np.float32
    preds = np.zeros((1, 1000), dtype="float32")
    preds[0, [281, 999]] = [0.25, 0.75]
    assert [r[:2] for r in densenet.decode_predictions(preds, top=2)[0]] == [
        ("n15075141", "toilet_tissue"), ("n02123045", "tabby")]


def test_public_names():
    assert kerasish.applications.DenseNet121 is DenseNet121
    assert kerasish.applications.densenet.DenseNet169 is DenseNet169
    assert kerasish.applications.densenet.DenseNet201 is DenseNet201
    module = applications.densenet
    assert callable(module.preprocess_input) and callable(module.decode_predictions)
