"""Functional models: graph building, Keras's layer order, shared layers, nesting, structures."""
import numpy as np
import pytest

import engine
import kerasish as keras
from engine import ops
from kerasish.layers import Dense, Input, Layer


class Sum2(Layer):
    """A two-input layer defined here so the graph tests need nothing but Dense."""

    def call(self, inputs):
        return ops.add(inputs[0], inputs[1])

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def test_layers_come_in_keras_depth_order_not_creation_order():
    x = Input((4,), name="x")
    a = Dense(3, name="a")(x)
    b = Dense(3, name="b")(x)  # created before c ...
    c = Dense(3, name="c")(a)
    out = Sum2(name="merge")([c, b])
    model = keras.Model(x, out)
    # ... but Keras orders by decreasing depth, ties by the depth-first walk from the output.
    assert [layer.name for layer in model.layers] == ["x", "a", "c", "b", "merge"]


def test_model_runs_the_graph_with_the_same_numbers_as_by_hand():
    x = Input((2,))
    d1, d2 = Dense(3, activation="relu"), Dense(1)
    model = keras.Model(x, d2(d1(x)))
    w1, b1 = np.arange(6.0).reshape(2, 3) - 2, np.array([0.5, -1.0, 0.0])
    w2, b2 = np.array([[1.0], [2.0], [-1.0]]), np.array([0.25])
    model.set_weights([w1, b1, w2, b2])
    data = np.array([[1.0, 2.0], [-1.0, 0.5]], np.float32)
    expected = np.maximum(data @ w1 + b1, 0) @ w2 + b2
    np.testing.assert_allclose(model(data).numpy(), expected, rtol=1e-6)
    assert model(data).dtype == np.float32


def test_shared_layer_called_twice_owns_one_set_of_weights():
    a, b = Input((4,), name="in_a"), Input((4,), name="in_b")
    shared = Dense(2, name="shared")
    model = keras.Model([a, b], Sum2()([shared(a), shared(b)]))
    assert len(model.weights) == 2 and len(shared._inbound_nodes) == 2
    xa, xb = np.ones((1, 4), np.float32), 2 * np.ones((1, 4), np.float32)
    w, bias = shared.get_weights()
    np.testing.assert_allclose(model([xa, xb]).numpy(), xa @ w + xb @ w + 2 * bias, rtol=1e-6)


def test_model_used_as_a_layer_inside_another():
    inner_in = Input((3,))
    inner = keras.Model(inner_in, Dense(2, name="inner_dense")(inner_in), name="inner")
    x = Input((5,))
    outer = keras.Model(x, inner(Dense(3, name="first")(x)), name="outer")
    assert [layer.name for layer in outer.layers][-1] == "inner"
    assert [w.path for w in outer.weights] == [
        "first/kernel", "first/bias", "inner_dense/kernel", "inner_dense/bias"]
    assert outer(np.ones((4, 5))).shape == (4, 2)
    assert outer.output.shape == (None, 2)


def test_multiple_inputs_and_outputs_as_lists_and_dicts():
    a, b = Input((4,), name="a"), Input((2,), name="b")
    da, db = Dense(3)(a), Dense(3)(b)
    model = keras.Model({"a": a, "b": b}, {"sum": Sum2()([da, db]), "left": da})
    out = model({"a": np.ones((2, 4)), "b": np.ones((2, 2))})
    assert set(out) == {"sum", "left"} and out["sum"].shape == (2, 3)
    listed = keras.Model([a, b], [da, db])
    assert [t.shape for t in listed([np.ones((2, 4)), np.ones((2, 2))])] == [(2, 3), (2, 3)]


def test_two_input_model_given_one_array_is_a_clear_error():
    a, b = Input((4,), name="ia"), Input((4,), name="ib")
    model = keras.Model([a, b], Sum2()([a, b]))
    with pytest.raises(ValueError, match=r"expects 2 named input\(s\) with keys \['ia', 'ib'\]"):
        model(np.ones((1, 4)))


def test_subclassed_model_tracks_its_layers_and_runs_symbolically():
    class TwoLayers(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden, self.out = Dense(5), Dense(1)

        def call(self, inputs):
            return self.out(self.hidden(inputs))

    model = TwoLayers()
    assert model(np.ones((2, 3))).shape == (2, 1)
    assert len(model.weights) == 4 and model.layers == [model.hidden, model.out]
    assert model(Input((3,))).shape == (None, 1)


def test_graph_disconnected_is_an_error():
    a, b = Input((2,)), Input((2,))
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a, Sum2()([a, b]))


def test_layer_names_are_unique_and_keras_style():
    keras.utils.clear_session()
    assert [Dense(1).name for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert Input((2,))._keras_history[0].name == "input_layer"


def test_get_layer_by_name_and_index():
    x = Input((2,), name="gx")
    model = keras.Model(x, Dense(1, name="only")(x))
    assert model.get_layer("only") is model.get_layer(index=1)
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")


def test_trainable_false_on_a_nested_model_freezes_its_weights():
    inner_in = Input((3,))
    inner = keras.Model(inner_in, Dense(2)(inner_in))
    x = Input((3,))
    outer = keras.Model(x, Dense(1)(inner(x)))
    inner.trainable = False
    assert len(outer.trainable_weights) == 2 and len(outer.non_trainable_weights) == 2
    loss = ops.mean(outer(np.ones((2, 3))))
    grads = engine.grad(loss, outer.trainable_weights)
    assert all(g.shape == w.shape for g, w in zip(grads, outer.trainable_weights))
    assert not any(w.requires_grad for w in inner.weights)


def test_a_wrong_last_axis_names_the_layer_and_shapes():
    model = keras.Sequential([Input((8,)), Dense(4, name="d8")])
    with pytest.raises(ValueError, match=r"layer 'd8' is incompatible with the layer: expected "
                                         r"axis -1 of input shape to have value 8, but received "
                                         r"input with shape \(2, 5\)"):
        model(np.ones((2, 5)))


def test_keras_tensors_have_no_value():
    with pytest.raises(ValueError, match="KerasTensor is symbolic"):
        float(Input((2,)))
    with pytest.raises(TypeError, match="cannot be used as a boolean"):
        bool(Input((2,)))
