"""Shared by the zoo's tests: Keras 3.15's facts stored as JSON, Keras-layout legacy weight
files written with h5py, and plain-NumPy references of the zoo's building blocks."""
import json
import os
import re

import h5py
import numpy as np

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def keras_facts(model_key):
    """The facts about Keras 3.15's model (built with ``weights=None`` in a fresh session) that
    a one-off script saved in ``data/<model_key>.json``: per layer ``[name, class name,
    [[weight name, shape], ...], output shape]``, the model's name and parameter counts, and
    ``notop`` (``include_top=False, pooling="avg"`` at a small input size)."""
    with open(os.path.join(DATA, f"{model_key}.json"), encoding="utf-8") as f:
        return json.load(f)


def count(weights):
    return int(sum(int(np.prod(w.shape)) for w in weights))


def layer_facts(model):
    """Our model in the facts' layout (lists, as JSON has them)."""
    return [[layer.name, type(layer).__name__,
             [[w.name, list(w.shape)] for w in layer.weights], list(layer.output.shape)]
            for layer in model.layers]


def assert_matches_keras(model, facts):
    """Layer count, names in order, classes, per-layer weight names and shapes, output shapes
    and parameter counts equal Keras's."""
    ours = layer_facts(model)
    assert len(ours) == len(facts["layers"])
    assert [row[0] for row in ours] == [row[0] for row in facts["layers"]]
    for got, expected in zip(ours, facts["layers"]):
        assert got == expected, got[0]
    assert model.name == facts["name"]
    assert count(model.weights) == facts["total"]
    assert count(model.trainable_weights) == facts["trainable"]
    assert count(model.non_trainable_weights) == facts["non_trainable"]


def assert_summary_matches_keras(model, fixture):
    """``model.summary()`` equals Keras 3.15's text for the same model (``data/<fixture>``)."""
    lines = []
    model.summary(print_fn=lambda line, **kwargs: lines.append(line))
    with open(os.path.join(DATA, fixture), encoding="utf-8") as f:
        assert "\n".join(lines) + "\n" == f.read()


def assert_notop_matches_keras(model, facts):
    notop = facts["notop"]
    assert len(model.layers) == notop["num_layers"]
    assert [layer.name for layer in model.layers[-3:]] == notop["last"]
    assert sum(1 for layer in model.layers if layer.weights) == notop["weighted"]
    assert count(model.weights) == notop["total"]
    assert count(model.trainable_weights) == notop["trainable"]
    assert count(model.non_trainable_weights) == notop["non_trainable"]
    assert list(model.output_shape) == notop["output_shape"]


# -- Keras-layout weight files ------------------------------------------------------------------
AUTO_NAMED = ("conv2d", "batch_normalization", "activation", "max_pooling2d", "add",
              "average_pooling2d", "concatenate", "global_average_pooling2d",
              "global_max_pooling2d", "separable_conv2d", "dense")


def keras2_name(name):
    """Our (Keras 3) name -> the name Keras 2.0 gave the layer in the official files: 1-based
    automatic names (``conv2d`` -> ``conv2d_1``), ``input_1`` for the input."""
    if name == "input_layer":
        return "input_1"
    match = re.fullmatch(rf"({'|'.join(AUTO_NAMED)})(?:_(\d+))?", name)
    if match is None:  # a given name
        return name
    return f"{match.group(1)}_{int(match.group(2) or 0) + 1}"


def random_value(weight, rng):
    """A value for ``weight`` that keeps activations moderate through a deep network."""
    shape = tuple(weight.shape)
    if weight.name == "moving_variance":
        return rng.uniform(0.5, 1.5, shape).astype("float32")
    if weight.name == "gamma":
        return rng.uniform(0.5, 1.0, shape).astype("float32")
    if len(shape) > 1:
        fan_in = int(np.prod(shape[:-1]))
        return (rng.standard_normal(shape, dtype=np.float32) / np.sqrt(fan_in)).astype("float32")
    return (0.1 * rng.standard_normal(shape, dtype=np.float32)).astype("float32")


def write_keras2_weights_file(path, layers, seed):
    """The official files' layout (Keras 2, h5py 2): fixed-length byte-string attrs, Keras 2.0's
    layer names, weight names ``<layer>/<weight>:0``, empty float64 weight_names when weightless.

    Returns ``{our layer name: [values]}`` for the layers with weights.
    """
    rng = np.random.default_rng(seed)
    written = {}
    with h5py.File(path, "w") as f:
        names = [keras2_name(layer.name) for layer in layers]
        f.attrs["layer_names"] = np.array([n.encode() for n in names])
        f.attrs["backend"] = np.bytes_(b"tensorflow")
        f.attrs["keras_version"] = np.bytes_(b"2.2.4")
        for layer, name in zip(layers, names):
            group = f.create_group(name)
            weight_names = [f"{name}/{w.name}:0" for w in layer.weights]
            group.attrs["weight_names"] = (np.array([n.encode() for n in weight_names])
                                           if weight_names else np.zeros((0,)))
            values = [random_value(w, rng) for w in layer.weights]
            for weight_name, value in zip(weight_names, values):
                group.create_dataset(weight_name, data=value)
            if values:
                written[layer.name] = values
    return written


def assert_loaded(model, written, names):
    for name in names:
        got = [np.asarray(w.numpy()) for w in model.get_layer(name).weights]
        assert len(got) == len(written[name]), name
        for value, expected in zip(got, written[name]):
            np.testing.assert_array_equal(value, expected)


# -- NumPy references (NHWC, HWIO kernels), float64 --------------------------------------------
def same_padding(size, kernel, stride):
    """TensorFlow's "same": (before, after) with the extra row/column after."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def pad(x, rows, cols, value=0.0):
    return np.pad(x, ((0, 0), rows, cols, (0, 0)), constant_values=value)


def conv2d(x, kernel, bias=None, stride=1, padding="valid"):
    x, kernel = np.asarray(x, np.float64), np.asarray(kernel, np.float64)
    kh, kw = kernel.shape[:2]
    if padding == "same":
        x = pad(x, same_padding(x.shape[1], kh, stride), same_padding(x.shape[2], kw, stride))
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    y = np.zeros((x.shape[0], oh, ow, kernel.shape[3]))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride]
            y += patch @ kernel[i, j]
    return y if bias is None else y + bias


def depthwise_conv2d(x, kernel, stride=1, padding="same"):
    """``kernel`` (kh, kw, C, 1): each channel convolved with its own filter."""
    x = np.asarray(x, np.float64)
    kh, kw = kernel.shape[:2]
    if padding == "same":
        x = pad(x, same_padding(x.shape[1], kh, stride), same_padding(x.shape[2], kw, stride))
    oh, ow = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    y = np.zeros((x.shape[0], oh, ow, x.shape[3]))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, i:i + stride * (oh - 1) + 1:stride, j:j + stride * (ow - 1) + 1:stride]
            y += patch * kernel[i, j, :, 0]
    return y


def batch_norm(x, gamma, beta, mean, variance, epsilon):
    scale = 1.0 if gamma is None else np.asarray(gamma, np.float64)
    return (x - mean) / np.sqrt(np.asarray(variance, np.float64) + epsilon) * scale + beta


def relu(x):
    return np.maximum(x, 0.0)


def max_pool(x, size, stride, padding="valid"):
    if padding == "same":
        x = pad(x, same_padding(x.shape[1], size, stride), same_padding(x.shape[2], size, stride),
                value=-np.inf)
    oh, ow = (x.shape[1] - size) // stride + 1, (x.shape[2] - size) // stride + 1
    y = np.full((x.shape[0], oh, ow, x.shape[3]), -np.inf)
    for i in range(size):
        for j in range(size):
            y = np.maximum(y, x[:, i:i + stride * (oh - 1) + 1:stride,
                                j:j + stride * (ow - 1) + 1:stride])
    return y


def bn_of(model, name, epsilon):
    """The reference batch normalization with the weights of ``model``'s layer ``name``."""
    weights = {w.name: np.asarray(w.numpy(), np.float64) for w in model.get_layer(name).weights}
    return lambda x: batch_norm(x, weights.get("gamma"), weights["beta"], weights["moving_mean"],
                                weights["moving_variance"], epsilon)


def weights_of(model, name):
    return [np.asarray(w.numpy(), np.float64) for w in model.get_layer(name).weights]
