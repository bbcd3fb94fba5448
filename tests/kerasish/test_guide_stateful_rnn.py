"""A program in the style of Keras's guides: a stateful LSTM reads long series in consecutive
chunks, one batch row per series, with the states reset between epochs by a callback."""
import numpy as np

import kerasish as keras
from kerasish import layers

SERIES, LENGTH, CHUNK = 4, 48, 8


def make_series(seed=0):
    """SERIES noisy sine waves of different frequencies; the target is the next value."""
    rng = np.random.default_rng(seed)
    t = np.arange(LENGTH + 1)
    freq = rng.uniform(0.1, 0.3, (SERIES, 1))
    waves = np.sin(freq * t + rng.uniform(0, 6, (SERIES, 1))) + 0.05 * rng.standard_normal(
        (SERIES, LENGTH + 1))
    return waves[:, :-1, None].astype("float32"), waves[:, 1:, None].astype("float32")


def as_consecutive_batches(a):
    """(SERIES, LENGTH, 1) -> (chunks * SERIES, CHUNK, 1): batch k holds chunk k of every
    series, so row i of each batch continues row i of the previous batch."""
    chunks = a.reshape(SERIES, LENGTH // CHUNK, CHUNK, 1)
    return chunks.transpose(1, 0, 2, 3).reshape(-1, CHUNK, 1)


class ResetStatesEachEpoch(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.resets = 0

    def on_epoch_begin(self, epoch, logs=None):
        for layer in self.model.layers:
            if getattr(layer, "stateful", False):
                layer.reset_states()
                self.resets += 1


def build_model(stateful):
    batch_shape = (SERIES, CHUNK, 1) if stateful else (None, LENGTH, 1)
    return keras.Sequential([
        keras.Input(batch_shape=batch_shape),
        layers.LSTM(12, stateful=stateful, return_sequences=True, name="lstm"),
        layers.Dense(1, name="head"),
    ])


def test_stateful_lstm_learns_long_series_chunk_by_chunk():
    keras.utils.set_random_seed(1)
    x, y = make_series()
    model = build_model(stateful=True)
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="mse")
    reset = ResetStatesEachEpoch()
    history = model.fit(as_consecutive_batches(x), as_consecutive_batches(y),
                        batch_size=SERIES, epochs=6, shuffle=False, callbacks=[reset],
                        verbose=0)
    losses = history.history["loss"]
    assert reset.resets == 6
    assert losses[-1] < 0.5 * losses[0], losses

    # Fed chunk by chunk after a reset, the stateful model predicts what the same weights
    # predict on the whole series at once.
    model.get_layer("lstm").reset_states()
    chunked = model.predict(as_consecutive_batches(x), batch_size=SERIES, verbose=0)
    whole = build_model(stateful=False)
    whole.set_weights(model.get_weights())
    expected = whole.predict(x, verbose=0)
    np.testing.assert_allclose(chunked, as_consecutive_batches(expected), atol=1e-5)
