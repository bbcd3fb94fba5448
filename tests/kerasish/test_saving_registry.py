"""keras.saving's registry (register_keras_serializable, custom_object_scope, ...) and Keras 3's
config dicts for custom objects; registered custom layers, losses, metrics, activations and
model subclasses round trip through .keras and legacy .h5 files written here; the legacy
(tf.keras 2) dialect of keras.legacy.saving; KerasFileEditor."""
import json

import numpy as np
import pytest

import kerasish as keras
from engine import ops
from kerasish import layers, saving
from kerasish.saving import object_registration

DTYPE = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
         "registered_name": None}


@saving.register_keras_serializable(package="RegTest")
def scaled_relu(x):
    return ops.multiply(ops.relu(x), 2.0)


@saving.register_keras_serializable(package="RegTest", name="sq_loss")
def squared_loss(y_true, y_pred):
    return ops.mean(ops.square(ops.subtract(y_pred, y_true)), axis=-1)


@saving.register_keras_serializable(package="RegTest")
class Scale(layers.Layer):
    """y = x @ w, then an activation given by name or function."""

    def __init__(self, units=2, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="ones",
                                 name="w")

    def call(self, x):
        return self.activation(ops.matmul(x, self.w))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": saving.serialize_keras_object(self.activation)}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["activation"] = saving.deserialize_keras_object(config["activation"])
        return cls(**config)


@saving.register_keras_serializable(package="RegTest")
class MeanAbs(keras.metrics.Mean):
    """The mean of |y_pred - y_true|."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        diff = np.abs(_convert(y_pred) - _convert(y_true))
        super().update_state(diff, sample_weight=sample_weight)


@saving.register_keras_serializable(package="RegTest")
class TwoLayerModel(keras.Model):
    """A model subclass whose config holds its constructor arguments."""

    def __init__(self, hidden=3, **kwargs):
        super().__init__(**kwargs)
        self.hidden = hidden
        self.inner = Scale(hidden, activation=scaled_relu)
        self.out = layers.Dense(1, kernel_initializer="ones")

    def call(self, x):
        return self.out(self.inner(x))

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden}


class Unregistered(layers.Layer):
    def call(self, x):
        return ops.multiply(x, 3.0)


def _convert(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.utils.clear_session()


# -- the registry -------------------------------------------------------------------------------

def test_register_names_and_lookups():
    assert saving.get_registered_name(Scale) == "RegTest>Scale"
    assert saving.get_registered_name(squared_loss) == "RegTest>sq_loss"
    assert saving.get_registered_name(layers.Dense) == "Dense"
    assert saving.get_registered_object("RegTest>Scale") is Scale
    assert saving.get_registered_object("Dense") is None
    assert saving.get_registered_object("x", custom_objects={"x": abs}) is abs
    assert saving.get_registered_object("y", module_objects={"y": min}) is min
    assert saving.get_custom_objects() is object_registration.GLOBAL_CUSTOM_OBJECTS
    assert saving.get_custom_objects()["RegTest>scaled_relu"] is scaled_relu
    with pytest.raises(ValueError, match="get_config"):
        saving.register_keras_serializable()(type("NoConfig", (), {}))


def test_custom_object_scope_replaces_and_restores():
    assert saving.custom_object_scope is saving.CustomObjectScope
    with saving.custom_object_scope({"a": abs}):
        assert saving.get_registered_object("a") is abs
        with saving.CustomObjectScope({"b": min}):
            # As in Keras 3, an inner scope replaces the outer one's objects.
            assert saving.get_registered_object("b") is min
            assert saving.get_registered_object("a") is None
        assert saving.get_registered_object("a") is abs
    assert saving.get_registered_object("a") is None
    assert "a" not in saving.get_custom_objects()


def test_scope_and_custom_objects_find_unregistered_layers():
    config = layers.serialize(Unregistered(name="u"))
    assert config["registered_name"] == "Unregistered" and config["module"] == __name__
    with pytest.raises(TypeError, match="Could not locate class 'Unregistered'"):
        layers.deserialize(config)
    assert isinstance(layers.deserialize(config, custom_objects={"Unregistered": Unregistered}),
                      Unregistered)
    with saving.custom_object_scope({"Unregistered": Unregistered}):
        assert isinstance(saving.deserialize_keras_object(config), Unregistered)


# -- Keras 3's dicts ----------------------------------------------------------------------------

def test_serialize_registered_objects_as_keras():
    # Keras 3.15 writes these dicts (module aside, which is the defining module).
    assert saving.serialize_keras_object(scaled_relu) == {
        "module": "builtins", "class_name": "function", "config": "RegTest>scaled_relu",
        "registered_name": "function"}
    config = saving.serialize_keras_object(Scale(3, name="scale"))
    assert config == {"module": __name__, "class_name": "Scale", "config": {
        "name": "scale", "trainable": True, "dtype": DTYPE, "units": 3,
        "activation": {"module": "builtins", "class_name": "function", "config": "linear",
                       "registered_name": "function"}}, "registered_name": "RegTest>Scale"}
    metric = saving.serialize_keras_object(MeanAbs(name="mabs"))
    assert metric["class_name"] == "MeanAbs" and metric["registered_name"] == "RegTest>MeanAbs"
    assert metric["config"]["name"] == "mabs"
    assert layers.serialize(layers.Dense(2))["registered_name"] is None


def test_deserialize_registered_objects():
    assert saving.deserialize_keras_object(
        saving.serialize_keras_object(scaled_relu)) is scaled_relu
    layer = saving.deserialize_keras_object(
        saving.serialize_keras_object(Scale(4, activation=scaled_relu, name="s")))
    assert isinstance(layer, Scale) and layer.units == 4 and layer.activation is scaled_relu
    metric = saving.deserialize_keras_object(saving.serialize_keras_object(MeanAbs(name="m")))
    assert isinstance(metric, MeanAbs) and metric.name == "m"
    assert saving.deserialize_keras_object("RegTest>sq_loss") is squared_loss
    with pytest.raises(ValueError, match="not a `keras.layers.Layer`"):
        layers.deserialize(saving.serialize_keras_object(MeanAbs()))


def test_model_from_json_with_registered_layer():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, Scale(2, activation=scaled_relu)(inputs))
    clone = keras.models.model_from_json(model.to_json())
    x = np.array([[1.0, -3.0], [2.0, 1.0]], "float32")
    # Weights are ones: [1-3, 1-3] -> relu*2 = [0, 0]; [3, 3] -> [6, 6].
    np.testing.assert_allclose(clone.predict(x, verbose=0), [[0, 0], [6, 6]])


# -- files --------------------------------------------------------------------------------------

def _functional():
    inputs = keras.Input((2,))
    hidden = Scale(3, activation=scaled_relu, name="scale")(inputs)
    model = keras.Model(inputs, layers.Dense(1, kernel_initializer="ones", name="out")(hidden))
    model.compile(optimizer="sgd", loss=squared_loss, metrics=[MeanAbs(name="mabs")])
    return model


X = np.array([[1.0, 2.0], [0.5, -1.0], [-2.0, -1.0]], "float32")
Y = np.array([[18.0], [0.0], [1.0]], "float32")


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_functional_with_custom_objects_round_trips(tmp_path, suffix):
    model = _functional()
    # Hand: rows sum to 3, -0.5, -3 -> scaled relu 6, 0, 0 per unit -> Dense(ones) 18, 0, 0.
    np.testing.assert_allclose(model.predict(X, verbose=0), [[18.0], [0.0], [0.0]])
    logs = model.evaluate(X, Y, return_dict=True, verbose=0)
    np.testing.assert_allclose([logs["loss"], logs["mabs"]], [1 / 3, 1 / 3], rtol=1e-6)
    model.fit(X, Y, epochs=1, batch_size=3, verbose=0)
    path = str(tmp_path / f"model{suffix}")
    model.save(path)
    loaded = saving.load_model(path)
    assert isinstance(loaded.get_layer("scale"), Scale)
    assert loaded.get_layer("scale").activation is scaled_relu
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    assert loaded.loss is squared_loss
    again = loaded.evaluate(X, Y, return_dict=True, verbose=0)
    assert set(again) == {"loss", "mabs"}
    np.testing.assert_allclose(again["loss"], model.evaluate(X, Y, verbose=0)[0], rtol=1e-6)


def test_compile_config_names_registered_loss_and_metric():
    config = _functional().get_compile_config()
    assert config["loss"] == {"module": "builtins", "class_name": "function",
                              "config": "RegTest>sq_loss", "registered_name": "function"}
    assert config["metrics"][0]["registered_name"] == "RegTest>MeanAbs"


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_model_subclass_round_trips(tmp_path, suffix):
    model = TwoLayerModel(hidden=2)
    model.compile(optimizer="sgd", loss="mse")
    # Rows sum to 3 and -3: scaled relu 6, 0 per unit -> sum of 2 units 12, 0.
    np.testing.assert_allclose(model.predict(X[[0, 2]], verbose=0), [[12.0], [0.0]])
    path = str(tmp_path / f"sub{suffix}")
    model.save(path)
    loaded = saving.load_model(path)
    assert type(loaded) is TwoLayerModel and loaded.hidden == 2
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_unregistered_objects_load_with_custom_objects_or_scope(tmp_path):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, Unregistered(name="triple")(inputs))
    path = str(tmp_path / "u.keras")
    model.save(path)
    with pytest.raises(TypeError, match="Could not locate class 'Unregistered'"):
        saving.load_model(path)
    x = np.ones((1, 2), "float32")
    loaded = saving.load_model(path, custom_objects={"Unregistered": Unregistered})
    np.testing.assert_allclose(loaded.predict(x, verbose=0), [[3.0, 3.0]])
    with saving.custom_object_scope({"Unregistered": Unregistered}):
        loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), [[3.0, 3.0]])


def test_lambda_needs_safe_mode_off(tmp_path):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, layers.Lambda(lambda t: ops.multiply(t, 5.0), name="five")(inputs))
    path = str(tmp_path / "lam.keras")
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode=False"):
        saving.load_model(path)

    def five(t):
        return ops.multiply(t, 5.0)

    loaded = saving.load_model(path, safe_mode=False, custom_objects={"five": five})
    np.testing.assert_allclose(loaded.predict(np.ones((1, 2), "float32"), verbose=0), [[5, 5]])


# -- tf.keras 2's dialect -----------------------------------------------------------------------

def test_legacy_serialize_and_deserialize():
    from kerasish.legacy import saving as legacy

    config = legacy.serialize_keras_object(Scale(2, name="s"))
    assert config["class_name"] == "RegTest>Scale" and "module" not in config
    assert config["config"]["units"] == 2
    assert legacy.serialize_keras_object(scaled_relu) == "RegTest>scaled_relu"
    layer = legacy.deserialize_keras_object(config)
    assert isinstance(layer, Scale) and layer.units == 2
    dense = legacy.deserialize_keras_object({"class_name": "Dense", "config": {"units": 3}},
                                            module_objects={"Dense": layers.Dense})
    assert dense.units == 3
    assert legacy.deserialize_keras_object("RegTest>scaled_relu") is scaled_relu
    with pytest.raises(ValueError, match="Unknown object: 'Nope'"):
        legacy.deserialize_keras_object({"class_name": "Nope", "config": {}})


# -- KerasFileEditor ----------------------------------------------------------------------------

def test_file_editor_edits_and_resaves(tmp_path, capsys):
    model = keras.Sequential([keras.Input((2,)), layers.Dense(3, name="d1"),
                              layers.Dense(1, name="d2")])
    path = str(tmp_path / "m.keras")
    model.save(path)
    editor = saving.KerasFileEditor(path)
    assert editor.config["class_name"] == "Sequential"
    assert sorted(editor.weights_dict["layers"]) == ["dense", "dense_1"]
    assert editor.compare(model) == {"status": "success", "error_count": 0, "match_count": 4}
    kernel = editor.weights_dict["layers"]["dense"]["0"]
    np.testing.assert_array_equal(kernel, model.layers[0].kernel.numpy())
    editor.delete_weight("layers/dense_1", "1")
    assert editor.compare(model)["status"] == "error"
    editor.add_weights("dense_1", {"1": np.full((1,), 7.0, "float32")})
    out = str(tmp_path / "edited.weights.h5")
    editor.save(out)
    model.load_weights(out)
    np.testing.assert_array_equal(model.layers[1].bias.numpy(), [7.0])
    editor.rename_object("dense_1", "renamed")
    with pytest.raises(ValueError, match="does not appear"):
        editor.delete_object("dense_1")
    editor.summary()
    assert "renamed" in capsys.readouterr().out
    with pytest.raises(ValueError, match="Received: filepath=x.json"):
        saving.KerasFileEditor("x.json")


def test_public_names():
    for name in ("CustomObjectScope", "KerasFileEditor", "custom_object_scope",
                 "deserialize_keras_object", "get_custom_objects", "get_registered_name",
                 "get_registered_object", "register_keras_serializable",
                 "serialize_keras_object"):
        assert hasattr(saving, name), name
    assert json.dumps(layers.serialize(layers.Dense(1)))


def test_enable_unsafe_deserialization_turns_safe_mode_off(tmp_path, monkeypatch):
    from kerasish import config

    inputs = keras.Input((2,))
    model = keras.Model(inputs, layers.Lambda(lambda t: ops.multiply(t, 5.0), name="five")(inputs))
    path = str(tmp_path / "lam.keras")
    model.save(path)

    def five(t):
        return ops.multiply(t, 5.0)

    with pytest.raises(ValueError, match="safe_mode=False"):
        saving.load_model(path, custom_objects={"five": five})
    monkeypatch.setitem(config._FLAGS, "unsafe_deserialization", False)
    keras.config.enable_unsafe_deserialization()
    loaded = saving.load_model(path, custom_objects={"five": five})
    np.testing.assert_allclose(loaded.predict(np.ones((1, 2), "float32"), verbose=0), [[5, 5]])


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_builtin_layer_with_registered_activation_round_trips(tmp_path, suffix):
    dense = layers.Dense(2, activation=scaled_relu)
    assert dense.get_config()["activation"] == saving.serialize_keras_object(scaled_relu)
    assert layers.Dense.from_config(dense.get_config()).activation is scaled_relu
    inputs = keras.Input((2,))
    model = keras.Model(inputs, layers.Dense(2, activation=scaled_relu, name="d")(inputs))
    path = str(tmp_path / f"act{suffix}")
    model.save(path)
    assert saving.load_model(path).get_layer("d").activation is scaled_relu


@saving.register_keras_serializable(package="RegTest")
class ScaledMSE(keras.losses.Loss):
    def __init__(self, scale=0.5, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, y_true, y_pred):
        return ops.multiply(ops.mean(ops.square(ops.subtract(y_pred, y_true)), axis=-1),
                            self.scale)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@saving.register_keras_serializable(package="RegTest")
def abs_error(y_true, y_pred):
    return ops.mean(ops.abs(ops.subtract(y_pred, y_true)), axis=-1)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_registered_loss_class_and_metric_function_round_trip(tmp_path, suffix):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, layers.Dense(1, kernel_initializer="ones")(inputs))
    model.compile(optimizer="sgd", loss=ScaledMSE(scale=0.25), metrics=[abs_error])
    x, y = np.ones((4, 2), "float32"), np.zeros((4, 1), "float32")
    # Predictions 2: loss 0.25 * 4 = 1, abs error 2.
    expected = {"abs_error": 2.0, "loss": 1.0}
    assert model.evaluate(x, y, verbose=0, return_dict=True) == expected
    path = str(tmp_path / f"loss{suffix}")
    model.save(path)
    loaded = saving.load_model(path)
    assert isinstance(loaded.loss, ScaledMSE) and loaded.loss.scale == 0.25
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == expected
