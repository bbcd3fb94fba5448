"""Functional models check what they are given, with Keras 3.15's messages.

The expected texts were read from Keras 3.15 (KERAS_BACKEND=jax) on the same models and data.
"""
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers, metrics

XA, XB, Y = np.ones((4, 3), np.float32), np.ones((4, 5), np.float32), np.ones((4, 1), np.float32)


def _two_inputs(dict_inputs=False):
    # NOTE: Concatenate accepts (3 + 5) and (5 + 3) alike: without the model's own check the
    # swapped inputs would train silently.
    a, b = keras.Input((3,), name="a"), keras.Input((5,), name="b")
    out = layers.Dense(1)(layers.Concatenate()([a, b]))
    model = keras.Model({"a": a, "b": b} if dict_inputs else [a, b], out, name="two_inputs")
    model.compile("sgd", "mse")
    return model


WRONG_ORDER = ("Input 0 with name 'a' of layer 'two_inputs' is incompatible with the layer: "
               "expected shape=(None, 3), found shape=(4, 5)")


@pytest.mark.parametrize("how", ["fit", "predict", "call"])
def test_inputs_in_the_wrong_order(how):
    model = _two_inputs()
    run = {"fit": lambda: model.fit([XB, XA], Y, verbose=0),
           "predict": lambda: model.predict([XB, XA], verbose=0),
           "call": lambda: model([XB, XA])}[how]
    with pytest.raises(ValueError) as info:
        run()
    assert str(info.value) == WRONG_ORDER
    model.fit([XA, XB], Y, verbose=0)  # the right order trains


def test_inputs_in_the_wrong_order_when_the_model_is_a_layer():
    inner = _two_inputs()
    a, b = keras.Input((5,), name="outer_a"), keras.Input((3,), name="outer_b")
    with pytest.raises(ValueError, match="expected shape=\\(None, 3\\), found shape=\\(None, 5\\)"):
        inner([a, b])


@pytest.mark.parametrize("dict_inputs", [False, True])
def test_dict_with_a_wrong_key(dict_inputs):
    model = _two_inputs(dict_inputs)
    expected = ('Missing data for input "b". You passed a data dictionary with keys '
                "['a', 'c']. Expected the following keys: ['a', 'b']")
    for run in (lambda: model.fit({"a": XA, "c": XB}, Y, verbose=0),
                lambda: model.predict({"a": XA, "c": XB}, verbose=0),
                lambda: model({"a": XA, "c": XB})):
        with pytest.raises(ValueError) as info:
            run()
        assert str(info.value) == expected
    # Keys are matched by name, in any order; an extra key is ignored (as Keras).
    np.testing.assert_allclose(model.predict({"b": XB, "a": XA, "c": XB}, verbose=0),
                               model.predict([XA, XB], verbose=0))


@pytest.mark.parametrize("how", ["fit", "predict"])
def test_list_of_lists_as_x(how):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.compile("sgd", "mse")
    ragged = [[1, 2, 3], [1, 2]]
    with pytest.raises(ValueError) as info:
        if how == "fit":
            model.fit(ragged, np.ones((2, 2)), verbose=0)
        else:
            model.predict(ragged, verbose=0)
    message = str(info.value)
    assert message.startswith("Unrecognized data type: x=[[1, 2, 3], [1, 2]] (of type "
                              "<class 'list'>).")  # Keras's words, then how to fix it
    assert "make `x` a NumPy array" in message and "pad_sequences" in message


def test_list_of_numbers_as_y():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"Unrecognized data type: y=\[1.0, 2.0\] .*per model "
                                         "output"):
        model.fit(np.ones((2, 3)), [1.0, 2.0], verbose=0)


@pytest.mark.parametrize("label", [7, -1])
def test_label_out_of_range_for_a_top_k_metric(label):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="softmax")])
    model.compile("sgd", "mse", metrics=[metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")])
    labels = np.array([0, 1, label, 2])  # the loss (mse) never reads the labels as ids
    expected = (f"Metric 'top2' (SparseTopKCategoricalAccuracy): label {label} is out of range "
                "for 4 classes (y_pred's last axis): labels must lie in [0, 4). Received: "
                f"y_true.min()={min(label, 0)}, y_true.max()={max(label, 2)}")
    for run in (lambda: model.fit(np.ones((4, 3)), labels, verbose=0),
                lambda: model.evaluate(np.ones((4, 3)), labels, verbose=0)):
        with pytest.raises(ValueError) as info:
            run()
        assert str(info.value) == expected


def test_label_out_of_range_in_the_metric_function():
    with pytest.raises(ValueError, match="^sparse_top_k_categorical_accuracy: label 3 is out of "
                                         "range for 3 classes"):
        metrics.sparse_top_k_categorical_accuracy(np.array([0, 3]), np.ones((2, 3)), k=1)


# -- what the checks let through -------------------------------------------------------------
def test_input_spec_of_a_functional_model():
    specs = _two_inputs().input_spec
    assert [(s.name, s.shape, s.allow_last_axis_squeeze) for s in specs] == [
        ("a", (None, 3), True), ("b", (None, 5), True)]
    model = _two_inputs()
    model.input_spec = None  # as Keras: a model without a spec checks nothing
    assert model.predict([XB, XA], verbose=0).shape == (4, 1)


def test_a_trailing_axis_of_one_is_added_or_squeezed():
    x = keras.Input((1,), name="x")
    model = keras.Model(x, layers.Dense(2)(x))
    column = np.arange(4, dtype=np.float32).reshape(4, 1)
    np.testing.assert_array_equal(model.predict(column[:, 0], verbose=0),
                                  model.predict(column, verbose=0))
    q = keras.Input((3,), name="q")
    model = keras.Model(q, layers.Dense(2)(q))
    np.testing.assert_array_equal(model.predict(np.ones((4, 3, 1)), verbose=0),
                                  model.predict(np.ones((4, 3)), verbose=0))
    with pytest.raises(ValueError, match="Invalid input shape for input .* with name 'q' and "
                                         "path ''. Expected shape \\(None, 3\\), but input has "
                                         "incompatible shape \\(4,\\)"):
        model(np.ones((4,), np.float32))
    listed = keras.Model([q], layers.Dense(2)(q))
    with pytest.raises(ValueError, match="with name 'q' and path '0'"):
        listed([np.ones((4,), np.float32)])
