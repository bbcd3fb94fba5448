"""keras.models: clone_model with Keras 3's arguments (clone_function, call_function,
input_tensors, recursive), compiled clones, and the module's other names."""
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers

X = np.array([[1.0, -2.0], [0.5, 3.0]], "float32")


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.utils.clear_session()


def functional():
    inputs = keras.Input((2,), name="features")
    hidden = layers.Dense(3, kernel_initializer="ones", name="hidden")(inputs)
    return keras.Model(inputs, layers.Dense(1, kernel_initializer="ones", name="out")(hidden))


def test_default_clone_has_new_layers_and_is_compiled_like_the_model():
    model = functional()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    clone = keras.models.clone_model(model)
    assert clone.get_config() == model.get_config()
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert clone.compiled and clone.get_compile_config() == model.get_compile_config()
    # Same initializers (ones): x0 + x1 per hidden unit, summed over 3 units.
    np.testing.assert_allclose(clone.predict(X, verbose=0), [[-3.0], [10.5]])


def test_clone_function_can_share_or_replace_layers():
    model = functional()
    shared = keras.models.clone_model(model, clone_function=lambda layer: layer)
    assert shared.get_layer("hidden") is model.get_layer("hidden")

    def relu_hidden(layer):
        config = layer.get_config()
        if layer.name == "hidden":
            config["activation"] = "relu"
        return type(layer).from_config(config)

    clone = keras.models.clone_model(model, clone_function=relu_hidden)
    # relu(-1) = 0 for the first row; the second stays 3.5 * 3.
    np.testing.assert_allclose(clone.predict(X, verbose=0), [[0.0], [10.5]])


def test_call_function_and_input_tensors():
    model = functional()
    called = []

    def call_function(layer, *args, **kwargs):
        called.append(layer.name)
        out = layer(*args, **kwargs)
        return layers.Activation("relu")(out) if layer.name == "hidden" else out

    new_inputs = keras.Input((2,), name="renamed")
    clone = keras.models.clone_model(model, input_tensors=new_inputs, call_function=call_function)
    assert called == ["hidden", "out"]
    assert clone.inputs[0] is new_inputs
    np.testing.assert_allclose(clone.predict(X, verbose=0), [[0.0], [10.5]])
    with pytest.raises(ValueError, match="must be KerasTensors"):
        keras.models.clone_model(model, input_tensors=[X])


def test_recursive_clones_nested_models():
    inner = keras.Sequential([keras.Input((2,)), layers.Dense(2, name="inner_dense")],
                             name="inner")
    inputs = keras.Input((2,))
    model = keras.Model(inputs, inner(inputs))
    flat = keras.models.clone_model(model, clone_function=lambda layer: layer)
    assert flat.get_layer("inner") is inner
    deep = keras.models.clone_model(model, clone_function=lambda layer: layer, recursive=True)
    assert deep.get_layer("inner") is not inner
    assert deep.get_layer("inner").get_layer("inner_dense") is inner.get_layer("inner_dense")


def test_sequential_and_subclassed_rules():
    seq = keras.Sequential([keras.Input((2,), name="x"), layers.Dense(2, name="d")], name="seq")
    clone = keras.models.clone_model(seq)
    assert isinstance(clone, keras.Sequential) and clone.name == "seq"
    assert clone.get_config() == seq.get_config() and clone.layers[0] is not seq.layers[0]
    with pytest.raises(ValueError, match="not supported with Sequential models"):
        keras.models.clone_model(seq, call_function=lambda layer, *a, **k: layer(*a, **k))

    class Net(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    with pytest.raises(ValueError, match="only supported for Sequential models or Functional"):
        keras.models.clone_model(Net(), clone_function=lambda layer: layer)
    assert isinstance(keras.models.clone_model(Net()), Net)
    with pytest.raises(ValueError, match="Unexpected keyword argument"):
        keras.models.clone_model(seq, deep=True)


def test_module_names(tmp_path):
    model = functional()
    path = str(tmp_path / "m.keras")
    keras.models.save_model(model, path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    again = keras.models.model_from_json(model.to_json())
    assert again.get_config() == model.get_config()
