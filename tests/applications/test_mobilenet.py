"""MobileNet against Keras 3.15's facts (data/mobilenet.json and its summary text, written once
by a script outside the repository from Keras 3.15's model built with weights=None; the other
numbers below were printed by Keras 3.15 the same way), Keras-layout weights files written here
with h5py under the names Keras's alpha/size rule gives, and a NumPy reference of the whole
network, classifier included."""
import os
import warnings

import numpy as np
import pytest

import engine
import kerasish
from applications import MobileNet, mobilenet
from tests.applications import zoo_checks as zc
from tests.applications import zoo_helpers as zh

ORIGIN = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet/"
EPS = 1e-3  # BatchNormalization's default
SIZE_WARNING = ("`input_shape` is undefined or non-square, or `rows` is not in [128, 160, 192, "
                "224]. Weights for input shape (224, 224) will be loaded as the default.")
# (pointwise filters, stride) of conv_dw_1 ... conv_dw_13 (the paper's table 1).
BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [
    (1024, 2), (1024, 1)]


@pytest.fixture(scope="module")
def facts():
    return zh.keras_facts("mobilenet")


def test_top_model_matches_keras(facts):
    kerasish.utils.clear_session()
    model = MobileNet(weights=None)
    zc.assert_matches_keras(model, facts)
    assert model.count_params() == 4_253_864  # the (and Keras's table) number
    assert model.input_shape == (None, 224, 224, 3) and model.output_shape == (None, 1000)
    assert model.get_layer("dropout").get_config()["rate"] == 1e-3
    zh.assert_summary_matches_keras(model, "mobilenet_summary.txt")


def test_notop_matches_keras(facts):
    shape = tuple(facts["notop"]["input_shape"])
    kerasish.utils.clear_session()
    model = MobileNet(weights=None, include_top=False, pooling="avg", input_shape=shape)
    zc.assert_notop_matches_keras(model, facts)
    assert model.output_shape == (None, 1024)  # Keras's feature width
    assert model.name == facts["notop"]["name"] == "mobilenet_1.00_32"
    kerasish.utils.clear_session()
    bare = MobileNet(weights=None, include_top=False, input_shape=shape)
    assert [layer.name for layer in bare.layers] == facts["notop"]["bare_names"]
    assert list(bare.output_shape) == facts["notop"]["bare_output_shape"]
    pooled = MobileNet(weights=None, include_top=False, pooling="max", input_shape=shape)
    assert pooled.layers[-1].name.startswith("global_max_pooling2d")
    assert pooled.output_shape == (None, 1024)


# (kwargs, model name, number of layers, parameters, output shape), from Keras 3.15.
VARIANTS = [
    ({"alpha": 0.25}, "mobilenet_0.25_224", 91, 475_544, (None, 1000)),
    ({"alpha": 0.5, "depth_multiplier": 2, "include_top": False, "input_shape": (128, 128, 3)},
     "mobilenet_0.50_128", 86, 1_646_672, (None, 4, 4, 512)),
    ({"input_shape": (160, 160, 3)}, "mobilenet_1.00_160", 91, 4_253_864, (None, 1000)),
    ({"include_top": False}, "mobilenet_1.00_None", 86, 3_228_864, (None, None, None, 1024)),
    ({"alpha": 0.75, "input_shape": (192, 192, 3), "classes": 10, "dropout": 0.5},
     "mobilenet_0.75_192", 91, 1_840_666, (None, 10)),
    # The graph is built on the tensor; the name keeps the default size, as Keras's does.
    ({"input_tensor": "96"}, "mobilenet_1.00_224", 91, 4_253_864, (None, 1000)),
]


@pytest.mark.parametrize("kwargs, name, num_layers, params, output_shape", VARIANTS)
def test_variants(kwargs, name, num_layers, params, output_shape):
    if kwargs.get("input_tensor") == "96":
        kwargs = {"input_tensor": kerasish.Input((96, 96, 3))}
    model = MobileNet(weights=None, **kwargs)
    assert (model.name, len(model.layers), model.count_params()) == (name, num_layers, params)
    assert model.output_shape == output_shape
    if "dropout" in kwargs:
        assert model.get_layer("dropout").get_config()["rate"] == kwargs["dropout"]


def test_depth_multiplier_widens_the_depthwise_convolutions():
    model = MobileNet(weights=None, include_top=False, alpha=0.5, depth_multiplier=2,
                      input_shape=(32, 32, 3))
    assert [tuple(w.shape) for w in model.get_layer("conv_dw_1").weights] == [(3, 3, 16, 2)]
    assert [tuple(w.shape) for w in model.get_layer("conv_pw_1").weights] == [(1, 1, 32, 32)]


# -- argument checks (Keras 3.15's texts) --------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"weights": "bogus"}, "The `weights` argument should be either `None` (random "
     "initialization), 'imagenet' (pre-training on ImageNet), or the path to the weights file "
     "to be loaded. Received weights=bogus"),
    ({"classes": 10}, "If using `weights='imagenet'` with `include_top=True`, `classes` should "
     "be 1000.  Received classes=10"),
    ({"alpha": 0.6}, "If imagenet weights are being loaded, alpha can be one of`0.25`, `0.50`, "
     "`0.75` or `1.0` only.  Received alpha=0.6"),
    ({"depth_multiplier": 2}, "If imagenet weights are being loaded, depth multiplier must be "
     "1.  Received depth_multiplier=2"),
    ({"input_shape": (100, 100, 3)}, "When setting `include_top=True` and loading `imagenet` "
     "weights, `input_shape` should be (224, 224, 3).  Received: input_shape=(100, 100, 3)"),
    ({"weights": None, "include_top": False, "input_shape": (31, 40, 3)},
     "Input size must be at least 32x32; Received: input_shape=(31, 40, 3)"),
    ({"weights": None, "input_shape": (None, None, 3)}, "If `include_top` is True, you should "
     "specify a static `input_shape`. Received: input_shape=(None, None, 3)"),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        MobileNet(**kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize("kwargs, fname, warns", [
    ({}, "mobilenet_1_0_224_tf.h5", False),
    ({"alpha": 0.25, "input_shape": (128, 128, 3)}, "mobilenet_2_5_128_tf.h5", False),
    ({"input_shape": (192, 192, 3)}, "mobilenet_1_0_192_tf.h5", False),
    ({"alpha": 0.5, "include_top": False, "input_shape": (160, 160, 3)},
     "mobilenet_5_0_160_tf_no_top.h5", False),
    ({"alpha": 0.75, "include_top": False}, "mobilenet_7_5_224_tf_no_top.h5", True),
    ({"include_top": False, "input_shape": (100, 100, 3)}, "mobilenet_1_0_224_tf_no_top.h5",
     True),
    ({"include_top": False, "input_shape": (128, 160, 3)}, "mobilenet_1_0_224_tf_no_top.h5",
     True),
])
def test_imagenet_file_name_rule_and_missing_file_error(tmp_path, monkeypatch, kwargs, fname,
                                                        warns):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(FileNotFoundError) as info:
            MobileNet(**kwargs)
    assert [str(w.message) for w in caught] == ([SIZE_WARNING] if warns else [])
    assert os.path.join(str(tmp_path), "models", fname) in str(info.value)
    assert ORIGIN + fname in str(info.value)


# -- a Keras-layout file, loaded and run against NumPy -------------------------------------------
def relu6(x):
    return np.clip(x, 0.0, 6.0)


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def reference_mobilenet(model, x):
    """The whole network in NumPy: a strided depthwise convolution pads one row and column
    after (TensorFlow's "same" for an even size) and convolves "valid"."""
    (kernel,) = zh.weights_of(model, "conv1")
    y = relu6(zh.bn_of(model, "conv1_bn", EPS)(zh.conv2d(x, kernel, stride=2, padding="same")))
    for block_id, (_, stride) in enumerate(BLOCKS, start=1):
        (kernel,) = zh.weights_of(model, f"conv_dw_{block_id}")
        if stride == 2:
            y = zh.depthwise_conv2d(zh.pad(y, (0, 1), (0, 1)), kernel, stride=2,
                                    padding="valid")
        else:
            y = zh.depthwise_conv2d(y, kernel)
        y = relu6(zh.bn_of(model, f"conv_dw_{block_id}_bn", EPS)(y))
        (kernel,) = zh.weights_of(model, f"conv_pw_{block_id}")
        y = relu6(zh.bn_of(model, f"conv_pw_{block_id}_bn", EPS)(zh.conv2d(y, kernel)))
    pooled = y.mean(axis=(1, 2), keepdims=True)  # dropout: nothing at inference
    logits = zh.conv2d(pooled, *zh.weights_of(model, "conv_preds"))
    return softmax(logits.reshape(len(x), -1))


def test_imagenet_top_file_loads_and_predicts_as_numpy(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = MobileNet(weights=None, input_shape=(128, 128, 3))
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    # The official 128 x 128 file (Keras 2's names: input_1, global_average_pooling2d_1).
    written = zh.write_keras2_weights_file(models_dir / "mobilenet_1_0_128_tf.h5",
                                           layout.layers, seed=21)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    model = MobileNet(input_shape=(128, 128, 3))
    assert model.name == "mobilenet_1.00_128"
    zh.assert_loaded(model, written, ["conv1", "conv1_bn", "conv_dw_1", "conv_pw_7_bn",
                                      "conv_pw_13", "conv_preds"])
    images = np.random.default_rng(22).uniform(0, 255, (2, 128, 128, 3)).astype("float32")
    x = mobilenet.preprocess_input(images.copy())
    preds = model.predict(x, verbose=0)
    assert preds.shape == (2, 1000)
    np.testing.assert_allclose(preds, reference_mobilenet(model, x.astype(np.float64)),
                               rtol=1e-4, atol=1e-6)


def test_notop_file_from_a_path_and_from_the_cache(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = MobileNet(weights=None, include_top=False, alpha=0.25, input_shape=(32, 32, 3))
    path = tmp_path / "mobilenet_2_5_224_tf_no_top.h5"
    written = zh.write_keras2_weights_file(path, layout.layers, seed=23)
    by_path = MobileNet(weights=str(path), include_top=False, alpha=0.25, pooling="avg",
                        input_shape=(32, 32, 3))
    (tmp_path / "models").mkdir()
    os.replace(path, tmp_path / "models" / path.name)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.warns(UserWarning, match="Weights for input shape"):
        cached = MobileNet(include_top=False, alpha=0.25, pooling="avg", input_shape=(32, 32, 3))
    assert cached.name == "mobilenet_0.25_224"  # the size of the file, as Keras names it
    for model in (by_path, cached):
        zh.assert_loaded(model, written, ["conv1", "conv_dw_6", "conv_pw_13_bn"])
    x = np.random.default_rng(24).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    out = by_path.predict(x, verbose=0)
    assert out.shape == (2, 256)
    np.testing.assert_array_equal(out, cached.predict(x, verbose=0))


# -- preprocessing and decoding -----------------------------------------------------------------
def test_preprocess_input_is_mode_tf(xp):
    # Keras's "tf" mode: x / 127.5 - 1, written out.
    pixels = np.array([[[0.0, 127.5, 255.0], [51.0, 204.0, 25.5]]], dtype="float32")
    expected = [[[-1.0, 0.0, 1.0], [-0.6, 0.6, -0.8]]]
    x = xp.asarray(pixels.copy())
    out = mobilenet.preprocess_input(x)
    assert out is x  # float arrays are scaled in place, as Keras does
    np.testing.assert_allclose(engine.backend.to_numpy(out), expected, rtol=1e-6, atol=1e-7)
    ints = mobilenet.preprocess_input(xp.asarray(np.array([[0, 255, 51]], dtype="uint8")))
    assert ints.dtype == np.float32
    np.testing.assert_allclose(engine.backend.to_numpy(ints), [[-1.0, 1.0, -0.6]], rtol=1e-6)
    tensor = mobilenet.preprocess_input(engine.Tensor(xp.asarray(pixels.copy())))
    assert isinstance(tensor, engine.Tensor)
    np.testing.assert_allclose(engine.backend.to_numpy(tensor.data), expected, rtol=1e-6,
                               atol=1e-7)


def test_decode_predictions_and_public_names():
    preds = np.zeros((2, 1000), dtype="float32")
    preds[0, 0] = 1.0
    preds[1, [999, 500]] = [0.4, 0.6]
    decoded = mobilenet.decode_predictions(preds, top=2)
    assert decoded[0][0] == ("n01440764", "tench", np.float32(1.0))
    assert [row[:2] for row in decoded[1]] == [("n03042490", "cliff_dwelling"),
                                               ("n15075141", "toilet_tissue")]
    assert kerasish.applications.MobileNet is MobileNet
    assert kerasish.applications.mobilenet.MobileNet is MobileNet
    assert kerasish.applications.mobilenet.decode_predictions is mobilenet.decode_predictions
