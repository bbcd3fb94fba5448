"""MobileNetV3Small and MobileNetV3Large against Keras 3.15's facts (data/mobilenet_v3_*.json and
the small model's summary text, written once by a script outside the repository from Keras
3.15's models built with weights=None; the other numbers below were printed by Keras 3.15 the
same way), weights files in tf.keras's layout (layer names with "/") written here with h5py, and
a NumPy reference of the in-model rescaling, the stem and the first four blocks (squeeze-and-
excite, hard sigmoid and hard swish, 3x3 and 5x5 strided padding) and of the classifier."""
import os
import re
import warnings

import numpy as np
import pytest

import engine
import kerasish
from applications import MobileNetV3Large, MobileNetV3Small, mobilenet_v3
from tests.applications import zoo_checks as zc
from tests.applications import zoo_helpers as zh

MODELS = {"mobilenet_v3_small": MobileNetV3Small, "mobilenet_v3_large": MobileNetV3Large}
ORIGIN = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"
EPS = 1e-3
SIZE_WARNING = ("`input_shape` is undefined or non-square, or `rows` is not 224. Weights for "
                "input shape (224, 224) will be loaded as the default.")


def keras_layers(model):
    return [layer for layer in model.layers if not zc.is_op_layer(layer)]


@pytest.mark.parametrize("key", MODELS)
def test_top_model_matches_keras(key):
    facts = zh.keras_facts(key)
    kerasish.utils.clear_session()
    model = MODELS[key](weights=None)
    zc.assert_matches_keras(model, facts)
    # The hard sigmoids' `x + 3.0` and `* (1 / 6)` are operations in Keras 3 (outside
    # model.layers, in the summary): ours sit where Keras's graph has them.
    operations = [row[0] for row in facts["layers"]]
    for index, name, class_name in facts["ops"]:
        operations.insert(index, name)
        assert type(model.get_layer(name)).__name__ == class_name
    assert [layer.name for layer in model.operations] == operations
    assert [layer.name for layer in model.layers] == [row[0] for row in facts["layers"]]
    assert model.input_shape == (None, None, None, 3)  # any size, even with the top
    assert model.output_shape == (None, 1000)
    if key == "mobilenet_v3_small":
        zh.assert_summary_matches_keras(model, "mobilenet_v3_small_summary.txt")


@pytest.mark.parametrize("key, width", [("mobilenet_v3_small", 576),
                                        ("mobilenet_v3_large", 960)])
def test_notop_matches_keras(key, width):
    facts = zh.keras_facts(key)
    shape = tuple(facts["notop"]["input_shape"])
    kerasish.utils.clear_session()
    model = MODELS[key](weights=None, include_top=False, pooling="avg", input_shape=shape)
    zc.assert_notop_matches_keras(model, facts)
    assert model.output_shape == (None, width)  # Keras's feature width
    assert model.layers[-1].name == "avg_pool"
    kerasish.utils.clear_session()
    bare = MODELS[key](weights=None, include_top=False, input_shape=shape)
    assert [layer.name for layer in keras_layers(bare)] == facts["notop"]["bare_names"]
    assert list(bare.output_shape) == facts["notop"]["bare_output_shape"]
    pooled = MODELS[key](weights=None, include_top=False, pooling="max", input_shape=shape)
    assert pooled.layers[-1].name == "max_pool" and pooled.output_shape == (None, width)


# (model, kwargs, Keras's number of layers, parameters, output shape), from Keras 3.15.
VARIANTS = [
    (MobileNetV3Small, {"minimalistic": True}, 110, 2_056_848, (None, 1000)),
    (MobileNetV3Small, {"alpha": 0.75}, 164, 2_051_552, (None, 1000)),
    (MobileNetV3Large, {"minimalistic": True}, 146, 3_948_688, (None, 1000)),
    (MobileNetV3Large, {"alpha": 0.75}, 194, 4_012_616, (None, 1000)),
    (MobileNetV3Large, {"alpha": 1.25}, 193, 8_286_760, (None, 1000)),
    (MobileNetV3Small, {"include_preprocessing": False, "dropout_rate": 0.0}, 162, 2_554_968,
     (None, 1000)),
    (MobileNetV3Small, {"include_top": False, "input_shape": (33, 35, 3)}, 157, 939_120,
     (None, 2, 2, 576)),
    (MobileNetV3Small, {"include_top": False, "pooling": "max", "input_shape": (64, 64, 3)},
     158, 939_120, (None, 576)),
    (MobileNetV3Large, {"include_top": False, "pooling": "max", "input_shape": (64, 64, 3)},
     188, 2_996_352, (None, 960)),
]


@pytest.mark.parametrize("fn, kwargs, num_layers, params, output_shape", VARIANTS)
def test_variants(fn, kwargs, num_layers, params, output_shape):
    model = fn(weights=None, **kwargs)
    assert (len(keras_layers(model)), model.count_params()) == (num_layers, params)
    assert model.output_shape == output_shape
    assert model.name == fn.__name__
    classes = {type(layer).__name__ for layer in model.layers}
    if kwargs.get("minimalistic"):  # ReLU and 3x3 only: no SE, no hard swish
        assert "Multiply" not in classes
        assert [layer.name for layer in model.layers if type(layer).__name__ == "Activation"] == [
            "predictions"]
        assert all(layer.get_config()["kernel_size"] == (3, 3) for layer in model.layers
                   if type(layer).__name__ == "DepthwiseConv2D")
    assert ("Rescaling" in classes) == kwargs.get("include_preprocessing", True)
    assert ("Dropout" in classes) == (kwargs.get("dropout_rate", 0.2) > 0
                                      and kwargs.get("include_top", True))


def test_input_tensor_and_arguments():
    kerasish.utils.clear_session()
    images = kerasish.Input((96, 80, 3))
    model = MobileNetV3Small(weights=None, input_tensor=images, name="small")
    assert model.inputs[0] is images and model.name == "small"
    assert model.input_shape == (None, 96, 80, 3)
    rescaling = model.get_layer("rescaling").get_config()
    assert (rescaling["scale"], rescaling["offset"]) == (1.0 / 127.5, -1.0)
    assert model.get_layer("dropout").get_config()["rate"] == 0.2
    # Keras 3.15 serializes "hard_swish" as its canonical name.
    assert model.get_layer("activation").get_config()["activation"] == "hard_silu"
    assert mobilenet_v3._depth(16 * 0.75) == 16 and mobilenet_v3._depth(160 * 1.25) == 200


# -- argument checks (Keras 3.15's texts) --------------------------------------------------------
ALPHA_ERROR = ("If imagenet weights are being loaded, alpha can be one of `0.75`, `1.0` for non "
               "minimalistic or `1.0` for minimalistic only.")


@pytest.mark.parametrize("kwargs, message", [
    ({"weights": "bogus"}, "The `weights` argument should be either `None` (random "
     "initialization), `imagenet` (pre-training on ImageNet), or the path to the weights file "
     "to be loaded.  Received weights=bogus"),
    ({"classes": 10}, 'If using `weights="imagenet"` with `include_top` as true, `classes` '
     "should be 1000.  Received classes=10"),
    # Keras's text, and the values (Keras's message names none).
    ({"alpha": 0.5}, ALPHA_ERROR + " Received: alpha=0.5, minimalistic=False"),
    ({"alpha": 0.75, "minimalistic": True},
     ALPHA_ERROR + " Received: alpha=0.75, minimalistic=True"),
    ({"weights": None, "input_shape": (31, 64, 3)},
     "Input size must be at least 32x32; Received `input_shape=(31, 64, 3)`"),
    ({"weights": None, "input_shape": (96, 96, 3), "input_tensor": "80"},
     "input_shape[1] must equal input_tensor.shape[2].  Received input_shape=(96, 96, 3), "
     "input_tensor.shape=(None, 96, 80, 3)"),
])
@pytest.mark.parametrize("fn", [MobileNetV3Small, MobileNetV3Large])
def test_argument_errors(fn, kwargs, message):
    if kwargs.get("input_tensor") == "80":
        kwargs = {**kwargs, "input_tensor": kerasish.Input((96, 80, 3))}
    with pytest.raises(ValueError) as info:
        fn(**kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize("fn, kwargs, fname, warns", [
    (MobileNetV3Small, {}, "weights_mobilenet_v3_small_224_1.0_float.h5", True),
    (MobileNetV3Large, {"input_shape": (224, 224, 3)},
     "weights_mobilenet_v3_large_224_1.0_float.h5", False),
    (MobileNetV3Small, {"alpha": 0.75, "include_top": False, "input_shape": (224, 224, 3)},
     "weights_mobilenet_v3_small_224_0.75_float_no_top_v2.h5", False),
    (MobileNetV3Large, {"minimalistic": True, "include_top": False},
     "weights_mobilenet_v3_large_minimalistic_224_1.0_float_no_top_v2.h5", True),
    (MobileNetV3Small, {"alpha": 1, "minimalistic": True, "input_shape": (96, 96, 3)},
     "weights_mobilenet_v3_small_minimalistic_224_1.0_float.h5", True),
])
def test_imagenet_file_name_rule_and_missing_file_error(tmp_path, monkeypatch, fn, kwargs,
                                                        fname, warns):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(FileNotFoundError) as info:
            fn(**kwargs)
    assert [str(w.message) for w in caught] == ([SIZE_WARNING] if warns else [])
    assert os.path.join(str(tmp_path), "models", fname) in str(info.value)
    assert ORIGIN + fname in str(info.value)


# -- tf.keras's file layout ---------------------------------------------------------------------
_PARTS = {"bn": "BatchNorm", "pad": "pad", "squeeze_excite_avg_pool": "squeeze_excite/AvgPool",
          "squeeze_excite_conv": "squeeze_excite/Conv", "squeeze_excite_relu":
          "squeeze_excite/Relu", "squeeze_excite_conv_1": "squeeze_excite/Conv_1",
          "squeeze_excite_mul": "squeeze_excite/Mul", "add": "Add"}


def tf_keras_name(name):
    """Our (Keras 3) name -> tf.keras's name of the layer in the official files: ``Conv``,
    ``Conv/BatchNorm``, ``expanded_conv_3/depthwise/BatchNorm``, ``Logits``, ..."""
    top = {"conv": "Conv", "conv_bn": "Conv/BatchNorm", "conv_1": "Conv_1",
           "conv_1_bn": "Conv_1/BatchNorm", "conv_2": "Conv_2", "logits": "Logits",
           "predictions": "Predictions", "input_layer": "input_1"}
    if name in top:
        return top[name]
    match = re.fullmatch(r"(expanded_conv(?:_\d+)?)_(expand|depthwise|project|"
                         r"squeeze_excite\w*|add)(?:_(bn|pad))?", name)
    if match is None:  # weightless auto-named layers
        return name
    block, part, suffix = match.groups()
    part = _PARTS.get(part, part)
    return f"{block}/{part}" + (f"/{_PARTS[suffix]}" if suffix else "")


def write_tf_keras_weights_file(path, layers, seed):
    """tf.keras's ``save_weights`` layout for layer names with "/": the group of
    ``Conv/BatchNorm`` nests inside ``Conv``, its datasets at ``Conv/BatchNorm/gamma:0`` under
    it. Returns ``{our layer name: [values]}`` for the layers with weights."""
    import h5py

    rng = np.random.default_rng(seed)
    written = {}
    with h5py.File(path, "w") as f:
        names = [tf_keras_name(layer.name) for layer in layers]
        assert len(set(names)) == len(names)
        f.attrs["layer_names"] = np.array([n.encode() for n in names])
        f.attrs["backend"] = np.bytes_(b"tensorflow")
        f.attrs["keras_version"] = np.bytes_(b"2.6.0")
        for layer, name in zip(layers, names):
            # NOTE: `expanded_conv/depthwise/pad` comes before `expanded_conv/depthwise` and
            # creates it as an intermediate group: require, not create.
            group = f.require_group(name)
            wnames = [f"{name}/{w.name}:0" for w in layer.weights]
            group.attrs["weight_names"] = (np.array([n.encode() for n in wnames])
                                           if wnames else np.zeros((0,)))
            values = [zh.random_value(w, rng) for w in layer.weights]
            for wname, value in zip(wnames, values):
                group.create_dataset(wname, data=value)
            if values:
                written[layer.name] = values
    return written


def test_tf_keras_names():
    assert [tf_keras_name(n) for n in (
        "conv_bn", "expanded_conv_depthwise_pad", "expanded_conv_squeeze_excite_conv_1",
        "expanded_conv_3_depthwise_bn", "expanded_conv_2_add", "expanded_conv_10_project",
        "re_lu_3")] == [
        "Conv/BatchNorm", "expanded_conv/depthwise/pad", "expanded_conv/squeeze_excite/Conv_1",
        "expanded_conv_3/depthwise/BatchNorm", "expanded_conv_2/Add",
        "expanded_conv_10/project", "re_lu_3"]


# -- NumPy references ---------------------------------------------------------------------------
def relu6(x):
    return np.clip(x, 0.0, 6.0)


def hard_sigmoid(x):
    return relu6(x + 3.0) / 6.0


def hard_swish(x):
    return x * hard_sigmoid(x)


def relu(x):
    return np.maximum(x, 0.0)


def v3_block(model, x, prefix, kernel_size, stride, se, act, expand=True):
    """An inverted residual block of MobileNetV3: expansion, depthwise (a strided one pads as
    correct_pad does for an even size: k // 2 - 1 before, k // 2 after), squeeze-and-excite,
    projection, residual."""
    h = x
    if expand:
        (kernel,) = zh.weights_of(model, f"{prefix}expand")
        h = act(zh.bn_of(model, f"{prefix}expand_bn", EPS)(zh.conv2d(h, kernel)))
    (kernel,) = zh.weights_of(model, f"{prefix}depthwise")
    if stride == 2:
        half = kernel_size // 2
        h = zh.depthwise_conv2d(zh.pad(h, (half - 1, half), (half - 1, half)), kernel,
                                stride=2, padding="valid")
    else:
        h = zh.depthwise_conv2d(h, kernel)
    h = act(zh.bn_of(model, f"{prefix}depthwise_bn", EPS)(h))
    if se:
        s = h.mean(axis=(1, 2), keepdims=True)
        s = relu(zh.conv2d(s, *zh.weights_of(model, f"{prefix}squeeze_excite_conv")))
        s = hard_sigmoid(zh.conv2d(s, *zh.weights_of(model, f"{prefix}squeeze_excite_conv_1")))
        h = h * s
    (kernel,) = zh.weights_of(model, f"{prefix}project")
    h = zh.bn_of(model, f"{prefix}project_bn", EPS)(zh.conv2d(h, kernel))
    return x + h if stride == 1 and h.shape == x.shape else h


# The first four blocks: (prefix, kernel, stride, squeeze-and-excite, activation).
FIRST_BLOCKS = {
    "mobilenet_v3_small": [("expanded_conv_", 3, 2, True, relu), ("expanded_conv_1_", 3, 2,
                           False, relu), ("expanded_conv_2_", 3, 1, False, relu),
                           ("expanded_conv_3_", 5, 2, True, hard_swish)],
    "mobilenet_v3_large": [("expanded_conv_", 3, 1, False, relu), ("expanded_conv_1_", 3, 2,
                           False, relu), ("expanded_conv_2_", 3, 1, False, relu),
                           ("expanded_conv_3_", 5, 2, True, relu)],
}


def reference_first_blocks(model, key, pixels):
    x = pixels / 127.5 - 1.0  # the model's Rescaling
    (kernel,) = zh.weights_of(model, "conv")
    y = zh.conv2d(x, kernel, stride=2, padding="same")
    y = hard_swish(zh.bn_of(model, "conv_bn", EPS)(y))
    for prefix, kernel_size, stride, se, act in FIRST_BLOCKS[key]:
        y = v3_block(model, y, prefix, kernel_size, stride, se, act,
                     expand=prefix != "expanded_conv_")
    return y


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("key, fname", [
    ("mobilenet_v3_small", "weights_mobilenet_v3_small_224_1.0_float.h5"),
    ("mobilenet_v3_large", "weights_mobilenet_v3_large_224_1.0_float.h5")])
def test_imagenet_top_file_loads_and_predicts_as_numpy(tmp_path, monkeypatch, key, fname):
    kerasish.utils.clear_session()
    layout = MODELS[key](weights=None)
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    written = write_tf_keras_weights_file(models_dir / fname, layout.layers, seed=31)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.warns(UserWarning, match="Weights for input shape"):  # any size: a warning
        model = MODELS[key]()
    zh.assert_loaded(model, written, ["conv", "conv_bn", "expanded_conv_depthwise",
                                      "expanded_conv_3_squeeze_excite_conv_1", "conv_1_bn",
                                      "conv_2", "logits"])
    pixels = np.random.default_rng(32).uniform(0, 255, (2, 64, 64, 3)).astype("float32")
    x = mobilenet_v3.preprocess_input(pixels)  # the identity: the model rescales
    assert x is pixels
    block = kerasish.Model(model.input, model.get_layer("expanded_conv_3_project_bn").output)
    np.testing.assert_allclose(block.predict(x, verbose=0),
                               reference_first_blocks(model, key, pixels.astype(np.float64)),
                               rtol=1e-4, atol=1e-4)
    # The classifier on the last features: pool, conv_2, hard swish, logits, softmax.
    last = model.layers[model.layers.index(model.get_layer("conv_1_bn")) + 1]
    features = kerasish.Model(model.input, last.output).predict(x, verbose=0)
    pooled = features.astype(np.float64).mean(axis=(1, 2), keepdims=True)
    logits = zh.conv2d(hard_swish(zh.conv2d(pooled, *zh.weights_of(model, "conv_2"))),
                       *zh.weights_of(model, "logits"))
    preds = model.predict(x, verbose=0)
    assert preds.shape == (2, 1000)
    np.testing.assert_allclose(preds, softmax(logits.reshape(2, -1)), rtol=1e-4, atol=1e-6)


def test_notop_file_from_a_path_and_from_the_cache(tmp_path, monkeypatch):
    kerasish.utils.clear_session()
    layout = MobileNetV3Large(weights=None, include_top=False, minimalistic=True,
                              input_shape=(32, 32, 3))
    fname = "weights_mobilenet_v3_large_minimalistic_224_1.0_float_no_top_v2.h5"
    path = tmp_path / fname
    written = write_tf_keras_weights_file(path, layout.layers, seed=33)
    by_path = MobileNetV3Large(weights=str(path), include_top=False, minimalistic=True,
                               pooling="avg", input_shape=(32, 32, 3))
    (tmp_path / "models").mkdir()
    os.replace(path, tmp_path / "models" / fname)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.warns(UserWarning, match="Weights for input shape"):
        cached = MobileNetV3Large(include_top=False, minimalistic=True, pooling="avg",
                                  input_shape=(32, 32, 3))
    for model in (by_path, cached):
        zh.assert_loaded(model, written, ["conv", "expanded_conv_6_depthwise", "conv_1_bn"])
    x = np.random.default_rng(34).uniform(0, 255, (2, 32, 32, 3)).astype("float32")
    out = by_path.predict(x, verbose=0)
    assert out.shape == (2, 960)
    np.testing.assert_array_equal(out, cached.predict(x, verbose=0))


# -- preprocessing and decoding -----------------------------------------------------------------
def test_preprocess_input_is_the_identity(xp):
    for value in (xp.asarray(np.array([[0.0, 255.0]], "float32")),
                  xp.asarray(np.array([[0, 255]], "uint8")),
                  engine.Tensor(xp.asarray(np.array([[0.0, 255.0]], "float32")))):
        out = mobilenet_v3.preprocess_input(value, data_format="channels_first")
        assert out is value  # unchanged, uint8 included, as Keras's
    assert engine.backend.to_numpy(value.data).tolist() == [[0.0, 255.0]]


def test_decode_predictions_and_public_names():
    preds = np.zeros((1, 1000), dtype="float32")
    preds[0, [0, 1, 2]] = [0.1, 0.3, 0.6]
    assert [row[1] for row in mobilenet_v3.decode_predictions(preds, top=3)[0]] == [
        "great_white_shark", "goldfish", "tench"]
    assert kerasish.applications.MobileNetV3Small is MobileNetV3Small
    assert kerasish.applications.MobileNetV3Large is MobileNetV3Large
    assert kerasish.applications.mobilenet_v3.preprocess_input is mobilenet_v3.preprocess_input
    assert kerasish.applications.mobilenet_v3.decode_predictions is (
        mobilenet_v3.decode_predictions)
