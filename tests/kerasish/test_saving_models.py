"""Whole-model files: ``model.save`` / ``load_model`` for Keras 3's ``.keras`` archive and the
legacy ``.h5`` file (docs/file-formats.md: "Keras 3 archive" and "Legacy whole-model
file").

Files written by kerasish are re-read here with zipfile + json + h5py only and checked field by
field against Keras's layout; files written here by hand in Keras's layouts (a Keras 3 archive, a
tf-keras 2.21 `.h5`, a Keras 3.15 `.h5`) load into working models; compile configs round-trip;
training continues bitwise after a save and a load; unreadable files and bad names give Keras's
(or clear) errors.
"""
import io
import json
import re
import zipfile

import h5py
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers as L

RNG = np.random.default_rng(0)
ARCHIVE_MEMBERS = ["metadata.json", "config.json", "model.weights.h5"]
TOP_KEYS = ["module", "class_name", "config", "registered_name", "build_config", "compile_config"]
COMPILE_KEYS = ["optimizer", "loss", "loss_weights", "metrics", "weighted_metrics", "run_eagerly",
                "steps_per_execution", "jit_compile"]
ADAM_DEFAULT = {"module": "keras.optimizers", "class_name": "Adam", "config": {
    "name": "adam", "learning_rate": 0.0010000000474974513, "weight_decay": None,
    "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False,
    "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
    "gradient_accumulation_steps": None, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
    "amsgrad": False}, "registered_name": None}


def rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


def mlp(name="mlp"):
    return keras.Sequential([keras.Input((4,)), L.Dense(3, activation="relu", name="h"),
                             L.Dense(2, name="out")], name=name)


def two_inputs():
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    h = L.Concatenate(name="cat")([L.Dense(4, name="x")(a), L.Dense(4, name="y")(b)])
    return keras.Model([a, b], L.Dense(1, name="out")(h), name="two")


def compiled(model, optimizer="adam", **kwargs):
    model.compile(optimizer=optimizer, loss=kwargs.pop("loss", "mse"), **kwargs)
    return model


def dense_forward(x, layers):
    """Plain NumPy Dense stack: ``layers`` = [(kernel, bias, relu?)]."""
    for kernel, bias, relu in layers:
        x = x @ kernel + bias
        x = np.maximum(x, 0) if relu else x
    return x


# -- independent readers ------------------------------------------------------------------------
def read_archive(path):
    with zipfile.ZipFile(path) as z:
        return z.infolist(), {i.filename: z.read(i.filename) for i in z.infolist()}


def h5_tree(data):
    """{path: (shape, dtype) or "group"} and {vars path: name attr} of HDF5 bytes."""
    items, names = {}, {}
    with h5py.File(io.BytesIO(data), "r") as f:
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                items[name] = (obj.shape, obj.dtype)
            else:
                items[name] = "group"
                if name.endswith("vars") and "name" in obj.attrs:
                    names[name] = obj.attrs["name"]
        f.visititems(visit)
        if "name" in f["vars"].attrs:
            names["vars"] = f["vars"].attrs["name"]
    return items, names


def h5_array(data, path):
    with h5py.File(io.BytesIO(data), "r") as f:
        return np.asarray(f[path][()])


def attr_string_info(obj, name):
    return h5py.check_string_dtype(obj.attrs.get_id(name).dtype)


# -- the .keras archive, as written -------------------------------------------------------------
def test_keras_archive_layout_uncompiled(tmp_path):
    path = tmp_path / "m.keras"
    mlp().save(path)
    infos, members = read_archive(path)
    assert [i.filename for i in infos] == ARCHIVE_MEMBERS
    assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
    assert not any(i.filename.endswith("/") for i in infos)
    metadata = json.loads(members["metadata.json"])
    assert list(metadata) == ["keras_version", "date_saved"]
    assert metadata["keras_version"] == "3.15.1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d", metadata["date_saved"])
    raw = members["config.json"].decode()
    config = json.loads(raw)
    assert raw == json.dumps(config) and "\n" not in raw  # one line, default separators
    assert list(config) == TOP_KEYS
    assert (config["module"], config["class_name"], config["registered_name"]) == \
        ("keras", "Sequential", None)
    assert config["build_config"] == {"input_shape": [None, 4]}
    assert config["compile_config"] == {}
    assert [e["class_name"] for e in config["config"]["layers"]] == ["InputLayer", "Dense", "Dense"]
    weights = members["model.weights.h5"]
    assert weights[:8] == b"\x89HDF\r\n\x1a\n" and weights[8] == 0  # superblock version 0
    items, names = h5_tree(weights)
    datasets = {k: v for k, v in items.items() if v != "group"}
    assert datasets == {"layers/dense/vars/0": ((4, 3), np.float32),
                        "layers/dense/vars/1": ((3,), np.float32),
                        "layers/dense_1/vars/0": ((3, 2), np.float32),
                        "layers/dense_1/vars/1": ((2,), np.float32)}
    assert "optimizer" not in items
    assert names == {"vars": "mlp", "layers/dense/vars": "h", "layers/dense_1/vars": "out"}


def test_keras_archive_compiled_layout(tmp_path):
    model = compiled(mlp(), metrics=["mae"])
    model.fit(rand(8, 4), rand(8, 2), batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    _, members = read_archive(tmp_path / "m.keras")
    compile_config = json.loads(members["config.json"])["compile_config"]
    assert list(compile_config) == COMPILE_KEYS
    adam = json.loads(json.dumps(ADAM_DEFAULT))
    adam["config"]["name"] = model.optimizer.name  # "adam", or "adam_<k>" after other tests
    assert compile_config == {"optimizer": adam, "loss": "mse", "loss_weights": None,
                              "metrics": ["mae"], "weighted_metrics": None, "run_eagerly": False,
                              "steps_per_execution": 1, "jit_compile": False}
    weights = members["model.weights.h5"]
    items, names = h5_tree(weights)
    optimizer = sorted(k for k, v in items.items() if k.startswith("optimizer/vars/"))
    assert optimizer == [f"optimizer/vars/{i}" for i in range(10)]
    assert names["optimizer/vars"] == model.optimizer.name
    iteration = h5_array(weights, "optimizer/vars/0")
    assert iteration.shape == () and iteration.dtype == np.int64 and iteration == 1
    for i, variable in enumerate(model.optimizer.variables):
        np.testing.assert_array_equal(h5_array(weights, f"optimizer/vars/{i}"), variable.numpy())


def test_functional_archive_top_level(tmp_path):
    two_inputs().save(tmp_path / "f.keras")
    config = json.loads(read_archive(tmp_path / "f.keras")[1]["config.json"])
    assert list(config) == TOP_KEYS
    assert (config["module"], config["class_name"], config["registered_name"]) == \
        ("keras.src.models.functional", "Functional", "Functional")
    assert config["build_config"] == {"input_shape": None}
    assert config["config"]["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["config"]["output_layers"] == ["out", 0, 0]


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("make", [mlp, two_inputs])
def test_round_trip_predictions_and_compile(tmp_path, suffix, make):
    model = compiled(make(), optimizer=keras.optimizers.SGD(0.05, momentum=0.9), metrics=["mae"])
    x = [rand(5, 3), rand(5, 2)] if make is two_inputs else rand(5, 4)
    y = rand(5, 1) if make is two_inputs else rand(5, 2)
    model.fit(x, y, verbose=0)
    model.save(tmp_path / f"m{suffix}")
    loaded = keras.models.load_model(tmp_path / f"m{suffix}")
    assert type(loaded) is type(model) and loaded.name == model.name
    assert [layer.name for layer in loaded.layers] == [layer.name for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.compiled and isinstance(loaded.optimizer, keras.optimizers.SGD)
    assert loaded.optimizer.momentum == 0.9 and loaded.optimizer.learning_rate == \
        pytest.approx(0.05)
    assert int(loaded.optimizer.iterations.numpy()) == 1
    for mine, theirs in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    not_compiled = keras.models.load_model(tmp_path / f"m{suffix}", compile=False)
    assert not not_compiled.compiled


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_training_continues_bitwise(tmp_path, suffix):
    x, y = rand(32, 4), rand(32, 2)
    first, reference = mlp("a"), mlp("b")
    reference.set_weights(first.get_weights())
    for model in (first, reference):
        compiled(model, optimizer=keras.optimizers.Adam(0.01), metrics=["mae"])
    first.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    first.save(tmp_path / f"m{suffix}")
    resumed = keras.models.load_model(tmp_path / f"m{suffix}")
    resumed.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    reference.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for mine, theirs in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    assert int(resumed.optimizer.iterations.numpy()) == 8


def test_compile_config_round_trip(tmp_path):
    model = compiled(mlp(), optimizer=keras.optimizers.RMSprop(0.01),
                     loss=keras.losses.MeanSquaredError(),
                     metrics=["mae", keras.metrics.RootMeanSquaredError(name="rmse")])
    config = json.loads(json.dumps(model.get_compile_config()))
    assert config["loss"]["module"] == "keras.losses"
    assert config["loss"]["class_name"] == "MeanSquaredError"
    assert config["metrics"][0] == "mae"
    assert config["metrics"][1]["class_name"] == "RootMeanSquaredError"
    other = mlp("other")
    other.compile_from_config(config)
    assert isinstance(other.optimizer, keras.optimizers.RMSprop)
    assert other.optimizer.learning_rate == pytest.approx(0.01)
    assert isinstance(other.loss, keras.losses.MeanSquaredError)
    assert other.optimizer.built  # so that saved optimizer variables can be assigned
    logs = other.evaluate(rand(4, 4), rand(4, 2), return_dict=True, verbose=0)
    assert sorted(logs) == ["loss", "mae", "rmse"]
    model.save(tmp_path / "m.keras")
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer"):
        loaded = keras.models.load_model(tmp_path / "m.keras")  # never trained: Keras warns
    assert loaded.get_compile_config() == config


# -- a .keras archive written by hand in Keras 3.15's layout ------------------------------------
def dense_entry(name, units, activation, input_dim):
    policy = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
              "registered_name": None}
    init = {"module": "keras.initializers", "class_name": "GlorotUniform",
            "config": {"seed": None}, "registered_name": None}
    zeros = {"module": "keras.initializers", "class_name": "Zeros", "config": {},
             "registered_name": None}
    return {"module": "keras.layers", "class_name": "Dense", "config": {
        "name": name, "trainable": True, "dtype": policy, "units": units,
        "activation": activation, "use_bias": True, "kernel_initializer": init,
        "bias_initializer": zeros, "kernel_regularizer": None, "bias_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None, "quantization_config": None},
        "registered_name": None, "build_config": {"input_shape": [None, input_dim]}}


def keras3_sequential_config(compile_config):
    return {"module": "keras", "class_name": "Sequential", "config": {
        "name": "seq", "trainable": True, "dtype": {
            "module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
            "registered_name": None},
        "layers": [{"module": "keras.layers", "class_name": "InputLayer", "config": {
            "batch_shape": [None, 4], "dtype": "float32", "sparse": False, "ragged": False,
            "name": "input_layer", "optional": False}, "registered_name": None},
            dense_entry("dense", 3, "relu", 4), dense_entry("dense_1", 2, "linear", 3)],
        "build_input_shape": [None, 4]}, "registered_name": None,
        "build_config": {"input_shape": [None, 4]}, "compile_config": compile_config}


def keras3_weights(arrays, optimizer=None):
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_group("vars").attrs["name"] = "seq"
        for path, values in arrays.items():
            group = f.create_group(f"layers/{path}/vars")
            for i, value in enumerate(values):
                group[str(i)] = value
        f.create_group("layers/input_layer/vars")
        if optimizer is not None:
            group = f.create_group("optimizer/vars")
            for i, value in enumerate(optimizer):
                group[str(i)] = value
    return buffer.getvalue()


def write_zip(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, data in members:
            z.writestr(name, data)


def handwritten_archive(path, trained):
    kernels = [rand(4, 3), rand(3), rand(3, 2), rand(2)]
    adam = json.loads(json.dumps(ADAM_DEFAULT))
    adam["config"]["learning_rate"] = 0.009999999776482582
    compile_config = {"optimizer": adam, "loss": "mean_squared_error", "loss_weights": None,
                      "metrics": ["mae"], "weighted_metrics": None, "run_eagerly": False,
                      "steps_per_execution": 1, "jit_compile": False}
    optimizer = [np.array(2, np.int64), np.array(0.01, np.float32)]
    if trained:
        optimizer += [rand(*k.shape) ** 2 for k in kernels for _ in range(2)]
    weights = keras3_weights({"dense": kernels[:2], "dense_1": kernels[2:]}, optimizer)
    # Another member order, DEFLATE and no metadata.json: Keras loads that too.
    write_zip(path, [("model.weights.h5", weights),
                     ("config.json", json.dumps(keras3_sequential_config(compile_config)))])
    return kernels, optimizer


def test_load_handwritten_keras3_archive(tmp_path):
    kernels, optimizer = handwritten_archive(tmp_path / "k.keras", trained=True)
    model = keras.models.load_model(tmp_path / "k.keras")
    x = rand(6, 4)
    expected = dense_forward(x, [(kernels[0], kernels[1], True), (kernels[2], kernels[3], False)])
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    assert model.name == "seq" and model.loss == "mean_squared_error"
    assert model.optimizer.learning_rate == pytest.approx(0.01)
    assert int(model.optimizer.iterations.numpy()) == 2
    for variable, value in zip(model.optimizer.variables[2:], optimizer[2:]):
        np.testing.assert_array_equal(variable.numpy(), value)
    model.fit(x, rand(6, 2), verbose=0)  # compiled as saved: fit continues


def test_untrained_optimizer_in_archive_warns_as_keras(tmp_path):
    handwritten_archive(tmp_path / "k.keras", trained=False)
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer 'adam', "
                      "because it has 10 variables whereas the saved optimizer has 2 variables"):
        keras.models.load_model(tmp_path / "k.keras")


def test_archive_without_weights_member(tmp_path):
    config = json.dumps(keras3_sequential_config({}))
    write_zip(tmp_path / "k.keras", [("metadata.json", "{}"), ("config.json", config)])
    with pytest.raises(ValueError, match=re.escape(
            "Expected a model.weights.h5 or model.weights.npz file.")):
        keras.models.load_model(tmp_path / "k.keras")


def test_truncated_and_corrupted_archives(tmp_path):
    mlp().save(tmp_path / "m.keras")
    data = (tmp_path / "m.keras").read_bytes()
    (tmp_path / "cut.keras").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.keras.*not a zip archive.*truncated or corrupted"):
        keras.models.load_model(tmp_path / "cut.keras")
    config = read_archive(tmp_path / "m.keras")[1]["config.json"]
    write_zip(tmp_path / "bad.keras", [("config.json", config),
                                       ("model.weights.h5", b"not an HDF5 file" * 64)])
    with pytest.raises(ValueError, match=r"bad\.keras.*model\.weights\.h5.*not an HDF5 file"):
        keras.models.load_model(tmp_path / "bad.keras")
    write_zip(tmp_path / "json.keras", [("config.json", "{not json"),
                                        ("model.weights.h5", b"")])
    with pytest.raises(ValueError, match=r"json\.keras.*config\.json.*not valid JSON"):
        keras.models.load_model(tmp_path / "json.keras")
