"""InceptionV3 against facts about Keras's model and files (Keras's "InceptionV3 layer
names"), weights files written here with h5py in Keras 2.0's layout, and the ImageNet helpers."""
import hashlib
import os
import re

import h5py
import numpy as np
import pytest

import applications
import kerasish
from applications import InceptionV3, decode_predictions, imagenet_utils, preprocess_input

TOP_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
NOTOP_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
ORIGIN = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"


@pytest.fixture(scope="module")
def top_model():
    kerasish.utils.clear_session()  # Keras's names are those of a fresh session
    return InceptionV3(weights=None)


@pytest.fixture(scope="module")
def names(top_model):
    return [layer.name for layer in top_model.layers]


# -- architecture -------------------------------------------------------------------------------
def test_layer_counts_first_and_last_names(top_model, names):
    assert len(names) == 313
    assert names[0] == "input_layer"  # Keras 3's name; tf-keras says input_1
    assert names[-2:] == ["avg_pool", "predictions"]
    assert len(set(names)) == 313
    for prefix, count in [("conv2d", 94), ("batch_normalization", 94), ("activation", 94),
                          ("max_pooling2d", 4), ("average_pooling2d", 9), ("concatenate", 2)]:
        expected = {prefix} | {f"{prefix}_{i}" for i in range(1, count)}
        assert {n for n in names if re.fullmatch(rf"{prefix}(_\d+)?", n)} == expected, prefix
    mixed = {f"mixed{i}" for i in range(11)} | {"mixed9_0", "mixed9_1"}
    assert {n for n in names if n.startswith("mixed")} == mixed
    assert sum(1 for layer in top_model.layers if layer.weights) == 189


def test_layer_order_is_keras_depth_order(names):
    # model.layers is not creation order: mixed0's 5x5 and 3x3 branches are deeper than 1x1.
    assert names[:30] == [
        "input_layer", "conv2d", "batch_normalization", "activation", "conv2d_1",
        "batch_normalization_1", "activation_1", "conv2d_2", "batch_normalization_2",
        "activation_2", "max_pooling2d", "conv2d_3", "batch_normalization_3", "activation_3",
        "conv2d_4", "batch_normalization_4", "activation_4", "max_pooling2d_1", "conv2d_8",
        "batch_normalization_8", "activation_8", "conv2d_6", "conv2d_9", "batch_normalization_6",
        "batch_normalization_9", "activation_6", "activation_9", "average_pooling2d", "conv2d_5",
        "conv2d_7"]
    assert names.index("conv2d_8") < names.index("conv2d_5")
    # Each block ends with its concatenation, so the mixed layers sit at the running sums of the
    # blocks' sizes: the stem is 18 layers (input, 5 conv-bn-relu, 2 pools); a block adds 3 per
    # conv2d_bn, one per pool and one per concatenation.
    sizes = {"mixed0": 23, "mixed1": 23, "mixed2": 23, "mixed3": 14, "mixed4": 32,
             "mixed5": 32, "mixed6": 32, "mixed7": 32, "mixed8": 20, "mixed9": 31, "mixed10": 31}
    end = 17
    for name, size in sizes.items():
        end += size
        assert names.index(name) == end, name
    # Keras's fine-tuning guide freezes `model.layers[:249]`: everything up to mixed8.
    assert names.index("mixed8") == 248


def test_weight_shapes_and_outputs_from_the_architecture(top_model):
    def shapes(name):
        return [tuple(w.shape) for w in top_model.get_layer(name).weights]

    assert shapes("conv2d") == [(3, 3, 3, 32)]  # no bias
    assert shapes("batch_normalization") == [(32,)] * 3  # scale=False: no gamma
    assert [w.name for w in top_model.get_layer("batch_normalization").weights] == [
        "beta", "moving_mean", "moving_variance"]
    assert shapes("conv2d_4") == [(3, 3, 80, 192)]
    assert shapes("conv2d_5") == [(1, 1, 192, 64)]  # mixed0's 1x1 branch
    assert shapes("conv2d_6") == [(1, 1, 192, 48)]
    assert shapes("conv2d_7") == [(5, 5, 48, 64)]
    assert shapes("conv2d_11") == [(1, 1, 192, 32)]  # mixed0's pool branch
    assert shapes("conv2d_93") == [(1, 1, 2048, 192)]  # mixed10's pool branch
    assert shapes("predictions") == [(2048, 1000), (1000,)]
    for name, shape in [("mixed0", (35, 35, 256)), ("mixed2", (35, 35, 288)),
                        ("mixed3", (17, 17, 768)), ("mixed7", (17, 17, 768)),
                        ("mixed8", (8, 8, 1280)), ("mixed9_0", (8, 8, 768)),
                        ("mixed10", (8, 8, 2048))]:
        assert top_model.get_layer(name).output.shape == (None,) + shape, name


def test_parameter_counts(top_model):
    trainable = sum(int(np.prod(w.shape)) for w in top_model.trainable_weights)
    assert top_model.count_params() == 23_851_784
    assert trainable == 23_817_352
    notop = InceptionV3(weights=None, include_top=False, pooling="avg")
    assert len(notop.layers) == 312
    assert notop.layers[-1].name.startswith("global_average_pooling2d")
    assert notop.count_params() == 21_802_784
    assert sum(1 for layer in notop.layers if layer.weights) == 188
    assert notop.input_shape == (None, None, None, 3)  # any size without the top
    assert notop.output_shape == (None, 2048)


def test_notop_any_size():
    model = InceptionV3(weights=None, include_top=False, pooling="avg", input_shape=(75, 75, 3))
    assert model.name == "inception_v3"
    out = model.predict(np.random.rand(2, 75, 75, 3).astype("float32"), verbose=0)
    assert out.shape == (2, 2048) and np.isfinite(out).all()
    # Without pooling: four valid stride-2 reductions take 80 x 120 down to 1 x 2.
    wide = InceptionV3(weights=None, include_top=False, input_shape=(80, 120, 3))
    assert wide.output_shape == (None, 1, 2, 2048)


def test_input_tensor_keeps_its_source_inputs():
    images = kerasish.Input((75, 75, 3))
    scaled = kerasish.layers.Activation("linear")(images)
    model = InceptionV3(weights=None, include_top=False, input_tensor=scaled, pooling="max")
    assert model.inputs[0] is images
    assert len(model.layers) == 313  # the Activation in front and the global max pooling
    assert model.layers[-1].name.startswith("global_max_pooling2d")
    assert model.output_shape == (None, 2048)


# -- argument checks (Keras's texts) -------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    ({"weights": "bogus"}, "The `weights` argument should be either `None` (random "
     "initialization), `imagenet` (pre-training on ImageNet), or the path to the weights file "
     "to be loaded; Received: weights=bogus"),
    ({"classes": 10}, 'If using `weights="imagenet"` with `include_top=True`, `classes` should '
     "be 1000. Received classes=10"),
    ({"input_shape": (150, 150, 3)}, "When setting `include_top=True` and loading `imagenet` "
     "weights, `input_shape` should be (299, 299, 3).  Received: input_shape=(150, 150, 3)"),
    ({"weights": None, "include_top": False, "input_shape": (74, 80, 3)},
     "Input size must be at least 75x75; Received: input_shape=(74, 80, 3)"),
    ({"include_top": False, "input_shape": (80, 80, 1)},
     "The input must have 3 channels; Received `input_shape=(80, 80, 1)`"),
    ({"weights": None, "input_shape": (None, None, 3)}, "If `include_top` is True, you should "
     "specify a static `input_shape`. Received: input_shape=(None, None, 3)"),
])
def test_argument_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        InceptionV3(**kwargs)
    assert str(info.value) == message


def test_pretrained_weights_allow_only_softmax_or_none(tmp_path):
    with pytest.raises(ValueError, match="Only `None` and `softmax` activations are allowed"):
        imagenet_utils.validate_activation("relu", "imagenet")
    imagenet_utils.validate_activation(None, str(tmp_path))
    imagenet_utils.validate_activation("relu", None)


def test_missing_imagenet_file_names_the_path_and_url(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        InceptionV3(include_top=False, input_shape=(75, 75, 3))
    text = str(info.value)
    assert os.path.join(str(tmp_path), "models", NOTOP_FILE) in text
    assert ORIGIN + NOTOP_FILE in text


# -- loading Keras's files by topology -----------------------------------------------------------
def keras2_name(name):
    """Our (Keras 3 / tf-keras) automatic name -> the 1-based name Keras 2.0 gave the layer."""
    if name == "input_layer":
        return "input_1"
    match = re.fullmatch(r"(conv2d|batch_normalization|activation|max_pooling2d|"
                         r"average_pooling2d|concatenate|global_average_pooling2d)(?:_(\d+))?",
                         name)
    if match is None:  # mixed*, avg_pool, predictions: given names
        return name
    return f"{match.group(1)}_{int(match.group(2) or 0) + 1}"


def random_value(weight, rng):
    shape = tuple(weight.shape)
    if weight.name == "moving_variance":
        return rng.uniform(0.5, 1.5, shape).astype("float32")
    if len(shape) > 1:  # kernels, scaled so that activations stay moderate through 94 convs
        fan_in = int(np.prod(shape[:-1]))
        return (rng.standard_normal(shape, dtype=np.float32) / np.sqrt(fan_in)).astype("float32")
    return (0.1 * rng.standard_normal(shape, dtype=np.float32)).astype("float32")


def write_keras2_weights_file(path, model, seed):
    """The official files' layout (Keras 2.0, h5py 2): fixed-length byte-string attrs, 1-based
    layer names, weight names `<layer>/<weight>:0`, empty float64 weight_names when weightless."""
    rng = np.random.default_rng(seed)
    written = {}
    with h5py.File(path, "w") as f:
        layer_names = [keras2_name(layer.name) for layer in model.layers]
        f.attrs["layer_names"] = np.array([n.encode() for n in layer_names])
        f.attrs["backend"] = np.bytes_(b"tensorflow")
        f.attrs["keras_version"] = np.bytes_(b"2.0.8")
        for layer, name in zip(model.layers, layer_names):
            group = f.create_group(name)
            weight_names = [f"{name}/{w.name}:0" for w in layer.weights]
            group.attrs["weight_names"] = (np.array([n.encode() for n in weight_names])
                                           if weight_names else np.zeros((0,)))
            written[name] = []
            for weight, weight_name in zip(layer.weights, weight_names):
                value = random_value(weight, rng)
                group.create_dataset(weight_name, data=value)
                written[name].append(value)
    return written


def test_imagenet_top_file_loads_by_topology_and_predicts(tmp_path, monkeypatch, top_model):
    models_dir = tmp_path / "models"
    models_dir.mkdir()
    written = write_keras2_weights_file(models_dir / TOP_FILE, top_model, seed=1)
    assert "conv2d_94" in written and "conv2d_0" not in written  # 1-based, as Keras 2.0 named
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    kerasish.utils.clear_session()
    model = InceptionV3(weights="imagenet")
    # Keras 2.0's conv2d_1 is our conv2d, its conv2d_9 our conv2d_8, and so on.
    for ours, theirs in [("conv2d", "conv2d_1"), ("conv2d_8", "conv2d_9"),
                         ("batch_normalization_50", "batch_normalization_51"),
                         ("conv2d_93", "conv2d_94"), ("predictions", "predictions")]:
        got = [np.asarray(w.numpy()) for w in model.get_layer(ours).weights]
        assert len(got) == len(written[theirs])
        for value, expected in zip(got, written[theirs]):
            np.testing.assert_array_equal(value, expected)
    images = np.random.default_rng(2).uniform(0, 255, (2, 299, 299, 3)).astype("float32")
    preds = model.predict(preprocess_input(images), verbose=0)
    assert preds.shape == (2, 1000)
    assert np.isfinite(preds).all()
    np.testing.assert_allclose(preds.sum(axis=1), 1.0, rtol=1e-5)
    assert len(decode_predictions(preds, top=3)[1]) == 3


def test_notop_file_from_a_path_and_from_the_cache(tmp_path, monkeypatch, top_model):
    class Notop:  # Keras's notop file: the same layers without avg_pool and predictions
        layers = top_model.layers[:-2]

    models_dir = tmp_path / "models"
    models_dir.mkdir()
    written = write_keras2_weights_file(models_dir / NOTOP_FILE, Notop, seed=3)
    by_path = InceptionV3(weights=models_dir / NOTOP_FILE, include_top=False, pooling="avg",
                          input_shape=(75, 75, 3))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    cached = InceptionV3(include_top=False, pooling="avg", input_shape=(75, 75, 3))
    file_weighted = [keras2_name(layer.name) for layer in Notop.layers if layer.weights]
    assert file_weighted[0] == "conv2d_1" and file_weighted[-1] == "batch_normalization_94"
    for loaded in (by_path, cached):
        weighted = [layer for layer in loaded.layers if layer.weights]
        for k in (0, 1, 100, -1):
            for variable, value in zip(weighted[k].weights, written[file_weighted[k]]):
                np.testing.assert_array_equal(variable.numpy(), value)
    x = np.random.default_rng(4).uniform(-1, 1, (2, 75, 75, 3)).astype("float32")
    np.testing.assert_allclose(by_path.predict(x, verbose=0), cached.predict(x, verbose=0))


# -- ImageNet helpers ----------------------------------------------------------------------------
def test_preprocess_input_modes():
    pixels = np.array([[[0.0, 127.5, 255.0]]], dtype="float32")
    x = pixels.copy()
    out = preprocess_input(x)  # InceptionV3's: mode "tf"
    np.testing.assert_allclose(out, [[[-1.0, 0.0, 1.0]]])
    assert out is x  # float arrays are updated in place, as in Keras
    ints = preprocess_input(np.array([[[0, 255, 51]]], dtype="uint8"))
    assert ints.dtype == np.float32
    np.testing.assert_allclose(ints, [[[-1.0, 1.0, -0.6]]], rtol=1e-6)
    torch = imagenet_utils.preprocess_input(pixels.copy(), mode="torch")
    np.testing.assert_allclose(
        torch, [[[(0 - 0.485) / 0.229, (0.5 - 0.456) / 0.224, (1 - 0.406) / 0.225]]], rtol=1e-6)
    caffe = imagenet_utils.preprocess_input(pixels.copy(), mode="caffe")  # RGB -> BGR, - mean
    np.testing.assert_allclose(caffe, [[[255 - 103.939, 127.5 - 116.779, 0 - 123.68]]],
                               rtol=1e-6)
    first = imagenet_utils.preprocess_input(pixels.reshape(3, 1, 1).copy(), mode="caffe",
                                            data_format="channels_first")
    np.testing.assert_allclose(first.ravel(), caffe.ravel(), rtol=1e-6)
    with pytest.raises(ValueError, match=r"Expected mode to be one of `caffe`, `tf` or "
                                         r"`torch`. Received: mode=bogus"):
        imagenet_utils.preprocess_input(pixels, mode="bogus")


def test_class_index_is_keras_file():
    with open(imagenet_utils.CLASS_INDEX_FILE, "rb") as f:
        data = f.read()
    # The md5 Keras's get_file checks for imagenet_class_index.json.
    assert hashlib.md5(data).hexdigest() == "c2c37ea517e94d9795004a39431a14cb"


def test_decode_predictions():
    preds = np.zeros((2, 1000), dtype="float32")
    preds[0, 1] = 1.0
    preds[1, [999, 0, 500]] = [0.5, 0.3, 0.2]
    decoded = decode_predictions(preds, top=3)
    assert decoded[0][0] == ("n01443537", "goldfish", np.float32(1.0))
    assert [row[:2] for row in decoded[1]] == [
        ("n15075141", "toilet_tissue"), ("n01440764", "tench"), ("n03042490", "cliff_dwelling")]
    assert len(decode_predictions(preds)[0]) == 5
    with pytest.raises(ValueError, match=r"Received array with shape: \(2, 10\)"):
        decode_predictions(np.zeros((2, 10)))


def test_public_names():
    assert kerasish.applications.InceptionV3 is InceptionV3
    assert applications.inception_v3.InceptionV3 is InceptionV3
    assert applications.inception_v3.preprocess_input is preprocess_input


def test_name_argument():
    model = InceptionV3(weights=None, include_top=False, input_shape=(75, 75, 3), name="iv3")
    assert model.name == "iv3"  # Keras 3's argument (default "inception_v3")
