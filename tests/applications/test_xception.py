"""Xception against Keras 3.15's facts (data/xception.json, written once by a script outside
the repository from Keras 3.15's model built with weights=None), Keras-layout weight files
written here with h5py (Keras 2.0's 1-based automatic names), and a NumPy reference of the
entry flow's first two blocks."""
import os

import numpy as np
import pytest

import kerasish
from applications import Xception, xception
from tests.applications import zoo_helpers as zh

EPS = 1e-3  # BatchNormalization's default


@pytest.fixture(scope="module")
def top_model():
    kerasish.utils.clear_session()  # Keras's automatic names are those of a fresh session
    return Xception(weights=None)


def test_top_model_matches_keras(top_model):
    zh.assert_matches_keras(top_model, zh.keras_facts("xception"))
    assert top_model.input_shape == (None, 299, 299, 3)
    names = [layer.name for layer in top_model.layers]
    # The residual projections and additions are unnamed: automatic names, in creation order.
    assert [n for n in names if n.startswith("add")] == ["add"] + [f"add_{i}" for i in
                                                                   range(1, 12)]
    assert [n for n in names if n.startswith("conv2d")] == ["conv2d", "conv2d_1", "conv2d_2",
                                                            "conv2d_3"]


def test_notop_matches_keras():
    facts = zh.keras_facts("xception")
    kerasish.utils.clear_session()
    model = Xception(weights=None, include_top=False, pooling="avg", input_shape=(71, 71, 3))
    zh.assert_notop_matches_keras(model, facts)
    assert model.output_shape == (None, 2048)  # Keras's feature width
    zh.assert_summary_matches_keras(model, "xception_notop_summary.txt")
    bare = Xception(weights=None, include_top=False, input_shape=(71, 71, 3))
    assert list(bare.output_shape) == facts["notop"]["bare_output_shape"]  # (None, 3, 3, 2048)


@pytest.mark.parametrize("kwargs, message", [
    ({"weights": "nope.h5"}, "The `weights` argument should be either `None` (random "
     "initialization), 'imagenet' (pre-training on ImageNet), or the path to the weights file "
     "to be loaded. Received: weights=nope.h5"),
    ({"classes": 5}, "If using `weights='imagenet'` with `include_top=True`, `classes` should "
     "be 1000.  Received classes=5"),
    ({"input_shape": (224, 224, 3)}, "When setting `include_top=True` and loading `imagenet` "
     "weights, `input_shape` should be (299, 299, 3).  Received: input_shape=(224, 224, 3)"),
    ({"weights": None, "include_top": False, "input_shape": (70, 71, 3)},
     "Input size must be at least 71x71; Received: input_shape=(70, 71, 3)"),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        Xception(**kwargs)
    assert str(info.value) == message


def test_missing_imagenet_file_names_the_path_and_url(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        Xception()
    fname = "xception_weights_tf_dim_ordering_tf_kernels.h5"
    assert os.path.join(str(tmp_path), "models", fname) in str(info.value)
    assert ("https://storage.googleapis.com/tensorflow/keras-applications/xception/" + fname
            in str(info.value))


def reference_through_block2(model, x):
    """block1 (two valid 3x3 convolutions, the first strided) and block2: two separable
    convolutions and a "same" 3x3/2 max pooling, added to a strided 1x1 projection."""
    def bn(name):
        return zh.bn_of(model, name, EPS)

    def sepconv(h, name):
        depthwise, pointwise = zh.weights_of(model, name)
        return zh.conv2d(zh.depthwise_conv2d(h, depthwise), pointwise)

    (kernel,) = zh.weights_of(model, "block1_conv1")
    y = zh.relu(bn("block1_conv1_bn")(zh.conv2d(x, kernel, stride=2)))
    (kernel,) = zh.weights_of(model, "block1_conv2")
    y = zh.relu(bn("block1_conv2_bn")(zh.conv2d(y, kernel)))
    (kernel,) = zh.weights_of(model, "conv2d")
    residual = bn("batch_normalization")(zh.conv2d(y, kernel, stride=2, padding="same"))
    h = zh.relu(bn("block2_sepconv1_bn")(sepconv(y, "block2_sepconv1")))
    h = bn("block2_sepconv2_bn")(sepconv(h, "block2_sepconv2"))
    return zh.max_pool(h, 3, 2, padding="same") + residual


def test_imagenet_top_file_loads_by_topology(tmp_path, monkeypatch, top_model):
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    fname = "xception_weights_tf_dim_ordering_tf_kernels.h5"
    written = zh.write_keras2_weights_file(models_dir / fname, top_model.layers, seed=12)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    model = Xception()  # a second session's names (conv2d_4, add_12, ...): loaded by position
    names = [layer.name for layer in top_model.layers]
    k = names.index("conv2d")
    assert model.layers[k].name != "conv2d"
    for index in (1, k, names.index("batch_normalization_3"), -1):
        got = [np.asarray(w.numpy()) for w in model.layers[index].weights]
        expected = written[names[index]]
        assert len(got) == len(expected) > 0
        for value, wanted in zip(got, expected):
            np.testing.assert_array_equal(value, wanted)


def test_imagenet_notop_file_predicts_as_numpy(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = Xception(weights=None, include_top=False, input_shape=(71, 71, 3))
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    fname = "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"
    written = zh.write_keras2_weights_file(models_dir / fname, layout.layers, seed=13)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    kerasish.utils.clear_session()  # the same automatic names as the layout's
    model = Xception(include_top=False, pooling="avg", input_shape=(71, 71, 3))
    zh.assert_loaded(model, written, ["block1_conv1", "conv2d", "batch_normalization_3",
                                      "block14_sepconv2", "block14_sepconv2_bn"])
    images = np.random.default_rng(14).uniform(0, 255, (2, 71, 71, 3)).astype("float32")
    x = xception.preprocess_input(images.copy())
    block = kerasish.Model(model.input, model.get_layer("add").output)
    np.testing.assert_allclose(block.predict(x, verbose=0),
                               reference_through_block2(model, x.astype(np.float64)),
                               rtol=1e-4, atol=1e-4)
    features = model.predict(x, verbose=0)
    assert features.shape == (2, 2048) and np.isfinite(features).all()


def test_preprocess_input_is_tf_and_public_names():
    # "tf" mode: pixels / 127.5 - 1.
    np.testing.assert_allclose(xception.preprocess_input(np.array([[0.0, 63.75, 255.0]])),
                               [[-1.0, -0.5, 1.0]])
    assert kerasish.applications.Xception is Xception
    assert kerasish.applications.xception.Xception is Xception
    assert xception.decode_predictions(np.eye(1000)[[1]], top=1)[0][0][1] == "goldfish"
