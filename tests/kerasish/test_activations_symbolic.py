"""keras.activations on KerasTensors record graph nodes (Keras 3 routes them through keras.ops):
shapes by arithmetic, values as the functions give them, saved and loaded by name."""
import numpy as np
import pytest

import kerasish as keras


@pytest.mark.parametrize("name, expected_shape", [("relu", (None, 6)), ("softmax", (None, 6)),
                                                  ("gelu", (None, 6)), ("glu", (None, 3)),
                                                  ("hard_swish", (None, 6))])
def test_an_activation_on_a_keras_tensor_is_a_node(name, expected_shape, tmp_path):
    inputs = keras.Input((6,))
    outputs = getattr(keras.activations, name)(inputs)
    assert outputs.shape == expected_shape
    model = keras.Model(inputs, outputs)
    x = np.linspace(-3, 3, 12, dtype="float32").reshape(2, 6)
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               getattr(keras.activations, name)(x).numpy(), rtol=1e-6)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_relu_with_arguments_on_a_keras_tensor():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, keras.activations.relu(inputs, max_value=1.0))
    x = np.array([[-1.0, 0.5, 2.0, 3.0]], "float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), [[0.0, 0.5, 1.0, 1.0]])
