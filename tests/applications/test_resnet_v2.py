"""ResNet50V2/101V2/152V2 against Keras 3.15's facts (data/resnet*v2.json, written once by a
script outside the repository from Keras 3.15's models built with weights=None), a Keras-layout
weights file written here with h5py, and a NumPy reference of the stem and conv2's blocks."""
import os

import numpy as np
import pytest

import kerasish
from applications import ResNet50V2, ResNet101V2, ResNet152V2, resnet_v2
from tests.applications import zoo_helpers as zh

MODELS = {"resnet50v2": ResNet50V2, "resnet101v2": ResNet101V2, "resnet152v2": ResNet152V2}
ORIGIN = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
EPS = 1.001e-5


@pytest.mark.parametrize("key", MODELS)
def test_top_model_matches_keras(key):
    kerasish.utils.clear_session()
    model = MODELS[key](weights=None)
    zh.assert_matches_keras(model, zh.keras_facts(key))
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


def test_stride_two_shortcuts_are_unnamed_one_by_one_poolings():
    kerasish.utils.clear_session()
    model = ResNet50V2(weights=None, include_top=False, input_shape=(64, 64, 3))
    # The last block of conv2, conv3 and conv4 strides by 2; its shortcut is a 1x1 max pooling.
    pools = [layer for layer in model.layers if layer.name.startswith("max_pooling2d")]
    assert [p.name for p in pools] == ["max_pooling2d", "max_pooling2d_1", "max_pooling2d_2"]
    assert all(p.get_config()["pool_size"] == (1, 1) and p.get_config()["strides"] == (2, 2)
               for p in pools)


def test_missing_imagenet_file_names_the_path_and_url(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    fname = "resnet152v2_weights_tf_dim_ordering_tf_kernels_notop.h5"
    with pytest.raises(FileNotFoundError) as info:
        ResNet152V2(include_top=False)
    assert os.path.join(str(tmp_path), "models", fname) in str(info.value)
    assert ORIGIN + fname in str(info.value)


def reference_through_conv2(model, x):
    """The pre-activation network up to conv2_block3_out: stem without BN, then three blocks
    (projection shortcut, identity shortcut, stride-2 block with a 1x1 max-pooled shortcut)."""
    kernel, bias = zh.weights_of(model, "conv1_conv")
    y = zh.conv2d(zh.pad(x, (3, 3), (3, 3)), kernel, bias, stride=2)
    y = zh.max_pool(zh.pad(y, (1, 1), (1, 1)), 3, 2)
    for block, stride in ((1, 1), (2, 1), (3, 2)):
        name = f"conv2_block{block}"
        preact = zh.relu(zh.bn_of(model, f"{name}_preact_bn", EPS)(y))
        if block == 1:
            shortcut = zh.conv2d(preact, *zh.weights_of(model, f"{name}_0_conv"))
        else:
            shortcut = y[:, ::stride, ::stride]
        (kernel,) = zh.weights_of(model, f"{name}_1_conv")  # no bias
        h = zh.relu(zh.bn_of(model, f"{name}_1_bn", EPS)(zh.conv2d(preact, kernel)))
        (kernel,) = zh.weights_of(model, f"{name}_2_conv")
        h = zh.conv2d(zh.pad(h, (1, 1), (1, 1)), kernel, stride=stride)
        h = zh.relu(zh.bn_of(model, f"{name}_2_bn", EPS)(h))
        y = shortcut + zh.conv2d(h, *zh.weights_of(model, f"{name}_3_conv"))
    return y


def test_imagenet_notop_file_loads_and_predicts_as_numpy(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = ResNet50V2(weights=None, include_top=False, input_shape=(32, 32, 3))
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    fname = "resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5"
    written = zh.write_keras2_weights_file(models_dir / fname, layout.layers, seed=8)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    model = ResNet50V2(include_top=False, pooling="avg", input_shape=(32, 32, 3))
    zh.assert_loaded(model, written, ["conv1_conv", "conv2_block1_preact_bn", "post_bn"])
    images = np.random.default_rng(9).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    x = resnet_v2.preprocess_input(images.copy())
    np.testing.assert_allclose(x, images / 127.5 - 1.0, rtol=1e-6, atol=1e-6)  # mode "tf"
    block = kerasish.Model(model.input, model.get_layer("conv2_block3_out").output)
    np.testing.assert_allclose(block.predict(x, verbose=0),
                               reference_through_conv2(model, x.astype(np.float64)),
                               rtol=1e-4, atol=1e-4)
    features = model.predict(x, verbose=0)
    assert features.shape == (2, 2048) and np.isfinite(features).all()


def test_public_names():
    assert kerasish.applications.ResNet50V2 is ResNet50V2
    assert kerasish.applications.resnet_v2.ResNet101V2 is ResNet101V2
    assert kerasish.applications.resnet_v2.ResNet152V2 is ResNet152V2
    assert resnet_v2.decode_predictions(np.eye(1000)[[2]], top=1)[0][0][1] == "great_white_shark"
