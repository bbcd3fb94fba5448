"""Sequential: lists or add/pop, with or without Input, built on first call."""
import numpy as np
import pytest

import kerasish as keras
from kerasish.layers import Dense, Input


def test_with_input_builds_at_once_and_lists_no_input_layer():
    model = keras.Sequential([Input((8,)), Dense(4, name="h"), Dense(1, name="o")])
    assert model.built and [layer.name for layer in model.layers] == ["h", "o"]
    assert model.output_shape == (None, 1)
    assert [w.path for w in model.weights] == ["h/kernel", "h/bias", "o/kernel", "o/bias"]


def test_without_input_builds_on_first_call():
    model = keras.Sequential([Dense(4), Dense(2)])
    assert not model.built
    assert model(np.ones((3, 5))).shape == (3, 2)
    assert model.built and model.input_shape == (None, 5)


def test_add_and_pop():
    model = keras.Sequential()
    model.add(Input((3,)))
    model.add(Dense(2, name="first"))
    model.add(Dense(7, name="second"))
    assert model.output_shape == (None, 7)
    popped = model.pop()
    assert popped.name == "second" and model.output_shape == (None, 2)
    assert model(np.ones((1, 3))).shape == (1, 2)


def test_add_rejects_non_layers_and_duplicate_names():
    model = keras.Sequential()
    with pytest.raises(ValueError, match="Only instances of `keras.Layer`"):
        model.add("dense")
    model.add(Dense(1, name="same"))
    with pytest.raises(ValueError, match="unique names"):
        model.add(Dense(1, name="same"))


def test_sequential_as_a_layer_in_a_functional_model():
    inner = keras.Sequential([Input((4,)), Dense(3)])
    x = Input((4,))
    model = keras.Model(x, Dense(1)(inner(x)))
    assert model(np.ones((2, 4))).shape == (2, 1)
    assert len(model.weights) == 4


def test_numbers_match_a_hand_computation():
    model = keras.Sequential([Input((2,)), Dense(2, activation="tanh"), Dense(1)])
    w1, b1, w2, b2 = np.eye(2), np.array([0.1, -0.2]), np.array([[1.0], [-1.0]]), np.zeros(1)
    model.set_weights([w1, b1, w2, b2])
    x = np.array([[0.5, 0.25]], np.float32)
    np.testing.assert_allclose(model(x).numpy(), np.tanh(x @ w1 + b1) @ w2 + b2, rtol=1e-6)
