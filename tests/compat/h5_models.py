"""The four models of the legacy ``.h5`` compatibility check, written once for any Keras.

Each builder takes the ``keras`` module to build with (kerasish, tf-keras 2 or Keras 3), so the
same definitions run in our test venv and in a real Keras's venv. This file imports only NumPy:
the real-Keras side (``real_keras_h5.py``) loads it by path, without kerasish.
"""
import numpy as np

MODELS = ("mlp", "mnist_cnn", "rnn", "video_qa", "nested", "two_heads")


def _mlp(keras):
    layers = keras.layers
    model = keras.Sequential([keras.Input((4,)), layers.Dense(8, activation="relu"),
                              layers.Dense(3)])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse", metrics=["mae"])
    return model


def _mnist_cnn(keras):
    # The README's CNN, scaled to 8x8 images.
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Conv2D(8, 5, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(10),
    ])
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def _rnn(keras):
    layers = keras.layers
    x = keras.Input((5, 3), name="sequence")
    h = layers.GRU(6, return_sequences=True)(x)
    h = layers.LSTM(4)(h)
    model = keras.Model(x, layers.Dense(2, name="out")(h))
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss=keras.losses.MeanSquaredError(), metrics=["mse", "mae"])
    return model


def _video_qa(keras):
    # The Video-QA graph, small: a frozen frame CNN (a nested Sequential) in TimeDistributed.
    layers = keras.layers
    video = keras.Input(shape=(None, 12, 12, 3), name="video")
    cnn = keras.Sequential([keras.Input((12, 12, 3)), layers.Conv2D(4, 3, activation="relu"),
                            layers.BatchNormalization(), layers.GlobalAveragePooling2D()])
    cnn.trainable = False
    encoded_video = layers.LSTM(8)(layers.TimeDistributed(cnn)(video))
    question = keras.Input(shape=(6,), dtype="int32", name="question")
    encoded_question = layers.LSTM(4)(layers.Embedding(50, 8, mask_zero=True)(question))
    x = layers.concatenate([encoded_video, encoded_question])
    x = layers.Dense(8, activation="relu")(x)
    model = keras.Model([video, question], layers.Dense(5, name="answer")(x))
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def _nested(keras):
    # Beyond the four: a nested functional model, a wrapped Dense, Bidirectional, an RNN over a
    # cell, a regularizer and initializers given by name, all through one file.
    layers = keras.layers
    frame = keras.Input((6, 6, 2))
    features = layers.GlobalMaxPooling2D()(
        layers.Conv2D(3, 3, kernel_initializer="he_normal")(frame))
    frame_model = keras.Model(frame, features, name="frame_model")
    x = keras.Input((4, 6, 6, 2), name="clip")
    h = layers.TimeDistributed(frame_model)(x)
    h = layers.TimeDistributed(layers.Dense(5))(h)
    h = layers.Bidirectional(layers.LSTM(3, return_sequences=True))(h)
    h = layers.Activation("tanh")(layers.RNN(layers.GRUCell(4))(h))
    out = layers.Dense(2, kernel_regularizer=keras.regularizers.L2(0.01), name="out")(h)
    model = keras.Model(x, out)
    model.compile(optimizer="adam", loss="mae", metrics=["mse"])
    return model


def _two_heads(keras):
    # Also beyond the four: per-output losses, loss weights and metrics, and RMSprop's slots.
    layers = keras.layers
    x = keras.Input((4,), name="features")
    h = layers.Dense(8, activation="tanh")(x)
    scores = layers.Dense(3, name="scores")(h)
    flag = layers.Dense(1, activation="sigmoid", name="flag")(h)
    model = keras.Model(x, [scores, flag])
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                  loss={"scores": "mse", "flag": "binary_crossentropy"},
                  loss_weights={"scores": 1.0, "flag": 0.5},
                  metrics={"scores": ["mae"], "flag": ["accuracy"]})
    return model


BUILDERS = {"mlp": _mlp, "mnist_cnn": _mnist_cnn, "rnn": _rnn, "video_qa": _video_qa,
            "nested": _nested, "two_heads": _two_heads}


def build(keras, name):
    """The compiled model ``name`` built with ``keras``, from a fixed seed."""
    keras.utils.set_random_seed(0)
    return BUILDERS[name](keras)


def data(name):
    """Fixed ``(inputs, targets)`` for ``name``: a list of input arrays, and a target array
    (a list of them for a model with several outputs)."""
    rng = np.random.default_rng(sum(map(ord, name)))
    if name == "mlp":
        return [rng.standard_normal((6, 4)).astype("float32")], \
            rng.standard_normal((6, 3)).astype("float32")
    if name == "mnist_cnn":
        return [rng.random((6, 8, 8, 1), dtype=np.float32)], rng.integers(0, 10, (6,))
    if name == "rnn":
        return [rng.standard_normal((6, 5, 3)).astype("float32")], \
            rng.standard_normal((6, 2)).astype("float32")
    if name == "two_heads":
        return [rng.standard_normal((6, 4)).astype("float32")], \
            [rng.standard_normal((6, 3)).astype("float32"),
             rng.integers(0, 2, (6, 1)).astype("float32")]
    if name == "nested":
        return [rng.standard_normal((3, 4, 6, 6, 2)).astype("float32")], \
            rng.standard_normal((3, 2)).astype("float32")
    videos = rng.random((4, 3, 12, 12, 3), dtype=np.float32)
    questions = np.zeros((4, 6), np.int32)
    for row, length in enumerate((2, 6, 4, 3)):
        questions[row, :length] = rng.integers(1, 50, length)
    return [videos, questions], rng.integers(0, 5, (4,))


def flat(outputs):
    """A model's outputs (one array or a list of them) as one float64 vector."""
    parts = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return np.concatenate([np.ravel(np.asarray(p, np.float64)) for p in parts])


def relative_difference(got, expected):
    """``max |got - expected| / max |expected|`` over all of a model's outputs."""
    got, expected = flat(got), flat(expected)
    if got.shape != expected.shape:
        return float("inf")
    return float(np.max(np.abs(got - expected)) / max(np.max(np.abs(expected)), 1e-30))
