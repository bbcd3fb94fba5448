"""Shared by the EfficientNet, EfficientNetV2 and ConvNeXt tests: Keras 3.15's facts compared
with the two differences kerasish has on purpose (or still), a Keras-layout weights file for
models with nested models and preprocessing weights, and NumPy references of their pieces."""
import math

import h5py
import numpy as np
import pytest

import kerasish
from tests.applications import zoo_helpers as zh


@pytest.fixture
def zero_weights(monkeypatch):
    """Builds models with every weight initialized to zeros: np.zeros leaves the pages
    untouched, so the biggest models (ConvNeXtXLarge's 350 M parameters) build in a second
    and in little memory, for tests of layers, shapes and counts only."""
    monkeypatch.setattr(kerasish.initializers, "get",
                        lambda identifier: lambda shape, dtype=None: np.zeros(shape, dtype))


def is_op_layer(layer):
    """A ``keras.ops`` call on symbolic tensors (``inputs + x``): an operation outside
    ``model.layers`` in Keras 3."""
    return type(layer).__module__.startswith("kerasish.ops")


def operations(model):
    """Every layer and op of a functional model, in Keras's order (``model.operations``)."""
    return list(getattr(model, "operations", model.layers))


def num_ops(model):
    return sum(1 for op in operations(model) if is_op_layer(op))


def keras_rows(model):
    """Our model in the facts' layout, without op layers. kerasish names DepthwiseConv2D's
    weight ``depthwise_kernel`` (tf.keras's name, its layer tests pin it); Keras 3 calls it
    ``kernel``: compared as Keras's."""
    rows = []
    for layer in model.layers:
        if is_op_layer(layer):
            continue
        weights = [["kernel" if type(layer).__name__ == "DepthwiseConv2D"
                    and w.name == "depthwise_kernel" else w.name, list(w.shape)]
                   for w in layer.weights]
        rows.append([layer.name, type(layer).__name__, weights, list(layer.output.shape)])
    return rows


def assert_summary_matches_keras(model, fixture, ignore_last_size=False):
    """``model.summary()`` equals Keras 3.15's text (``data/<fixture>``); with
    ``ignore_last_size`` the non-trainable weights' size in bytes is left out (Keras on JAX
    keeps an adapted Normalization's ``count`` as int32, kerasish as int64)."""
    lines = []
    model.summary(print_fn=lambda line, **kwargs: lines.append(line))
    with open(f"{zh.DATA}/{fixture}", encoding="utf-8") as f:
        expected = f.read().split("\n")
    got = ("\n".join(lines) + "\n").split("\n")
    if ignore_last_size:
        got, expected = ([line.split(" (")[0] if "Non-trainable params" in line else line
                          for line in text] for text in (got, expected))
    assert got == expected


def assert_matches_keras(model, facts):
    """Layer count, names in order, classes, per-layer weight names and shapes, output shapes,
    the number of ops, the model's name and its parameter counts equal Keras's."""
    ours = keras_rows(model)
    assert len(ours) == len(facts["layers"])
    assert [row[0] for row in ours] == [row[0] for row in facts["layers"]]
    for got, expected in zip(ours, facts["layers"]):
        assert got == expected, got[0]
    assert num_ops(model) == facts["num_ops"]
    assert model.name == facts["name"]
    assert zh.count(model.weights) == facts["total"]
    assert zh.count(model.trainable_weights) == facts["trainable"]
    assert zh.count(model.non_trainable_weights) == facts["non_trainable"]


def assert_notop_matches_keras(model, facts):
    notop = facts["notop"]
    layers = [layer for layer in model.layers if not is_op_layer(layer)]
    assert len(layers) == notop["num_layers"]
    assert [layer.name for layer in layers[-3:]] == notop["last"]
    assert sum(1 for layer in layers if layer.weights) == notop["weighted"]
    assert zh.count(model.weights) == notop["total"]
    assert zh.count(model.trainable_weights) == notop["trainable"]
    assert zh.count(model.non_trainable_weights) == notop["non_trainable"]
    assert list(model.output_shape) == notop["output_shape"]


# -- Keras-layout weight files ------------------------------------------------------------------
def _value(weight, rng):
    if weight.name == "count":  # an adapted Normalization's sample count: int64, shape ()
        return np.int64(rng.integers(1, 10**6))
    if weight.name == "variance":  # an adapted Normalization's variance: positive
        return rng.uniform(0.04, 0.09, tuple(weight.shape)).astype("float32")
    if weight.name == "mean":
        return rng.uniform(0.4, 0.5, tuple(weight.shape)).astype("float32")
    return zh.random_value(weight, rng)


def _weight_names(layer, group_name):
    """tf.keras's weight names in the file: a nested model's weights carry their inner
    layers' names (``convnext_tiny_stem_conv/kernel:0``)."""
    inner = [sub for sub in getattr(layer, "layers", []) if sub.weights]
    if inner:
        return [f"{sub.name}/{w.name}:0" for sub in inner for w in sub.weights]
    return [f"{group_name}/{w.name}:0" for w in layer.weights]


def write_keras_weights_file(path, layers, seed):
    """The official files' layout (tf.keras ``save_weights`` to HDF5): byte-string attrs, one
    group per layer in ``layer_names`` order, datasets at ``<group>/<weight name>``, empty
    ``weight_names`` when weightless. Op layers are kept (tf.keras's TFOpLambda layers).

    Returns ``{our layer name: [values]}`` for the layers with weights.
    """
    rng = np.random.default_rng(seed)
    written = {}
    with h5py.File(path, "w") as f:
        names = [zh.keras2_name(layer.name) for layer in layers]
        f.attrs["layer_names"] = np.array([n.encode() for n in names])
        f.attrs["backend"] = np.bytes_(b"tensorflow")
        f.attrs["keras_version"] = np.bytes_(b"2.9.0")
        for layer, name in zip(layers, names):
            group = f.create_group(name)
            weight_names = _weight_names(layer, name)
            group.attrs["weight_names"] = (np.array([n.encode() for n in weight_names])
                                           if weight_names else np.zeros((0,)))
            values = [_value(w, rng) for w in layer.weights]
            for weight_name, value in zip(weight_names, values):
                group.create_dataset(weight_name, data=value)
            if values:
                written[layer.name] = values
    return written


# -- NumPy references (NHWC), float64 -----------------------------------------------------------
def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def swish(x):
    return x * sigmoid(x)


def gelu(x):
    """The exact GELU, ``x * Phi(x)`` (Keras's ``Activation("gelu")``)."""
    return x * 0.5 * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def layer_norm(x, gamma, beta, epsilon):
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + epsilon) * gamma + beta


def squeeze_excite(model, x, name):
    """``name``se_squeeze ... se_excite: mean over space, 1x1 swish, 1x1 sigmoid, multiply."""
    se = x.mean(axis=(1, 2), keepdims=True)
    se = swish(zh.conv2d(se, *zh.weights_of(model, f"{name}se_reduce")))
    se = sigmoid(zh.conv2d(se, *zh.weights_of(model, f"{name}se_expand")))
    return x * se
