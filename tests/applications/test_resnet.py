"""ResNet50/101/152 against Keras 3.15's facts (data/resnet*.json, written once by a script
outside the repository from Keras 3.15's models built with weights=None), Keras-layout weight
files written here with h5py, and a NumPy reference of the stem and the first block."""
import os

import numpy as np
import pytest

import applications
import kerasish
from applications import ResNet50, ResNet101, ResNet152, resnet, resnet50
from tests.applications import zoo_helpers as zh

MODELS = {"resnet50": ResNet50, "resnet101": ResNet101, "resnet152": ResNet152}
ORIGIN = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
EPS = 1.001e-5


@pytest.mark.parametrize("key", MODELS)
def test_top_model_matches_keras(key):
    kerasish.utils.clear_session()
    model = MODELS[key](weights=None)
    zh.assert_matches_keras(model, zh.keras_facts(key))
    assert model.input_shape == (None, 224, 224, 3)
    assert model.output_shape == (None, 1000)


@pytest.mark.parametrize("key", MODELS)
def test_notop_matches_keras(key):
    facts = zh.keras_facts(key)
    shape = tuple(facts["notop"]["input_shape"])
    kerasish.utils.clear_session()
    model = MODELS[key](weights=None, include_top=False, pooling="avg", input_shape=shape)
    zh.assert_notop_matches_keras(model, facts)
    assert model.output_shape == (None, 2048)  # Keras's feature width
    bare = MODELS[key](weights=None, include_top=False, input_shape=shape)
    assert list(bare.output_shape) == facts["notop"]["bare_output_shape"]
    assert len(bare.layers) == facts["notop"]["bare_num_layers"]


def test_names_and_classifier_arguments():
    pooled = ResNet50(weights=None, include_top=False, pooling="max")
    assert pooled.layers[-1].name == "max_pool" and pooled.output_shape == (None, 2048)
    assert pooled.input_shape == (None, None, None, 3)  # any size without the top
    model = ResNet50(weights=None, classes=7, classifier_activation=None, name="mine")
    assert model.name == "mine"
    assert model.output_shape == (None, 7)
    assert model.get_layer("predictions").get_config()["activation"] == "linear"


def test_input_tensor_keeps_its_source_inputs():
    images = kerasish.Input((32, 32, 3))
    scaled = kerasish.layers.Activation("linear")(images)
    model = ResNet50(weights=None, include_top=False, input_tensor=scaled)
    assert model.inputs[0] is images
    assert model.output_shape == (None, 1, 1, 2048)


@pytest.mark.parametrize("kwargs, message", [
    ({"weights": "bogus"}, "The `weights` argument should be either `None` (random "
     "initialization), 'imagenet' (pre-training on ImageNet), or the path to the weights file "
     "to be loaded.  Received: weights=bogus"),
    ({"classes": 10}, "If using `weights='imagenet'` with `include_top=True`, `classes` should "
     "be 1000.  Received classes=10"),
    ({"input_shape": (200, 200, 3)}, "When setting `include_top=True` and loading `imagenet` "
     "weights, `input_shape` should be (224, 224, 3).  Received: input_shape=(200, 200, 3)"),
    ({"weights": None, "include_top": False, "input_shape": (31, 40, 3)},
     "Input size must be at least 32x32; Received: input_shape=(31, 40, 3)"),
    ({"weights": None, "input_shape": (None, None, 3)}, "If `include_top` is True, you should "
     "specify a static `input_shape`. Received: input_shape=(None, None, 3)"),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        ResNet50(**kwargs)
    assert str(info.value) == message


def test_pretrained_classifier_is_softmax_or_none(tmp_path):
    with pytest.raises(ValueError, match="Only `None` and `softmax` activations are allowed"):
        ResNet50(weights="imagenet", classifier_activation="relu")


@pytest.mark.parametrize("key, include_top", [("resnet101", False), ("resnet50", True)])
def test_missing_imagenet_file_names_the_path_and_url(tmp_path, monkeypatch, key, include_top):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    fname = f"{key}_weights_tf_dim_ordering_tf_kernels{'' if include_top else '_notop'}.h5"
    with pytest.raises(FileNotFoundError) as info:
        MODELS[key](include_top=include_top)
    text = str(info.value)
    assert os.path.join(str(tmp_path), "models", fname) in text
    assert ORIGIN + fname in text


# -- Keras's files, by topology; the forward pass against NumPy ----------------------------------
def reference_stem_and_block1(model, x):
    """conv1 (7x7/2 on a 3-padded input) + BN + ReLU, 3x3/2 max pooling on a 1-padded input,
    then conv2_block1: a projected bottleneck block."""
    kernel, bias = zh.weights_of(model, "conv1_conv")
    y = zh.conv2d(zh.pad(x, (3, 3), (3, 3)), kernel, bias, stride=2)
    y = zh.relu(zh.bn_of(model, "conv1_bn", EPS)(y))
    y = zh.max_pool(zh.pad(y, (1, 1), (1, 1)), 3, 2)

    def conv_bn(h, name, padding="valid"):
        kernel, bias = zh.weights_of(model, f"conv2_block1_{name}_conv")
        return zh.bn_of(model, f"conv2_block1_{name}_bn", EPS)(
            zh.conv2d(h, kernel, bias, padding=padding))

    shortcut = conv_bn(y, "0")
    h = zh.relu(conv_bn(y, "1"))
    h = zh.relu(conv_bn(h, "2", padding="same"))
    return zh.relu(shortcut + conv_bn(h, "3"))


def test_imagenet_notop_file_loads_and_predicts_as_numpy(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3))
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    fname = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"
    written = zh.write_keras2_weights_file(models_dir / fname, layout.layers, seed=5)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    model = ResNet50(include_top=False, pooling="avg", input_shape=(32, 32, 3))
    zh.assert_loaded(model, written, ["conv1_conv", "conv1_bn", "conv3_block2_2_conv",
                                      "conv5_block3_3_bn"])
    images = np.random.default_rng(6).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    x = resnet.preprocess_input(images.copy())
    block = kerasish.Model(model.input, model.get_layer("conv2_block1_out").output)
    np.testing.assert_allclose(block.predict(x, verbose=0),
                               reference_stem_and_block1(model, x.astype(np.float64)),
                               rtol=1e-4, atol=1e-3)
    features = model.predict(x, verbose=0)
    assert features.shape == (2, 2048) and np.isfinite(features).all()


def test_imagenet_top_file_loads_the_classifier_too(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = ResNet50(weights=None)
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    fname = "resnet50_weights_tf_dim_ordering_tf_kernels.h5"
    written = zh.write_keras2_weights_file(models_dir / fname, layout.layers, seed=7)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    model = ResNet50()
    zh.assert_loaded(model, written, ["conv1_conv", "conv4_block6_3_bn", "predictions"])
    # The same file by path: weights=<path> loads it as well.
    by_path = ResNet50(weights=str(models_dir / fname), classifier_activation=None)
    zh.assert_loaded(by_path, written, ["predictions"])


# -- preprocessing and public names ---------------------------------------------------------------
def test_preprocess_input_is_caffe_and_decode_predictions():
    # "caffe": RGB -> BGR, minus ImageNet's BGR mean pixel (103.939, 116.779, 123.68), no scaling.
    pixels = np.array([[[[255.0, 128.0, 0.0]]]], dtype="float32")
    np.testing.assert_allclose(resnet.preprocess_input(pixels.copy()),
                               [[[[-103.939, 11.221, 131.32]]]], rtol=1e-6)
    assert resnet50.preprocess_input is resnet.preprocess_input
    preds = np.zeros((1, 1000), dtype="float32")
    preds[0, [145, 3]] = [0.75, 0.25]
    assert [r[:2] for r in resnet.decode_predictions(preds, top=2)[0]] == [
        ("n02056570", "king_penguin"), ("n01491361", "tiger_shark")]


def test_public_names():
    assert kerasish.applications.ResNet50 is ResNet50
    assert kerasish.applications.resnet.ResNet101 is ResNet101
    assert kerasish.applications.resnet.ResNet152 is ResNet152
    assert kerasish.applications.resnet50.ResNet50 is ResNet50
    for module in (applications.resnet, applications.resnet50):
        assert callable(module.preprocess_input) and callable(module.decode_predictions)
