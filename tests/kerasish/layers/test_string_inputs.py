"""String inputs through the functional API (docs/sparse.md): ``Input(dtype="string")`` takes
NumPy str/object arrays, string batches pass through layers that accept strings, and a numeric
layer that receives strings says so (strings carry no gradient)."""
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers


class WordLength(layers.Layer):
    """A string-accepting layer: the length of each string, as float32 (no gradient)."""

    _accepts_strings = True

    def call(self, inputs):
        import engine

        lengths = np.vectorize(len, otypes=["float32"])(np.asarray(inputs, dtype=object))
        return engine.Tensor(lengths)

    def compute_output_shape(self, input_shape):
        return input_shape


WORDS = np.array([["a"], ["bbb"], ["cc"], ["dddd"]])


def test_string_input_keras_tensor_and_config():
    x = keras.Input(shape=(1,), dtype="string")
    assert x.dtype == "string" and x.shape == (None, 1)
    config = x._keras_history[0].get_config()
    # Keras 3.15's InputLayer config for a string input.
    assert config == {"batch_shape": (None, 1), "dtype": "string", "sparse": False,
                      "ragged": False, "name": config["name"], "optional": False}


@pytest.mark.parametrize("words", [WORDS, WORDS.astype(object), WORDS.astype("S")])
def test_string_batches_pass_through_the_model(words):
    x = keras.Input(shape=(1,), dtype="string")
    model = keras.Model(x, x)
    out = model.predict(words, batch_size=3, verbose=0)
    assert out.dtype == object and out.shape == (4, 1)
    assert list(out[:, 0]) == list(words.astype(object)[:, 0])


def test_strings_flow_into_numeric_layers_after_a_string_layer_and_train():
    x = keras.Input(shape=(1,), dtype="string")
    dense = layers.Dense(1, kernel_initializer="zeros")
    model = keras.Model(x, dense(WordLength()(x)))
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    y = np.array([[1.0], [3.0], [2.0], [4.0]], "float32")
    # One full-batch SGD step from zeros: kernel -= lr * mean(2 * (0 - y) * length) per sample.
    model.fit(WORDS, y, batch_size=4, epochs=1, verbose=0)
    lengths = np.array([1.0, 3.0, 2.0, 4.0])
    np.testing.assert_allclose(dense.kernel.numpy()[0, 0], 0.01 * np.mean(2 * y[:, 0] * lengths),
                               rtol=1e-6)
    np.testing.assert_allclose(model.predict(WORDS, verbose=0)[:, 0],
                               dense.kernel.numpy()[0, 0] * lengths + dense.bias.numpy()[0],
                               rtol=1e-6)
    assert np.isfinite(model.evaluate(WORDS, y, verbose=0))


def test_numeric_layer_refuses_strings_symbolically_and_eagerly():
    x = keras.Input(shape=(1,), dtype="string")
    with pytest.raises(TypeError, match=r"Layer 'dense_s' \(of type Dense\) computes on "
                                        r"numbers but received strings.*dtype=string"):
        layers.Dense(2, name="dense_s")(x)
    with pytest.raises(TypeError, match="Strings carry no gradient.*dtype=object"):
        layers.Dense(2)(WORDS)
    with pytest.raises(TypeError, match="computes on numbers"):
        layers.Normalization(axis=None)(WORDS)


def test_sparse_batches_go_only_to_layers_that_consume_them():
    ids = keras.Input((2,), dtype="int64")
    encoded = layers.CategoryEncoding(10, sparse=True)(ids)
    with pytest.raises(TypeError, match=r"does not take sparse batches.*shape \(None, 10\)"):
        layers.Activation("relu")(encoded)
    with pytest.raises(TypeError, match="Set `sparse=False`"):
        layers.Activation("relu")(layers.CategoryEncoding(10, sparse=True)(np.array([[1, 2]])))
    assert layers.Dense(3)(encoded).shape == (None, 3)


def test_a_string_layer_without_shape_arithmetic_gets_its_spec_by_running():
    class FirstChar(layers.Layer):
        _accepts_strings = True

        def call(self, inputs):
            import engine

            return engine.Tensor(np.vectorize(lambda s: float(len(s[:1])),
                                              otypes=["float32"])(inputs))

    out = FirstChar()(keras.Input(shape=(3,), dtype="string"))
    assert out.shape == (None, 3) and out.dtype == "float32"
