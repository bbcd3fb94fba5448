"""Two programs in the style of Keras 3's guides, run as a user writes them:

- custom layers and a VAE written with ``keras.ops`` and ``keras.random`` ("Making new layers and
  models via subclassing"), with ops inside a functional graph;
- weather-style forecasting from ``keras.utils.timeseries_dataset_from_array`` ("Timeseries
  forecasting").

The numbers checked are computed here with NumPy, from the windows' definition and the layer's
formula, never by kerasish.
"""
import numpy as np

import kerasish as keras
from kerasish import layers, ops


class Linear(keras.layers.Layer):
    def __init__(self, units=32, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True)

    def call(self, inputs):
        return ops.matmul(inputs, self.w) + self.b


class Sampling(keras.layers.Layer):
    """z = mean + exp(log_var / 2) * eps, eps drawn from a seeded generator."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        epsilon = keras.random.normal(shape=ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class VAE(keras.Model):
    def __init__(self, original_dim, latent_dim=2, **kwargs):
        super().__init__(**kwargs)
        self.hidden = Linear(16)
        self.dense_mean = layers.Dense(latent_dim)
        self.dense_log_var = layers.Dense(latent_dim)
        self.sampling = Sampling()
        self.decoder_hidden = layers.Dense(16, activation="relu")
        self.decoder_out = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        h = ops.relu(self.hidden(inputs))
        z_mean, z_log_var = self.dense_mean(h), self.dense_log_var(h)
        z = self.sampling((z_mean, z_log_var))
        reconstructed = self.decoder_out(self.decoder_hidden(z))
        kl = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
        self.add_loss(kl)
        return reconstructed


def test_custom_linear_layer_computes_its_formula():
    layer = Linear(3)
    x = np.random.default_rng(0).standard_normal((4, 5)).astype("float32")
    y = ops.convert_to_numpy(layer(x))
    w, b = (v.numpy() for v in layer.weights)
    np.testing.assert_allclose(y, x @ w + b, rtol=1e-6, atol=1e-6)
    assert [v.shape for v in layer.trainable_weights] == [(5, 3), (3,)]


def test_the_vae_trains_with_its_kl_loss_added():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = (rng.random((256, 12)) > 0.5).astype("float32")
    vae = VAE(12)
    vae.compile(keras.optimizers.Adam(1e-2), loss=keras.losses.BinaryCrossentropy())
    history = vae.fit(x, x, epochs=8, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]
    assert len(vae.losses) == 1  # the KL term of the last call
    recon = vae.predict(x[:4], verbose=0)
    assert recon.shape == (4, 12) and recon.min() > 0 and recon.max() < 1


def test_ops_in_a_functional_graph_train_and_match_numpy():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8,))
    h = layers.Dense(4)(inputs)
    outputs = ops.tanh(h) * 2.0 + ops.mean(inputs, axis=-1, keepdims=True)
    model = keras.Model(inputs, outputs)
    x = np.random.default_rng(1).standard_normal((64, 8)).astype("float32")
    kernel, bias = model.layers[1].get_weights()
    expected = np.tanh(x @ kernel + bias) * 2.0 + x.mean(-1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    y = np.tanh(x[:, :4]).astype("float32")
    model.compile("adam", "mse")
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_forecasting_from_timeseries_dataset_from_array():
    keras.utils.set_random_seed(0)
    t = np.arange(600, dtype="float32")
    rng = np.random.default_rng(0)
    series = np.stack([np.sin(t / 10), np.cos(t / 17)], axis=-1) + rng.normal(0, 0.05, (600, 2))
    series = series.astype("float32")
    past, future, step = 24, 6, 2
    # As the example: the window starting at i predicts the first feature `future` steps past
    # its end.
    start = past + future
    x_data, y_data = series[:-start], series[start - 1:, 0]
    train = keras.utils.timeseries_dataset_from_array(
        x_data[:400], y_data[:400], sequence_length=past // step, sampling_rate=step,
        batch_size=32)
    val = keras.utils.timeseries_dataset_from_array(
        x_data[400:], y_data[400:], sequence_length=past // step, sampling_rate=step,
        batch_size=32)
    first_x, first_y = train[0]
    first_x, first_y = np.asarray(first_x), np.asarray(first_y)
    assert first_x.shape == (32, past // step, 2)
    np.testing.assert_array_equal(first_x[3], x_data[3:3 + past:step])
    np.testing.assert_array_equal(first_y[3], y_data[3])
    model = keras.Sequential([keras.Input((past // step, 2)), layers.LSTM(16), layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-2), loss="mse")
    history = model.fit(train, validation_data=val, epochs=4, verbose=0)
    assert list(history.history) == ["loss", "val_loss"]
    assert history.history["val_loss"][-1] < history.history["val_loss"][0]
    assert history.history["val_loss"][-1] < np.var(y_data[400:])
