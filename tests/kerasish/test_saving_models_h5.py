"""Whole-model files, part 2: the legacy .h5 as written and read in both dialects, file
names, atomic saves and safe_mode (part 1, test_saving_models.py, has the .keras archive)."""
import builtins
import json
import logging
import os
import re

import h5py
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers as L
from kerasish.saving import keras_archive
from tests.kerasish.test_saving_models import (ADAM_DEFAULT, attr_string_info, compiled,
                                               dense_forward, keras3_sequential_config,
                                               keras3_weights, mlp, rand, two_inputs, write_zip)


# -- the legacy .h5, as written -----------------------------------------------------------------
def test_legacy_h5_layout_sequential(tmp_path):
    model = compiled(mlp(), metrics=["mae"])
    model.fit(rand(8, 4), rand(8, 2), batch_size=8, verbose=0)
    model.save(tmp_path / "m.h5")
    with h5py.File(tmp_path / "m.h5", "r") as f:
        assert sorted(f.attrs) == ["backend", "keras_version", "model_config", "training_config"]
        for name, encoding in [("backend", "utf-8"), ("keras_version", "utf-8"),
                               ("model_config", "ascii"), ("training_config", "ascii")]:
            info = attr_string_info(f, name)
            assert info is not None and info.length is None and info.encoding == encoding
            assert f.attrs.get_id(name).shape == ()
        assert (f.attrs["backend"], f.attrs["keras_version"]) == ("tensorflow", "2.21.0")
        model_config = json.loads(f.attrs["model_config"])
        training = json.loads(f.attrs["training_config"])
        weights = f["model_weights"]
        assert list(weights.attrs["layer_names"]) == ["h", "out"]
        assert list(weights["h"].attrs["weight_names"]) == ["h/kernel:0", "h/bias:0"]
        assert "top_level_model_weights" in weights
        np.testing.assert_array_equal(weights["h/h/kernel:0"][()], model.layers[0].kernel.numpy())
        names = list(f["optimizer_weights"].attrs["weight_names"])
        assert names == ["iteration:0", "Adam/m/h/kernel:0", "Adam/v/h/kernel:0",
                         "Adam/m/h/bias:0", "Adam/v/h/bias:0", "Adam/m/out/kernel:0",
                         "Adam/v/out/kernel:0", "Adam/m/out/bias:0", "Adam/v/out/bias:0"]
        assert f["optimizer_weights/iteration:0"][()] == 1
    assert model_config["class_name"] == "Sequential"
    assert list(model_config) == ["class_name", "config"]
    assert list(model_config["config"]) == ["name", "layers"]
    layers = model_config["config"]["layers"]
    assert layers[0] == {"class_name": "InputLayer", "config": {
        "batch_input_shape": [None, 4], "dtype": "float32", "sparse": False, "ragged": False,
        "name": model.inputs[0]._keras_history[0].name, "optional": False}}
    assert all(list(entry) == ["class_name", "config"] for entry in layers)
    assert layers[1]["config"]["dtype"] == "float32" and layers[1]["config"]["units"] == 3
    assert "quantization_config" not in layers[1]["config"]
    assert list(training) == ["loss", "metrics", "weighted_metrics", "loss_weights",
                              "optimizer_config"]
    # Both dialects read these back: Keras 3 cannot deserialize a loss named "mse", nor run
    # tf-keras's MeanMetricWrapper with a function name.
    assert training["loss"] == "mean_squared_error"
    assert training["metrics"] == [{"class_name": "MeanAbsoluteError",
                                    "config": {"name": "mae", "dtype": "float32"}}]
    optimizer = training["optimizer_config"]
    assert optimizer["class_name"] == "Custom>Adam"
    assert list(optimizer["config"]) == [
        "name", "weight_decay", "clipnorm", "global_clipnorm", "clipvalue", "use_ema",
        "ema_momentum", "ema_overwrite_frequency", "jit_compile", "is_legacy_optimizer",
        "learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad"]
    assert optimizer["config"]["name"] == "Adam"


def test_legacy_h5_layout_functional_and_uncompiled(tmp_path):
    two_inputs().save(tmp_path / "f.h5")
    with h5py.File(tmp_path / "f.h5", "r") as f:
        assert sorted(f.attrs) == ["backend", "keras_version", "model_config"]
        assert "optimizer_weights" not in f
        model_config = json.loads(f.attrs["model_config"])
        assert list(f["model_weights"].attrs["layer_names"])[:2] == ["a", "b"]
    config = model_config["config"]
    assert model_config["class_name"] == "Functional"
    assert list(config) == ["name", "trainable", "layers", "input_layers", "output_layers"]
    entries = {e["name"]: e for e in config["layers"]}
    assert all(list(e) == ["class_name", "config", "name", "inbound_nodes"]
               for e in config["layers"])
    assert entries["a"]["inbound_nodes"] == []
    assert entries["a"]["config"]["batch_input_shape"] == [None, 3]
    assert entries["x"]["inbound_nodes"] == [[["a", 0, 0, {}]]]
    assert entries["cat"]["inbound_nodes"] == [[["x", 0, 0, {}], ["y", 0, 0, {}]]]
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["output_layers"] == [["out", 0, 0]]


# -- legacy .h5 files written by hand in both dialects ------------------------------------------
def put_attr(obj, name, value, fixed):
    """A string attr as h5py 3 writes it (variable-length) or as old h5py did (fixed bytes)."""
    if isinstance(value, list):
        obj.attrs[name] = np.array([v.encode() for v in value]) if fixed and value else \
            ([v.encode() for v in value] if value else np.zeros((0,), np.float64))
    else:
        obj.attrs[name] = np.bytes_(value.encode()) if fixed else value


def write_legacy(path, model_config, layers, training=None, optimizer=(), version="2.21.0",
                 fixed=False):
    """``layers`` = [(group name, [(weight name, array)])] in layer_names order."""
    with h5py.File(path, "w") as f:
        put_attr(f, "keras_version", version, fixed)
        put_attr(f, "backend", "tensorflow", fixed)
        put_attr(f, "model_config", json.dumps(model_config), fixed)
        if training is not None:
            put_attr(f, "training_config", json.dumps(training), fixed)
        weights = f.create_group("model_weights")
        put_attr(weights, "layer_names", [name for name, _ in layers], fixed)
        put_attr(weights, "backend", "tensorflow", fixed)
        put_attr(weights, "keras_version", version, fixed)
        for name, arrays in layers + [("top_level_model_weights", [])]:
            group = weights.create_group(name)
            put_attr(group, "weight_names", [n for n, _ in arrays], fixed)
            for weight_name, value in arrays:
                group[weight_name] = value
        if optimizer:
            group = f.create_group("optimizer_weights")
            put_attr(group, "weight_names", [n for n, _ in optimizer], fixed)
            for weight_name, value in optimizer:
                group[weight_name] = value


def keras2_dense(name, units, activation, inbound):
    init = {"module": "keras.initializers", "class_name": "GlorotUniform",
            "config": {"seed": None}, "registered_name": None}
    zeros = {"module": "keras.initializers", "class_name": "Zeros", "config": {},
             "registered_name": None}
    return {"class_name": "Dense", "config": {
        "name": name, "trainable": True, "dtype": "float32", "units": units,
        "activation": activation, "use_bias": True, "kernel_initializer": init,
        "bias_initializer": zeros, "kernel_regularizer": None, "bias_regularizer": None,
        "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None},
        "name": name, "inbound_nodes": [[[inbound, 0, 0, {}]]]}


TF_KERAS_FUNCTIONAL = {"class_name": "Functional", "config": {
    "name": "model", "trainable": True, "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3],
                                                "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "input_1"},
         "name": "input_1", "inbound_nodes": []},
        keras2_dense("dense", 4, "relu", "input_1"), keras2_dense("dense_1", 2, "linear", "dense")],
    "input_layers": [["input_1", 0, 0]], "output_layers": [["dense_1", 0, 0]]}}
TF_KERAS_TRAINING = {
    "loss": "mse", "metrics": [[{"class_name": "MeanMetricWrapper", "config": {
        "name": "mae", "dtype": "float32", "fn": "mean_absolute_error"}}]],
    "weighted_metrics": None, "loss_weights": None, "optimizer_config": {
        "class_name": "Custom>Adam", "config": {
            "name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
            "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
            "ema_overwrite_frequency": None, "jit_compile": False, "is_legacy_optimizer": False,
            "learning_rate": 0.004999999888241291, "beta_1": 0.9, "beta_2": 0.999,
            "epsilon": 1e-07, "amsgrad": False}}}


@pytest.mark.parametrize("fixed", [False, True], ids=["vlen-str", "fixed-bytes"])
def test_load_tf_keras2_h5(tmp_path, fixed):
    k0, b0, k1, b1 = rand(3, 4), rand(4), rand(4, 2), rand(2)
    slots = {name: rand(*shape) ** 2 for name, shape in
             [("dense/kernel", (3, 4)), ("dense/bias", (4,)), ("dense_1/kernel", (4, 2)),
              ("dense_1/bias", (2,))]}
    optimizer = [("iteration:0", np.array(3, np.int64))]
    for var in slots:
        optimizer += [(f"Adam/m/{var}:0", slots[var]), (f"Adam/v/{var}:0", slots[var] + 1)]
    write_legacy(tmp_path / "tf.h5", TF_KERAS_FUNCTIONAL,
                 [("input_1", []), ("dense", [("dense/kernel:0", k0), ("dense/bias:0", b0)]),
                  ("dense_1", [("dense_1/kernel:0", k1), ("dense_1/bias:0", b1)])],
                 TF_KERAS_TRAINING, optimizer, fixed=fixed)
    model = keras.models.load_model(tmp_path / "tf.h5")
    x = rand(5, 3)
    expected = dense_forward(x, [(k0, b0, True), (k1, b1, False)])
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert [layer.name for layer in model.layers] == ["input_1", "dense", "dense_1"]
    assert isinstance(model.optimizer, keras.optimizers.Adam)
    assert model.optimizer.learning_rate == pytest.approx(0.005)  # Keras 3 would reset it
    assert int(model.optimizer.iterations.numpy()) == 3
    saved = [value for _, value in optimizer[1:]]
    for variable, value in zip(model.optimizer.variables[2:], saved):
        np.testing.assert_array_equal(variable.numpy(), value)
    logs = model.evaluate(x, expected, return_dict=True, verbose=0)
    assert sorted(logs) == ["loss", "mae"] and logs["mae"] < 1e-5


def test_load_keras3_h5(tmp_path):
    compile_config = {"loss": "mean_squared_error", "loss_weights": None, "metrics": ["mae"],
                      "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
                      "jit_compile": False, "optimizer_config": {
                          "class_name": "Adam", "config": dict(ADAM_DEFAULT["config"])}}
    config = keras3_sequential_config({})
    model_config = {"class_name": "Sequential", "config": config["config"]}
    kernels = [rand(4, 3), rand(3), rand(3, 2), rand(2)]
    slots = [rand(*k.shape) for k in kernels for _ in range(2)]
    optimizer = [("adam/iteration", np.array(4, np.int64)),
                 ("adam/learning_rate", np.array(0.001, np.float32))]
    for i, var in enumerate(["seq_dense_kernel", "seq_dense_bias", "seq_dense_1_kernel",
                             "seq_dense_1_bias"]):
        optimizer += [(f"adam/{var}_momentum", slots[2 * i]),
                      (f"adam/{var}_velocity", slots[2 * i + 1] ** 2)]
    write_legacy(tmp_path / "k3.h5", model_config,
                 [("dense", [("seq/dense/kernel", kernels[0]), ("seq/dense/bias", kernels[1])]),
                  ("dense_1", [("seq/dense_1/kernel", kernels[2]),
                               ("seq/dense_1/bias", kernels[3])])],
                 compile_config, optimizer, version="3.15.1")
    model = keras.models.load_model(tmp_path / "k3.h5")
    x = rand(3, 4)
    expected = dense_forward(x, [(kernels[0], kernels[1], True), (kernels[2], kernels[3], False)])
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert int(model.optimizer.iterations.numpy()) == 4
    np.testing.assert_array_equal(model.optimizer.variables[3].numpy(), slots[1] ** 2)


def test_legacy_optimizer_state_that_does_not_fit_is_dropped(tmp_path, caplog):
    optimizer = [("iteration:0", np.array(3, np.int64)), ("Adam/m/dense/kernel:0", rand(9, 9))]
    write_legacy(tmp_path / "tf.h5", TF_KERAS_FUNCTIONAL,
                 [("input_1", []), ("dense", [("dense/kernel:0", rand(3, 4)),
                                              ("dense/bias:0", rand(4))]),
                  ("dense_1", [("dense_1/kernel:0", rand(4, 2)), ("dense_1/bias:0", rand(2))])],
                 TF_KERAS_TRAINING, optimizer)
    with caplog.at_level(logging.WARNING, logger="kerasish"):
        model = keras.models.load_model(tmp_path / "tf.h5")
    assert "Error in loading the saved optimizer state" in caplog.text
    assert int(model.optimizer.iterations.numpy()) == 0


def test_uncompiled_h5_loads_uncompiled(tmp_path, caplog):
    mlp().save(tmp_path / "m.h5")
    with caplog.at_level(logging.WARNING, logger="kerasish"):
        model = keras.models.load_model(tmp_path / "m.h5")
    assert not model.compiled
    assert "No training configuration found in the save file" in caplog.text


def test_corrupted_h5_files(tmp_path):
    compiled(mlp()).save(tmp_path / "m.h5")
    data = (tmp_path / "m.h5").read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.h5.*truncated or corrupted"):
        keras.models.load_model(tmp_path / "cut.h5")
    (tmp_path / "text.h5").write_text("hello")
    with pytest.raises(ValueError, match=r"text\.h5"):
        keras.models.load_model(tmp_path / "text.h5")
    mlp().save_weights(tmp_path / "w.h5")  # a weights file holds no model
    with pytest.raises(ValueError, match=re.escape(
            f"No model config found in the file at {tmp_path / 'w.h5'}.")):
        keras.models.load_model(tmp_path / "w.h5")


@pytest.mark.parametrize("name", ["w.weights.h5", "w.h5", "w.keras"])
def test_failed_load_weights_leaves_weights_unchanged(tmp_path, name):
    source = mlp()
    if name.endswith(".keras"):
        source.save(tmp_path / name)
    else:
        source.save_weights(tmp_path / name)
    data = (tmp_path / name).read_bytes()
    (tmp_path / f"cut_{name}").write_bytes(data[: len(data) * 2 // 3])
    model = mlp("target")
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=re.escape(f"cut_{name}")):
        model.load_weights(tmp_path / f"cut_{name}")
    for mine, theirs in zip(model.get_weights(), before):
        np.testing.assert_array_equal(mine, theirs)


# -- names, options, atomicity, safe_mode -------------------------------------------------------
def test_extension_errors(tmp_path):
    model = mlp()
    with pytest.raises(ValueError) as info:
        model.save("model")
    assert str(info.value) == (
        "Invalid filepath extension for saving. Please add either a `.keras` extension for the "
        "native Keras format (recommended) or a `.h5` extension. Use `model.export(filepath)` "
        "if you want to export a SavedModel for use with TFLite/TFServing/etc. "
        "Received: filepath=model.")
    with pytest.raises(ValueError, match=re.escape("File format not supported: filepath=x.txt. "
                                                   "Keras 3 only supports V3 `.keras` files, "
                                                   "legacy H5 format files (`.h5` extension).")):
        keras.models.load_model("x.txt")
    missing = tmp_path / "missing.keras"
    with pytest.raises(ValueError, match=re.escape(
            f"File not found: filepath={missing}. Please ensure the file is an accessible "
            "`.keras` zip file.")):
        keras.saving.load_model(missing)
    with pytest.raises(ValueError, match=re.escape(
            "The following argument(s) are not supported: ['foo']")):
        model.save(tmp_path / "m.keras", foo=1)
    assert not os.listdir(tmp_path)


def test_overwrite_false_asks(tmp_path, monkeypatch):
    path = tmp_path / "m.keras"
    mlp().save(path)
    before = path.read_bytes()
    monkeypatch.setattr(builtins, "input", lambda prompt: "n")
    compiled(mlp("other")).save(path, overwrite=False)
    assert path.read_bytes() == before


def test_failed_save_keeps_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "m.keras"
    mlp().save(path)
    before = path.read_bytes()

    def broken(model):
        raise RuntimeError("boom")

    monkeypatch.setattr(keras_archive, "_weights_bytes", broken)
    with pytest.raises(RuntimeError, match="boom"):
        mlp("other").save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["m.keras"]


def lambda_archive(path):
    import base64
    import marshal

    code = base64.encodebytes(marshal.dumps((lambda x: x + 1.0).__code__)).decode()
    config = keras3_sequential_config({})
    config["config"]["layers"][1:] = [{
        "module": "keras.layers", "class_name": "Lambda", "config": {
            "name": "plus_one", "trainable": True, "dtype": config["config"]["dtype"],
            "function": {"class_name": "__lambda__", "config": {
                "code": code, "defaults": None, "closure": None}}, "arguments": {}},
        "registered_name": None, "build_config": {"input_shape": [None, 4]}}]
    write_zip(path, [("config.json", json.dumps(config)),
                     ("model.weights.h5", keras3_weights({}))])


def test_lambda_needs_safe_mode_false(tmp_path):
    lambda_archive(tmp_path / "l.keras")
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.models.load_model(tmp_path / "l.keras")
    with pytest.raises(ValueError, match="never runs code"):  # not even with safe_mode=False
        keras.models.load_model(tmp_path / "l.keras", safe_mode=False)
    model = keras.models.load_model(tmp_path / "l.keras", safe_mode=False,
                                    custom_objects={"plus_one": lambda x: x + 1.0})
    np.testing.assert_allclose(model.predict(np.zeros((2, 4), np.float32), verbose=0), 1.0)


def test_tf_keras2_lambda_needs_safe_mode_false(tmp_path):
    import base64
    import marshal

    code = base64.encodebytes(marshal.dumps((lambda x: x * 2.0).__code__)).decode()
    model_config = {"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 3],
                                                "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "input_1"}},
        {"class_name": "Lambda", "config": {
            "name": "lambda", "trainable": True, "dtype": "float32",
            "function": [code, None, None], "function_type": "lambda", "module": "__main__",
            "output_shape": None, "output_shape_type": "raw", "output_shape_module": None,
            "arguments": {}}}]}}
    write_legacy(tmp_path / "l.h5", model_config, [("lambda", [])])
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.models.load_model(tmp_path / "l.h5")
    model = keras.models.load_model(tmp_path / "l.h5", safe_mode=False,
                                    custom_objects={"lambda": lambda x: x * 2.0})
    np.testing.assert_allclose(model.predict(np.ones((2, 3), np.float32), verbose=0), 2.0)


def test_tf_keras2_quirks_load(tmp_path):
    """tf-keras's RNN keys (``time_major``, ``implementation``) and BatchNorm's ``axis`` list,
    which Keras 3 itself refuses, load into the model Keras would build."""
    model_config = {"class_name": "Sequential", "config": {"name": "seq", "layers": [
        {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 5, 3],
                                                "dtype": "float32", "sparse": False,
                                                "ragged": False, "name": "input_1"}},
        {"class_name": "LSTM", "config": {
            "name": "lstm", "trainable": True, "dtype": "float32", "return_sequences": True,
            "return_state": False, "go_backwards": False, "stateful": False, "unroll": False,
            "time_major": False, "units": 2, "activation": "tanh",
            "recurrent_activation": "sigmoid", "use_bias": True, "unit_forget_bias": True,
            "dropout": 0.0, "recurrent_dropout": 0.0, "implementation": 2}},
        {"class_name": "BatchNormalization", "config": {
            "name": "batch_normalization", "trainable": True, "dtype": "float32", "axis": [2],
            "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": False}}]}}
    arrays = [rand(3, 8), rand(2, 8), rand(8), rand(2), rand(2), rand(2) ** 2 + 0.5]
    write_legacy(tmp_path / "q.h5", model_config, [
        ("lstm", [("lstm/lstm_cell/kernel:0", arrays[0]),
                  ("lstm/lstm_cell/recurrent_kernel:0", arrays[1]),
                  ("lstm/lstm_cell/bias:0", arrays[2])]),
        ("batch_normalization", [("batch_normalization/beta:0", arrays[3]),
                                 ("batch_normalization/moving_mean:0", arrays[4]),
                                 ("batch_normalization/moving_variance:0", arrays[5])])])
    loaded = keras.models.load_model(tmp_path / "q.h5", compile=False)
    reference = keras.Sequential([keras.Input((5, 3)), L.LSTM(2, return_sequences=True),
                                  L.BatchNormalization(scale=False)])
    reference.set_weights(arrays)
    x = rand(4, 5, 3)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), reference.predict(x, verbose=0))


def test_legacy_h5_writes_tf_keras2_layer_quirks(tmp_path):
    x = keras.Input((4, 4, 2), name="img")
    h = L.BatchNormalization(name="bn")(L.Conv2D(3, 3, padding="same", name="conv")(x))
    h = L.Bidirectional(L.LSTM(2, return_sequences=True, name="rnn"), name="bi")(
        L.Reshape((4, 12), name="rows")(h))
    model = keras.Model(x, L.LSTM(2, name="last")(h), name="quirks")
    model.save(tmp_path / "q.h5")
    with h5py.File(tmp_path / "q.h5", "r") as f:
        entries = {e["name"]: e["config"] for e in
                   json.loads(f.attrs["model_config"])["config"]["layers"]}
    assert entries["bn"]["axis"] == [3]
    assert "time_major" not in entries["last"] and entries["last"]["implementation"] == 2
    assert "seed" not in entries["last"]
    assert "backward_layer" not in entries["bi"]
    assert entries["bi"]["layer"]["config"]["name"] == "rnn"
    loaded = keras.models.load_model(tmp_path / "q.h5", compile=False)
    data = rand(2, 4, 4, 2)
    np.testing.assert_array_equal(loaded.predict(data, verbose=0), model.predict(data, verbose=0))


def test_tf_keras2_legacy_optimizer_state(tmp_path):
    """``tf_keras.optimizers.legacy.Adam`` files: ``Adam/iter:0``, then every ``m``, then every
    ``v``; the slots land interleaved (m, v per weight) as the optimizer holds them."""
    shapes = {"dense/kernel": (3, 4), "dense/bias": (4,), "dense_1/kernel": (4, 2),
              "dense_1/bias": (2,)}
    m = {var: rand(*shape) for var, shape in shapes.items()}
    v = {var: rand(*shape) ** 2 for var, shape in shapes.items()}
    optimizer = [("Adam/iter:0", np.array(7, np.int64))]
    optimizer += [(f"Adam/{var}/m:0", m[var]) for var in shapes]
    optimizer += [(f"Adam/{var}/v:0", v[var]) for var in shapes]
    training = dict(TF_KERAS_TRAINING, optimizer_config={"class_name": "Adam", "config": {
        "name": "Adam", "learning_rate": 0.001, "decay": 0.0, "beta_1": 0.9, "beta_2": 0.999,
        "epsilon": 1e-07, "amsgrad": False}})
    write_legacy(tmp_path / "old.h5", TF_KERAS_FUNCTIONAL,
                 [("input_1", []), ("dense", [("dense/kernel:0", rand(3, 4)),
                                              ("dense/bias:0", rand(4))]),
                  ("dense_1", [("dense_1/kernel:0", rand(4, 2)), ("dense_1/bias:0", rand(2))])],
                 training, optimizer)
    with pytest.warns(UserWarning, match="`decay` is no longer supported"):  # as Keras 3
        model = keras.models.load_model(tmp_path / "old.h5")
    assert int(model.optimizer.iterations.numpy()) == 7
    expected = [a for var in shapes for a in (m[var], v[var])]
    for variable, value in zip(model.optimizer.variables[2:], expected):
        np.testing.assert_array_equal(variable.numpy(), value)
