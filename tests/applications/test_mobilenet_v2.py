"""MobileNetV2 against Keras 3.15's facts (data/mobilenet_v2.json and its summary text, written
once by a script outside the repository from Keras 3.15's model built with weights=None; the
other numbers below were printed by Keras 3.15 the same way), Keras-layout weights files written
here with h5py under the names Keras's alpha/size rule gives, and a NumPy reference of the stem
and the first three inverted residual blocks."""
import os
import warnings

import numpy as np
import pytest

import engine
import kerasish
from applications import MobileNetV2, mobilenet_v2
from tests.applications import zoo_checks as zc
from tests.applications import zoo_helpers as zh

ORIGIN = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v2/"
FILE = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{}_{}{}.h5"
EPS = 1e-3
SIZE_WARNING = ("`input_shape` is undefined or non-square, or `rows` is not in [96, 128, 160, "
                "192, 224]. Weights for input shape (224, 224) will be loaded as the default.")


@pytest.fixture(scope="module")
def facts():
    return zh.keras_facts("mobilenet_v2")


def test_top_model_matches_keras(facts):
    kerasish.utils.clear_session()
    model = MobileNetV2(weights=None)
    zc.assert_matches_keras(model, facts)
    assert model.count_params() == 3_538_984  # the (and Keras's table) number
    assert model.input_shape == (None, 224, 224, 3) and model.output_shape == (None, 1000)
    zh.assert_summary_matches_keras(model, "mobilenet_v2_summary.txt")


def test_notop_matches_keras(facts):
    shape = tuple(facts["notop"]["input_shape"])
    kerasish.utils.clear_session()
    model = MobileNetV2(weights=None, include_top=False, pooling="avg", input_shape=shape)
    zc.assert_notop_matches_keras(model, facts)
    assert model.output_shape == (None, 1280)  # Keras's feature width
    assert model.name == facts["notop"]["name"] == "mobilenetv2_1.00_32"
    kerasish.utils.clear_session()
    bare = MobileNetV2(weights=None, include_top=False, input_shape=shape)
    assert [layer.name for layer in bare.layers] == facts["notop"]["bare_names"]
    assert list(bare.output_shape) == facts["notop"]["bare_output_shape"]
    pooled = MobileNetV2(weights=None, include_top=False, pooling="max", input_shape=shape)
    assert pooled.layers[-1].name.startswith("global_max_pooling2d")
    assert pooled.output_shape == (None, 1280)


# (kwargs, model name, number of layers, parameters, output shape), from Keras 3.15.
VARIANTS = [
    ({"alpha": 0.35}, "mobilenetv2_0.35_224", 156, 1_691_208, (None, 1000)),
    ({"alpha": 1.4}, "mobilenetv2_1.40_224", 156, 6_156_712, (None, 1000)),
    ({"alpha": 1.3, "include_top": False, "input_shape": (96, 96, 3)}, "mobilenetv2_1.30_96",
     154, 3_766_048, (None, 3, 3, 1664)),
    ({"include_top": False}, "mobilenetv2_1.00_None", 154, 2_257_984, (None, None, None, 1280)),
    ({"include_top": False, "input_shape": (33, 35, 3)}, "mobilenetv2_1.00_33", 154, 2_257_984,
     (None, 2, 2, 1280)),
    ({"input_tensor": "96"}, "mobilenetv2_1.00_96", 156, 3_538_984, (None, 1000)),
    ({"name": "mine", "classes": 10, "classifier_activation": None}, "mine", 156, 2_270_794,
     (None, 10)),
]


@pytest.mark.parametrize("kwargs, name, num_layers, params, output_shape", VARIANTS)
def test_variants(kwargs, name, num_layers, params, output_shape):
    if kwargs.get("input_tensor") == "96":
        kwargs = {"input_tensor": kerasish.Input((96, 96, 3))}
    model = MobileNetV2(weights=None, **kwargs)
    assert (model.name, len(model.layers), model.count_params()) == (name, num_layers, params)
    assert model.output_shape == output_shape


def test_make_divisible_rounds_as_tensorflow_slim():
    # The project widths at alpha 0.35 (Keras 3.15's values): never under 8.
    widths = (16, 24, 32, 64, 96, 160, 320)
    assert [mobilenet_v2._make_divisible(int(f * 0.35), 8) for f in widths] == [
        8, 8, 16, 24, 32, 56, 112]
    assert mobilenet_v2._make_divisible(32 * 1.4, 8) == 48
    assert mobilenet_v2._make_divisible(1280 * 1.3, 8) == 1664


# -- argument checks (Keras 3.15's texts) --------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"weights": "bogus"}, "The `weights` argument should be either `None` (random "
     "initialization), `imagenet` (pre-training on ImageNet), or the path to the weights file "
     "to be loaded.  Received `weights=bogus`"),
    ({"classes": 10}, 'If using `weights="imagenet"` with `include_top` as true, `classes` '
     "should be 1000. Received `classes=10`"),
    ({"alpha": 0.6}, "If imagenet weights are being loaded, alpha must be one of `0.35`, "
     "`0.50`, `0.75`, `1.0`, `1.3` or `1.4` only; Received `alpha=0.6`"),
    ({"input_shape": (100, 100, 3)}, "When setting `include_top=True` and loading `imagenet` "
     "weights, `input_shape` should be (224, 224, 3).  Received: input_shape=(100, 100, 3)"),
    ({"weights": None, "include_top": False, "input_shape": (31, 40, 3)},
     "Input size must be at least 32x32; Received: input_shape=(31, 40, 3)"),
    ({"weights": None, "input_shape": (None, None, 3)}, "If `include_top` is True, you should "
     "specify a static `input_shape`. Received: input_shape=(None, None, 3)"),
    ({"weights": None, "include_top": False, "input_shape": (96, 96, 3), "input_tensor": "80"},
     "input_tensor.shape[2] must equal input_shape[1]; Received `input_tensor.shape=(None, 96, "
     "80, 3)`, `input_shape=(96, 96, 3)`"),
])
def test_argument_errors(kwargs, message):
    if kwargs.get("input_tensor") == "80":
        kwargs = {**kwargs, "input_tensor": kerasish.Input((96, 80, 3))}
    with pytest.raises(ValueError) as info:
        MobileNetV2(**kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize("kwargs, fname, warns", [
    ({}, FILE.format("1.0", 224, ""), False),
    ({"alpha": 0.35, "input_shape": (96, 96, 3)}, FILE.format("0.35", 96, ""), False),
    ({"alpha": 0.5, "input_shape": (160, 160, 3)}, FILE.format("0.5", 160, ""), False),
    ({"alpha": 1.4, "include_top": False, "input_shape": (192, 192, 3)},
     FILE.format("1.4", 192, "_no_top"), False),
    ({"include_top": False}, FILE.format("1.0", 224, "_no_top"), True),  # size unknown
    ({"alpha": 0.75, "include_top": False, "input_shape": (128, 160, 3)},
     FILE.format("0.75", 224, "_no_top"), True),  # not square
    ({"alpha": 1, "include_top": False, "input_shape": (100, 100, 3)},
     FILE.format("1.0", 224, "_no_top"), True),  # no file for 100
])
def test_imagenet_file_name_rule_and_missing_file_error(tmp_path, monkeypatch, kwargs, fname,
                                                        warns):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(FileNotFoundError) as info:
            MobileNetV2(**kwargs)
    assert [str(w.message) for w in caught] == ([SIZE_WARNING] if warns else [])
    assert os.path.join(str(tmp_path), "models", fname) in str(info.value)
    assert ORIGIN + fname in str(info.value)


# -- a Keras-layout file, loaded and run against NumPy -------------------------------------------
def relu6(x):
    return np.clip(x, 0.0, 6.0)


def inverted_block(model, x, prefix, stride, expand):
    """``block_{id}_``: 1x1 expansion, 3x3 depthwise (TensorFlow's "same" as pad + valid when
    strided), linear 1x1 projection, the residual when shapes allow."""
    h = x
    if expand:
        (kernel,) = zh.weights_of(model, f"{prefix}expand")
        h = relu6(zh.bn_of(model, f"{prefix}expand_BN", EPS)(zh.conv2d(h, kernel)))
    (kernel,) = zh.weights_of(model, f"{prefix}depthwise")
    if stride == 2:  # an even size: one more row and column after
        h = zh.depthwise_conv2d(zh.pad(h, (0, 1), (0, 1)), kernel, stride=2, padding="valid")
    else:
        h = zh.depthwise_conv2d(h, kernel)
    h = relu6(zh.bn_of(model, f"{prefix}depthwise_BN", EPS)(h))
    (kernel,) = zh.weights_of(model, f"{prefix}project")
    h = zh.bn_of(model, f"{prefix}project_BN", EPS)(zh.conv2d(h, kernel))
    return x + h if h.shape == x.shape and stride == 1 else h


def reference_through_block_2(model, x):
    (kernel,) = zh.weights_of(model, "Conv1")
    y = relu6(zh.bn_of(model, "bn_Conv1", EPS)(zh.conv2d(x, kernel, stride=2, padding="same")))
    y = inverted_block(model, y, "expanded_conv_", 1, expand=False)
    y = inverted_block(model, y, "block_1_", 2, expand=True)
    return inverted_block(model, y, "block_2_", 1, expand=True)


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_imagenet_top_file_loads_and_predicts_as_numpy(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = MobileNetV2(weights=None, input_shape=(96, 96, 3))
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    # The official 96 x 96 file (Keras 2's names: input_1, global_average_pooling2d_1).
    written = zh.write_keras2_weights_file(models_dir / FILE.format("1.0", 96, ""),
                                           layout.layers, seed=11)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    model = MobileNetV2(input_shape=(96, 96, 3))
    assert model.name == "mobilenetv2_1.00_96"
    zh.assert_loaded(model, written, ["Conv1", "bn_Conv1", "expanded_conv_depthwise",
                                      "block_16_project_BN", "Conv_1", "predictions"])
    images = np.random.default_rng(12).uniform(0, 255, (2, 96, 96, 3)).astype("float32")
    x = mobilenet_v2.preprocess_input(images.copy())
    block = kerasish.Model(model.input, model.get_layer("block_2_add").output)
    np.testing.assert_allclose(block.predict(x, verbose=0),
                               reference_through_block_2(model, x.astype(np.float64)),
                               rtol=1e-4, atol=1e-4)
    features = kerasish.Model(model.input, model.get_layer("out_relu").output).predict(
        x, verbose=0).astype(np.float64)
    kernel, bias = zh.weights_of(model, "predictions")
    preds = model.predict(x, verbose=0)
    assert preds.shape == (2, 1000)
    np.testing.assert_allclose(preds, softmax(features.mean(axis=(1, 2)) @ kernel + bias),
                               rtol=1e-4, atol=1e-6)


def test_notop_file_from_a_path_and_from_the_cache(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = MobileNetV2(weights=None, include_top=False, alpha=0.35, input_shape=(32, 32, 3))
    path = tmp_path / FILE.format("0.35", 224, "_no_top")
    written = zh.write_keras2_weights_file(path, layout.layers, seed=13)
    by_path = MobileNetV2(weights=str(path), include_top=False, alpha=0.35, pooling="avg",
                          input_shape=(32, 32, 3))
    (tmp_path / "models").mkdir()
    os.replace(path, tmp_path / "models" / path.name)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.warns(UserWarning, match="Weights for input shape"):
        cached = MobileNetV2(include_top=False, alpha=0.35, pooling="avg",
                             input_shape=(32, 32, 3))
    for model in (by_path, cached):
        zh.assert_loaded(model, written, ["Conv1", "block_8_expand", "Conv_1_bn"])
    x = np.random.default_rng(14).uniform(-1, 1, (2, 32, 32, 3)).astype("float32")
    out = by_path.predict(x, verbose=0)
    assert out.shape == (2, 1280)
    np.testing.assert_array_equal(out, cached.predict(x, verbose=0))


# -- preprocessing and decoding -----------------------------------------------------------------
def test_preprocess_input_is_mode_tf(xp):
    # Keras's "tf" mode: x / 127.5 - 1, written out.
    pixels = np.array([[[0.0, 127.5, 255.0], [51.0, 204.0, 25.5]]], dtype="float32")
    expected = [[[-1.0, 0.0, 1.0], [-0.6, 0.6, -0.8]]]
    x = xp.asarray(pixels.copy())
    out = mobilenet_v2.preprocess_input(x)
    assert out is x  # float arrays are scaled in place, as Keras does
    np.testing.assert_allclose(engine.backend.to_numpy(out), expected, rtol=1e-6, atol=1e-7)
    ints = mobilenet_v2.preprocess_input(xp.asarray(pixels[..., :1].astype("uint8")))
    assert ints.dtype == np.float32
    tensor = mobilenet_v2.preprocess_input(engine.Tensor(xp.asarray(pixels.copy())))
    assert isinstance(tensor, engine.Tensor)
    np.testing.assert_allclose(engine.backend.to_numpy(tensor.data), expected, rtol=1e-6,
                               atol=1e-7)


def test_decode_predictions_and_public_names():
    preds = np.zeros((1, 1000), dtype="float32")
    preds[0, [1, 2, 999]] = [0.2, 0.7, 0.1]
    decoded = mobilenet_v2.decode_predictions(preds, top=2)
    assert decoded == [[("n01484850", "great_white_shark", np.float32(0.7)),
                        ("n01443537", "goldfish", np.float32(0.2))]]
    assert kerasish.applications.MobileNetV2 is MobileNetV2
    assert kerasish.applications.mobilenet_v2.MobileNetV2 is MobileNetV2
    assert kerasish.applications.mobilenet_v2.preprocess_input is mobilenet_v2.preprocess_input
