"""Real layers loaded from Keras-layout weight files written here with h5py (names, order and
shapes as tf-keras writes them: docs/file-formats.md), then checked against NumPy."""
import h5py
import numpy as np

import kerasish as keras
from kerasish import layers

RNG = np.random.default_rng(7)


def write_keras_file(path, groups):
    """groups: [(layer name, [(weight name, array), ...]), ...] in layer_names order."""
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [name.encode() for name, _ in groups]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.21.0"
        for name, weights in groups:
            g = f.create_group(name)
            g.attrs["weight_names"] = [w.encode() for w, _ in weights] if weights else \
                np.zeros((0,), np.float64)
            for w, value in weights:
                g.create_dataset(w, data=value.astype("<f4"))


def rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_conv_bn_lstm_embedding_model_loads_a_keras_layout_file(tmp_path):
    frames = keras.Input((3, 6, 6, 2), name="frames")
    cnn = keras.Sequential([keras.Input((6, 6, 2)), layers.Conv2D(4, 3, use_bias=False),
                            layers.BatchNormalization(scale=False),
                            layers.GlobalAveragePooling2D()], name="cnn")
    v = layers.LSTM(5, name="lstm")(layers.TimeDistributed(cnn, name="time_distributed")(frames))
    words = keras.Input((4,), dtype="int32", name="words")
    q = layers.Embedding(10, 3, name="embedding")(words)
    q = layers.GlobalAveragePooling1D(name="gap")(q)
    out = layers.Dense(2, name="dense")(layers.concatenate([v, q], name="concatenate"))
    model = keras.Model([frames, words], out)

    kernel = rand(3, 3, 2, 4)
    beta, mean, var = rand(4), rand(4), np.abs(rand(4)) + 0.5
    lstm_w, lstm_u, lstm_b = rand(4, 20), rand(5, 20), rand(20)
    table, dense_w, dense_b = rand(10, 3), rand(8, 2), rand(2)
    groups = {
        "time_distributed": [("conv2d/kernel:0", kernel),
                             ("batch_normalization/beta:0", beta),
                             ("batch_normalization/moving_mean:0", mean),
                             ("batch_normalization/moving_variance:0", var)],
        "lstm": [("lstm/lstm_cell/kernel:0", lstm_w), ("lstm/lstm_cell/recurrent_kernel:0", lstm_u),
                 ("lstm/lstm_cell/bias:0", lstm_b)],
        "embedding": [("embedding/embeddings:0", table)],
        "dense": [("dense/kernel:0", dense_w), ("dense/bias:0", dense_b)],
    }
    path = tmp_path / "keras.h5"
    write_keras_file(path, [(layer.name, groups.get(layer.name, [])) for layer in model.layers])
    model.load_weights(str(path))

    x = RNG.random((2, 3, 6, 6, 2), dtype=np.float32)
    ids = np.array([[1, 2, 3, 4], [5, 6, 7, 9]], np.int32)
    # NumPy reference: conv (valid) -> BN inference without gamma -> mean over pixels.
    patches = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(2, 3))
    conv = np.einsum("btijcxy,xyco->btijo", patches, kernel)
    feats = ((conv - mean) / np.sqrt(var + 1e-3) + beta).mean(axis=(2, 3))
    h, c = np.zeros((2, 5)), np.zeros((2, 5))
    for t in range(3):
        z = feats[:, t] @ lstm_w + h @ lstm_u + lstm_b
        i, f, g, o = np.split(z, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
    q_ref = table[ids].mean(axis=1)
    expected = np.concatenate([h, q_ref], axis=-1) @ dense_w + dense_b
    np.testing.assert_allclose(model([x, ids]).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_saved_file_reloads_into_a_fresh_model_with_keras_names(tmp_path):
    def build():
        keras.utils.clear_session()
        inputs = keras.Input((5, 3))
        x = layers.Bidirectional(layers.GRU(2, return_sequences=True))(inputs)
        return keras.Model(inputs, layers.TimeDistributed(layers.Dense(1))(x))

    model = build()
    path = tmp_path / "m.h5"
    model.save_weights(str(path))
    with h5py.File(path, "r") as f:
        names = [n.decode() if isinstance(n, bytes) else n for n in f.attrs["layer_names"]]
        assert names == [layer.name for layer in model.layers]
        td = [n.decode() if isinstance(n, bytes) else n
              for n in f["time_distributed"].attrs["weight_names"]]
        assert td == ["time_distributed/kernel:0", "time_distributed/bias:0"]
        bi = [n.decode() if isinstance(n, bytes) else n
              for n in f["bidirectional"].attrs["weight_names"]]
        assert bi[0] == "bidirectional/forward_gru/gru_cell/kernel:0"
        assert bi[3] == "bidirectional/backward_gru/gru_cell/kernel:0"
    fresh = build()
    fresh.load_weights(str(path))
    x = RNG.random((2, 5, 3), dtype=np.float32)
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())
