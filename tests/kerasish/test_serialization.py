"""Keras's JSON configs: kerasish's get_config/to_json against hand-written Keras 3 configs (key
order included), round trips, tf.keras 2 configs written by hand, Lambda safe mode, custom
objects (docs/file-formats.md, "config.json" and "Legacy full-model .h5")."""
import base64
import json
import marshal

import numpy as np
import pytest

import kerasish as keras
from engine import ops
from kerasish import layers
from kerasish.saving.serialization import deserialize_keras_object, serialize_keras_object

DTYPE = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
         "registered_name": None}
GLOROT = {"module": "keras.initializers", "class_name": "GlorotUniform",
          "config": {"seed": None, "input_axes": None, "output_axes": None},
          "registered_name": None}
ZEROS = {"module": "keras.initializers", "class_name": "Zeros", "config": {},
         "registered_name": None}
LAMBDA_ERROR = (
    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. "
    "This carries a potential risk of arbitrary code execution and thus it is disallowed by "
    "default. If you trust the source of the artifact, you can override this error by passing "
    "`safe_mode=False` to the loading function, or calling "
    "`keras.config.enable_unsafe_deserialization().")


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.utils.clear_session()


def as_json(value):
    """What ``json.dumps`` writes: tuples become lists; key order is kept."""
    return json.loads(json.dumps(value))


def dense_config(name, units, activation="linear"):
    return {"name": name, "trainable": True, "dtype": DTYPE, "units": units,
            "activation": activation, "use_bias": True, "kernel_initializer": GLOROT,
            "bias_initializer": ZEROS, "kernel_regularizer": None, "bias_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None, "quantization_config": None}


def tensor(shape, name, node=0, index=0):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": "float32", "keras_history": [name, node, index]}}


def input_entry(name, shape):
    return {"module": "keras.layers", "class_name": "InputLayer",
            "config": {"batch_shape": shape, "dtype": "float32", "sparse": False,
                       "ragged": False, "name": name, "optional": False},
            "registered_name": None, "name": name, "inbound_nodes": []}


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def same_outputs(model, clone, x):
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert [w.shape for w in clone.weights] == [w.shape for w in model.weights]
    clone.set_weights(model.get_weights())
    expected, actual = model.predict(x, verbose=0), clone.predict(x, verbose=0)
    assert type(actual) is type(expected)
    for a, b in zip(*(v if isinstance(v, list) else [v] for v in (expected, actual))):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def two_inputs():
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    merged = layers.Concatenate(name="concatenate")([a, b])
    return keras.Model([a, b], layers.Dense(1, name="dense_2")(merged), name="two")


# -- get_config in Keras 3's exact format -------------------------------------------------------

def test_functional_config_exactly_as_keras_writes_it():
    config = as_json(two_inputs().get_config())
    concat = {"module": "keras.layers", "class_name": "Concatenate",
              "config": {"name": "concatenate", "trainable": True, "dtype": DTYPE, "axis": -1},
              "registered_name": None, "build_config": {"input_shape": [[None, 4], [None, 4]]},
              "name": "concatenate",
              "inbound_nodes": [{"args": [[tensor([None, 4], "a"), tensor([None, 4], "b")]],
                                 "kwargs": {}}]}
    dense = {"module": "keras.layers", "class_name": "Dense",
             "config": dense_config("dense_2", 1), "registered_name": None,
             "build_config": {"input_shape": [None, 8]}, "name": "dense_2",
             "inbound_nodes": [{"args": [tensor([None, 8], "concatenate")], "kwargs": {}}]}
    expected = {"name": "two", "trainable": True,
                "layers": [input_entry("a", [None, 4]), input_entry("b", [None, 4]), concat,
                           dense],
                "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": ["dense_2", 0, 0]}
    assert json.dumps(config) == json.dumps(expected)  # the key order too


def test_sequential_to_json_exactly_as_keras_writes_it():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2, activation="relu")],
                             name="seq")
    top = json.loads(model.to_json())
    assert list(top) == ["module", "class_name", "config", "registered_name", "build_config",
                         "compile_config"]
    assert (top["module"], top["class_name"], top["registered_name"]) == \
        ("keras", "Sequential", None)
    assert top["build_config"] == {"input_shape": [None, 4]} and top["compile_config"] == {}
    input_layer = {k: v for k, v in input_entry("input_layer", [None, 4]).items()
                   if k not in ("name", "inbound_nodes")}
    dense = {"module": "keras.layers", "class_name": "Dense",
             "config": dense_config("dense", 2, "relu"), "registered_name": None,
             "build_config": {"input_shape": [None, 4]}}
    expected = {"name": "seq", "trainable": True, "dtype": DTYPE,
                "layers": [input_layer, dense], "build_input_shape": [None, 4]}
    assert json.dumps(top["config"]) == json.dumps(expected)


def test_shared_layer_nodes_and_foreign_calls_are_reindexed():
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    shared = layers.Dense(2, name="shared")
    shared(keras.Input((3,), name="elsewhere"))  # a call outside the model: not its node
    out = layers.Add(name="add")([shared(a), shared(b)])
    model = keras.Model([a, b], out)
    entries = {e["name"]: e for e in as_json(model.get_config())["layers"]}
    assert [node["args"][0]["config"]["keras_history"]
            for node in entries["shared"]["inbound_nodes"]] == [["a", 0, 0], ["b", 0, 0]]
    assert entries["add"]["inbound_nodes"] == [{"args": [[tensor([None, 2], "shared", 0),
                                                         tensor([None, 2], "shared", 1)]],
                                                "kwargs": {}}]
    same_outputs(model, keras.Model.from_config(model.get_config()), [rand(2, 3), rand(2, 3)])


def test_layer_shared_at_two_depths_waits_for_its_second_input():
    x = keras.Input((3,), name="x")
    shared = layers.Dense(3, name="shared")
    out = shared(layers.Dense(3, name="middle")(shared(x)))
    model = keras.Model(x, out, trainable=False)
    clone = keras.Model.from_config(as_json(model.get_config()))
    assert not clone.trainable and len(clone.get_layer("shared")._inbound_nodes) == 2
    same_outputs(model, clone, rand(2, 3))


def test_nested_models_and_multi_io():
    inner_in = keras.Input((4,), name="inner_in")
    inner = keras.Model(inner_in, layers.Dense(3, name="inner_dense")(inner_in), name="inner")
    seq = keras.Sequential([keras.Input((3,)), layers.Dense(2, name="seq_dense")], name="seq")
    x, z = keras.Input((4,), name="x"), keras.Input((2,), name="z")
    h = inner(x)
    model = keras.Model([x, z], [seq(h), h, z], name="outer")
    config = as_json(model.get_config())
    assert config["input_layers"] == [["x", 0, 0], ["z", 0, 0]]
    # Keras counts a nested functional model's calls from 1 here, but from 0 inside nodes.
    assert config["output_layers"] == [["seq", 0, 0], ["inner", 1, 0], ["z", 0, 0]]
    entries = {e["name"]: e for e in config["layers"]}
    assert entries["seq"]["inbound_nodes"] == [{"args": [tensor([None, 3], "inner", 0)],
                                                "kwargs": {"mask": None}}]
    assert (entries["inner"]["module"], entries["inner"]["registered_name"]) == \
        ("keras.src.models.functional", "Functional")
    assert entries["inner"]["build_config"] == {"input_shape": None}
    assert entries["seq"]["build_config"] == {"input_shape": [None, 3]}
    clone = deserialize_keras_object(json.loads(model.to_json()))
    same_outputs(model, clone, [rand(2, 4), rand(2, 2)])
    assert isinstance(clone.get_layer("seq"), keras.Sequential)


# -- round trips ----------------------------------------------------------------------------------

def test_round_trip_conv_net_and_to_json():
    model = keras.Sequential([
        keras.Input((8, 8, 3)), layers.Conv2D(4, 3, padding="same", use_bias=False),
        layers.BatchNormalization(scale=False), layers.Activation("relu"),
        layers.MaxPooling2D(), layers.Flatten(), layers.Dropout(0.5), layers.Dense(3)])
    same_outputs(model, keras.models.model_from_json(model.to_json()), rand(2, 8, 8, 3))


def test_round_trip_masked_rnn_and_wrappers():
    tokens = keras.Input((5,), dtype="int32", name="tokens")
    x = layers.Embedding(10, 4, mask_zero=True)(tokens)
    x = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(x)
    model = keras.Model(tokens, layers.GRU(2)(x))
    ids = np.array([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0]], np.int32)
    same_outputs(model, keras.Model.from_config(as_json(model.get_config())), ids)
    inner = keras.Sequential([keras.Input((6,)), layers.Dense(2)], name="inner")
    frames = keras.Input((5, 6))
    model = keras.Model(frames, layers.TimeDistributed(inner)(frames))
    entry = as_json(model.get_config())["layers"][1]
    assert entry["inbound_nodes"][0]["kwargs"] == {"mask": None}
    assert entry["config"]["layer"]["build_config"] == {"input_shape": [None, 6]}
    same_outputs(model, keras.Model.from_config(model.get_config()), rand(2, 5, 6))


def test_clone_model_has_fresh_weights_and_the_same_architecture():
    model = two_inputs()
    clone = keras.models.clone_model(model)
    assert clone is not model and clone.get_config() == model.get_config()
    assert not np.array_equal(clone.get_weights()[0], model.get_weights()[0])


# -- tf.keras 2's dialect, written as tf-keras writes it ---------------------------------------

def tf_dense(name, units, activation="linear", **extra):
    return {"class_name": "Dense", "config": {
        "name": name, "trainable": True, "dtype": "float32", **extra, "units": units,
        "activation": activation, "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
        "bias_constraint": None}}


def tf_input(name, shape):
    return {"class_name": "InputLayer", "config": {"batch_input_shape": shape,
                                                   "dtype": "float32", "sparse": False,
                                                   "ragged": False, "name": name}}


def test_tf_keras2_sequential_with_and_without_input_layer():
    with_input = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        tf_input("dense_input", [None, 3]), tf_dense("dense", 2, "relu")]},
        "keras_version": "2.21.0", "backend": "tensorflow"}
    model = keras.models.model_from_json(json.dumps(with_input))
    assert model.built and [layer.name for layer in model.layers] == ["dense"]
    kernel, bias = rand(3, 2), rand(2)
    model.set_weights([kernel, bias])
    x = rand(4, 3)
    np.testing.assert_allclose(model.predict(x, verbose=0), np.maximum(x @ kernel + bias, 0),
                               rtol=1e-5, atol=1e-6)
    old = {"class_name": "Sequential", "config": {"name": "old", "layers": [
        tf_dense("dense", 2, batch_input_shape=[None, 3])]}}
    model = deserialize_keras_object(old)
    assert model.built and model.input_shape == (None, 3)
    assert model._stack[0].name == "dense_input"


def test_tf_keras2_functional_nested_lists_shared_layer_and_nested_sequential():
    inner = {"class_name": "Sequential", "config": {"name": "inner", "layers": [
        tf_input("inner_input", [None, 2]), tf_dense("inner_dense", 2)]}}
    config = {"class_name": "Functional", "config": {
        "name": "model", "trainable": True, "layers": [
            {**tf_input("a", [None, 3]), "name": "a", "inbound_nodes": []},
            {**tf_input("b", [None, 3]), "name": "b", "inbound_nodes": []},
            {**tf_dense("shared", 2), "name": "shared",
             "inbound_nodes": [[["a", 0, 0, {}]], [["b", 0, 0, {}]]]},
            {"class_name": "Concatenate", "config": {"name": "concatenate", "trainable": True,
                                                     "dtype": "float32", "axis": -1},
             "name": "concatenate", "inbound_nodes": [[["shared", 0, 0, {}],
                                                       ["shared", 1, 0, {}]]]},
            {**tf_dense("dense", 2), "name": "dense",
             "inbound_nodes": [[["concatenate", 0, 0, {}]]]},
            # tf.keras 2 counts a nested Sequential's calls from 1 (node 0 is its own).
            {**inner, "name": "inner", "inbound_nodes": [[["dense", 0, 0, {}]]]}],
        "input_layers": [["a", 0, 0], ["b", 0, 0]], "output_layers": [["inner", 1, 0]]}}
    model = deserialize_keras_object(config)
    assert [layer.name for layer in model.layers] == \
        ["a", "b", "shared", "concatenate", "dense", "inner"]
    ws, bs, wd, bd, wi, bi = (rand(3, 2, seed=1), rand(2, seed=2), rand(4, 2, seed=3),
                              rand(2, seed=4), rand(2, 2, seed=5), rand(2, seed=6))
    model.set_weights([ws, bs, wd, bd, wi, bi])
    xa, xb = rand(5, 3, seed=7), rand(5, 3, seed=8)
    hidden = np.concatenate([xa @ ws + bs, xb @ ws + bs], axis=-1) @ wd + bd
    out = model.predict([xa, xb], verbose=0)
    assert isinstance(out, np.ndarray)  # a single nested output is unpacked, as tf-keras does
    np.testing.assert_allclose(out, hidden @ wi + bi, rtol=1e-4, atol=1e-5)


def test_tf_keras2_layer_configs_load():
    bn = {"class_name": "BatchNormalization", "config": {
        "name": "bn", "trainable": True, "dtype": "float32", "axis": [3], "momentum": 0.99,
        "epsilon": 0.001, "center": True, "scale": False,
        "beta_initializer": {"class_name": "Zeros", "config": {}},
        "gamma_initializer": {"class_name": "Ones", "config": {}},
        "moving_mean_initializer": {"class_name": "Zeros", "config": {}},
        "moving_variance_initializer": {"class_name": "Ones", "config": {}},
        "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
        "gamma_constraint": None}}
    assert deserialize_keras_object(bn).axis == 3
    mixed = {"module": "keras.mixed_precision", "class_name": "Policy",
             "config": {"name": "mixed_float16"}, "registered_name": None}
    assert deserialize_keras_object(tf_dense("d", 2, dtype=mixed)).dtype == "float32"
    lstm = {"class_name": "LSTM", "config": {"name": "lstm", "units": 3, "time_major": False,
                                             "implementation": 2}}
    assert deserialize_keras_object(lstm).units == 3


# -- Keras 3 configs with ops, and other objects -------------------------------------------------

def test_keras3_not_equal_op_and_mask_kwarg_load():
    def entry(class_name, config, nodes, module="keras.layers"):
        return {"module": module, "class_name": class_name, "config": config,
                "registered_name": None, "name": config["name"], "inbound_nodes": nodes}

    tok = tensor([None, 4], "tok")
    tok["config"]["dtype"] = "int32"
    config = {"name": "m", "trainable": True, "layers": [
        {**input_entry("tok", [None, 4]), "config": {**input_entry("tok", [None, 4])["config"],
                                                     "dtype": "int32"}},
        entry("Embedding", {"name": "embedding", "input_dim": 6, "output_dim": 3,
                            "mask_zero": True}, [{"args": [tok], "kwargs": {}}]),
        {**entry("NotEqual", {"name": "not_equal"}, [{"args": [tok, 0], "kwargs": {}}],
                 module="keras.src.ops.numpy"), "registered_name": "NotEqual"},
        entry("LSTM", {"name": "lstm", "units": 2},
              [{"args": [tensor([None, 4, 3], "embedding")],
                "kwargs": {"mask": tensor([None, 4], "not_equal")}}])],
        "input_layers": ["tok", 0, 0], "output_layers": ["lstm", 0, 0]}
    model = keras.Model.from_config(config)
    assert [layer.name for layer in model.layers] == ["tok", "embedding", "lstm"]
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]], np.int32)
    short = keras.Sequential([keras.Input((2,), dtype="int32"),
                              layers.Embedding(6, 3), layers.LSTM(2)])
    short.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(ids, verbose=0)[0],
                               short.predict(ids[:1, :2], verbose=0)[0], rtol=1e-5, atol=1e-6)


def test_other_objects_serialize_as_keras_does_and_come_back():
    assert serialize_keras_object(keras.initializers.get("glorot_uniform")) == GLOROT
    l2 = serialize_keras_object(keras.regularizers.L2(0.5))
    assert l2 == {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.5},
                  "registered_name": None}
    adam = serialize_keras_object(keras.optimizers.Adam(0.01))
    assert (adam["module"], adam["class_name"]) == ("keras.optimizers", "Adam")
    assert deserialize_keras_object(adam).get_config() == adam["config"]
    loss = serialize_keras_object(keras.losses.MeanSquaredError())
    assert isinstance(deserialize_keras_object(loss), keras.losses.MeanSquaredError)
    metric = serialize_keras_object(keras.metrics.MeanAbsoluteError())
    assert isinstance(deserialize_keras_object(metric), keras.metrics.MeanAbsoluteError)
    assert deserialize_keras_object(DTYPE) == "float32"
    assert deserialize_keras_object(l2).l2 == 0.5
    assert deserialize_keras_object(GLOROT).__class__.__name__ == "GlorotUniform"
    array = serialize_keras_object(np.arange(3, dtype=np.int64))
    assert array == {"class_name": "__numpy__", "config": {"value": [0, 1, 2], "dtype": "int64"}}
    assert deserialize_keras_object(array).dtype == np.int64


# -- Lambda and custom objects --------------------------------------------------------------------

def _double(x):
    return ops.multiply(x, 2.0)


def lambda_model(function):
    return keras.Sequential([keras.Input((3,)), layers.Lambda(function, name="lam")])


def test_lambda_configs_take_keras_forms():
    config = as_json(lambda_model(lambda x: ops.add(x, 1.0)).get_config())["layers"][1]
    function = config["config"]["function"]
    assert list(function) == ["class_name", "config"] and function["class_name"] == "__lambda__"
    assert list(function["config"]) == ["code", "defaults", "closure"]
    named = as_json(lambda_model(_double).get_config())["layers"][1]["config"]["function"]
    assert named == {"module": "builtins", "class_name": "function", "config": "_double",
                     "registered_name": "function"}


def test_stored_lambda_needs_safe_mode_false_and_the_function():
    config = as_json(serialize_keras_object(lambda_model(lambda x: ops.add(x, 1.0))))
    with pytest.raises(ValueError) as error:
        deserialize_keras_object(config)
    assert str(error.value) == LAMBDA_ERROR
    with pytest.raises(ValueError, match=r"never runs code.*custom_objects=\{'lam': fn\}"):
        deserialize_keras_object(config, safe_mode=False)
    model = deserialize_keras_object(config, custom_objects={"lam": lambda x: ops.add(x, 1.0)},
                                     safe_mode=False)
    np.testing.assert_allclose(model.predict(np.zeros((2, 3), np.float32), verbose=0), 1.0)


def test_tf_keras2_lambda_bytecode_is_never_run():
    config = {"class_name": "Lambda", "config": {
        "name": "lambda", "trainable": True, "dtype": "float32",
        "function": [base64.encodebytes(marshal.dumps(_double.__code__)).decode(), None, None],
        "function_type": "lambda", "module": "__main__", "output_shape": None,
        "output_shape_type": "raw", "output_shape_module": None, "arguments": {}}}
    with pytest.raises(ValueError) as error:
        deserialize_keras_object(config)
    assert str(error.value) == LAMBDA_ERROR
    layer = deserialize_keras_object(config, custom_objects={"lambda": _double},
                                     safe_mode=False)
    assert layer.function is _double


def test_named_function_needs_custom_objects_but_not_safe_mode():
    config = as_json(serialize_keras_object(lambda_model(_double)))
    with pytest.raises(TypeError, match="Could not locate function '_double'"):
        deserialize_keras_object(config)
    model = deserialize_keras_object(config, custom_objects={"_double": _double})
    np.testing.assert_allclose(model.predict(np.ones((1, 3), np.float32), verbose=0), 2.0)


class Scale(layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, inputs):
        return ops.multiply(inputs, self.factor)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def _swish2(x):
    return ops.multiply(x, ops.sigmoid(x))


def test_custom_layers_and_functions_come_from_custom_objects():
    x = keras.Input((3,))
    model = keras.Model(x, Scale(3.0, name="scale")(layers.Dense(2, activation=_swish2)(x)))
    text = model.to_json()
    entry = json.loads(text)["config"]["layers"][2]
    assert (entry["module"], entry["class_name"], entry["registered_name"]) == \
        (__name__, "Scale", "Scale")
    with pytest.raises(ValueError, match="Could not interpret activation function identifier"):
        keras.models.model_from_json(text)
    with pytest.raises(TypeError, match="Could not locate class 'Scale'"):
        keras.models.model_from_json(text, custom_objects={"_swish2": _swish2})
    clone = keras.models.model_from_json(text, custom_objects={"Scale": Scale,
                                                               "_swish2": _swish2})
    assert clone.get_layer("scale").factor == 3.0
    assert clone.layers[1].activation is _swish2
    same_outputs(model, clone, rand(2, 3))
