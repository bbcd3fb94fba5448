"""Recurrent layers: SimpleRNN, LSTM, GRU, the generic RNN and their cells. Each: the Keras-style
harness, numbers against a step-by-step NumPy reference written here, a float64 gradient check,
masking (padded batches equal the unpadded sequences run one by one), states and errors."""
import numpy as np
import pytest

import engine
import kerasish as keras
from engine import Tensor
from kerasish.layers.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from tests.helpers import run_layer_test


def randn(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# -- plain-NumPy references (float64, one time step at a time) -------------------------------

def lstm_step(x, h, c, kernel, rec, bias):
    u = h.shape[-1]
    z = x @ kernel + h @ rec + bias
    i, f = sigmoid(z[:, :u]), sigmoid(z[:, u:2 * u])
    g, o = np.tanh(z[:, 2 * u:3 * u]), sigmoid(z[:, 3 * u:])
    c = f * c + i * g
    return o * np.tanh(c), c


def gru_step(x, h, kernel, rec, bias, reset_after=True):
    u = h.shape[-1]
    if reset_after:
        xb = x @ kernel + bias[0]
        hb = h @ rec + bias[1]
        z = sigmoid(xb[:, :u] + hb[:, :u])
        r = sigmoid(xb[:, u:2 * u] + hb[:, u:2 * u])
        cand = np.tanh(xb[:, 2 * u:] + r * hb[:, 2 * u:])
    else:
        xb = x @ kernel + bias
        z = sigmoid(xb[:, :u] + h @ rec[:, :u])
        r = sigmoid(xb[:, u:2 * u] + h @ rec[:, u:2 * u])
        cand = np.tanh(xb[:, 2 * u:] + (r * h) @ rec[:, 2 * u:])
    return z * h + (1 - z) * cand


def run_reference(kind, x, weights, states=None, mask=None, backwards=False, **kw):
    """Outputs (B, T, u) in processing order and the final states, Keras's mask rules."""
    x = np.asarray(x, np.float64)
    weights = [np.asarray(w, np.float64) for w in weights]
    batch, steps, _ = x.shape
    units = weights[1].shape[0]
    n_states = 2 if kind == "lstm" else 1
    states = [np.zeros((batch, units))] * n_states if states is None else \
        [np.asarray(s, np.float64) for s in states]
    prev_out, outs = np.zeros((batch, units)), []
    for t in (range(steps)[::-1] if backwards else range(steps)):
        if kind == "lstm":
            new = list(lstm_step(x[:, t], *states, *weights))
        elif kind == "gru":
            new = [gru_step(x[:, t], states[0], *weights, **kw)]
        else:
            new = [np.tanh(x[:, t] @ weights[0] + states[0] @ weights[1] + weights[2])]
        out = new[0]
        if mask is not None:
            keep = np.asarray(mask)[:, t][:, None]
            new = [np.where(keep, n, s) for n, s in zip(new, states)]
            out = np.where(keep, out, prev_out)
        states, prev_out = new, out
        outs.append(out)
    return np.stack(outs, axis=1), states


def set_random_weights(layer, x, seed=1, scale=0.5):
    layer(x[:1])  # builds it
    weights = [randn(*w.shape, seed=seed + i) * scale for i, w in enumerate(layer.weights)]
    layer.set_weights(weights)
    return weights


# -- the harness -----------------------------------------------------------------------------

WEIGHT_NAMES = ["kernel", "recurrent_kernel", "bias"]


@pytest.mark.parametrize("cls,kwargs", [
    (LSTM, {"units": 3}),
    (LSTM, {"units": 3, "return_sequences": True, "go_backwards": True}),
    (GRU, {"units": 3, "return_sequences": True}),
    (GRU, {"units": 3, "reset_after": False}),
    (SimpleRNN, {"units": 3, "activation": "relu", "return_sequences": True}),
], ids=["lstm", "lstm-seq-back", "gru-seq", "gru-before", "simple_rnn"])
def test_rnn_layers_harness(cls, kwargs):
    steps = 4
    out = (2, steps, 3) if kwargs.get("return_sequences") else (2, 3)
    run_layer_test(cls, kwargs, (2, steps, 5), out, expected_num_trainable_weights=3,
                   expected_weight_names=WEIGHT_NAMES)


def test_rnn_layers_harness_with_dropout_in_training():
    run_layer_test(LSTM, {"units": 3, "dropout": 0.3, "recurrent_dropout": 0.2, "seed": 1},
                   (2, 4, 5), (2, 3), expected_num_trainable_weights=3)


@pytest.mark.parametrize("cell_cls", [LSTMCell, GRUCell, SimpleRNNCell])
def test_generic_rnn_harness(cell_cls):
    run_layer_test(RNN, {"cell": cell_cls(3), "return_sequences": True}, (2, 4, 5), (2, 4, 3),
                   expected_num_trainable_weights=3, expected_weight_names=WEIGHT_NAMES)


def test_weights_live_on_the_cell_with_keras_shapes_and_paths():
    layer = LSTM(4, name="lstm_x")
    layer(np.zeros((2, 3, 5), np.float32))
    assert isinstance(layer.cell, LSTMCell) and layer.cell.name == "lstm_cell"
    assert [w.shape for w in layer.weights] == [(5, 16), (4, 16), (16,)]
    assert [w.path for w in layer.weights] == ["lstm_x/lstm_cell/kernel",
                                               "lstm_x/lstm_cell/recurrent_kernel",
                                               "lstm_x/lstm_cell/bias"]
    # unit_forget_bias: the forget block (i, f, c, o) of the bias starts at 1.
    np.testing.assert_array_equal(layer.cell.bias.numpy(), [0] * 4 + [1] * 4 + [0] * 8)
    no_forget = LSTM(2, unit_forget_bias=False)
    no_forget(np.zeros((1, 2, 3), np.float32))
    np.testing.assert_array_equal(no_forget.weights[2].numpy(), np.zeros(8))
    gru, gru_before = GRU(4), GRU(4, reset_after=False)
    gru(np.zeros((1, 2, 5), np.float32)), gru_before(np.zeros((1, 2, 5), np.float32))
    assert [w.shape for w in gru.weights] == [(5, 12), (4, 12), (2, 12)]
    assert [w.shape for w in gru_before.weights] == [(5, 12), (4, 12), (12,)]
    assert gru.weights[0].path.endswith("/gru_cell/kernel")
    simple = SimpleRNN(4, use_bias=False)
    simple(np.zeros((1, 2, 5), np.float32))
    assert [w.shape for w in simple.weights] == [(5, 4), (4, 4)]
    assert simple.units == 4 and simple.activation is keras.activations.tanh


def test_lstm_config_is_flat_with_keras_keys():
    config = LSTM(3, return_sequences=True).get_config()
    assert "cell" not in config
    assert list(config) == [
        "name", "trainable", "dtype", "return_sequences", "return_state", "go_backwards",
        "stateful", "unroll", "zero_output_for_mask", "units", "activation",
        "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
        "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
        "bias_regularizer", "activity_regularizer", "kernel_constraint", "recurrent_constraint",
        "bias_constraint", "dropout", "recurrent_dropout", "seed"]
    assert GRU(2).get_config()["reset_after"] is True
    # tf-keras configs carry implementation / time_major=False: accepted.
    LSTM.from_config({**config, "implementation": 2, "time_major": False})


# -- numbers against the NumPy reference ------------------------------------------------------

def test_lstm_matches_numpy_with_sequences_and_states():
    x = randn(2, 4, 3)
    layer = LSTM(5, return_sequences=True, return_state=True)
    weights = set_random_weights(layer, x)
    seq, h, c = layer(x)
    ref_seq, (ref_h, ref_c) = run_reference("lstm", x, weights)
    assert seq.dtype == np.float32 and seq.shape == (2, 4, 5)
    np.testing.assert_allclose(seq.numpy(), ref_seq, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h.numpy(), ref_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c.numpy(), ref_c, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h.numpy(), seq.numpy()[:, -1], rtol=1e-6)


def test_lstm_one_step_by_hand():
    # units=1, input_dim=1: every gate is one number; computed here without any matmul.
    layer = LSTM(1)
    layer(np.zeros((1, 1, 1), np.float32))
    kernel = np.array([[0.5, -0.25, 1.0, 2.0]])
    layer.set_weights([kernel, np.zeros((1, 4)), np.array([0.0, 1.0, 0.0, 0.0])])
    x = 0.8
    i, f, g, o = (sigmoid(0.5 * x), sigmoid(-0.25 * x + 1.0), np.tanh(1.0 * x),
                  sigmoid(2.0 * x))
    c = f * 0.0 + i * g
    np.testing.assert_allclose(layer(np.full((1, 1, 1), x, np.float32)).numpy(),
                               [[o * np.tanh(c)]], rtol=1e-6)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru_matches_numpy(reset_after):
    x = randn(3, 4, 2)
    layer = GRU(3, return_sequences=True, return_state=True, reset_after=reset_after)
    weights = set_random_weights(layer, x)
    seq, h = layer(x)
    ref_seq, (ref_h,) = run_reference("gru", x, weights, reset_after=reset_after)
    np.testing.assert_allclose(seq.numpy(), ref_seq, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h.numpy(), ref_h, rtol=1e-5, atol=1e-6)


def test_simple_rnn_matches_numpy():
    x = randn(2, 5, 3)
    layer = SimpleRNN(4, return_sequences=True)
    weights = set_random_weights(layer, x)
    ref_seq, _ = run_reference("simple", x, weights)
    np.testing.assert_allclose(layer(x).numpy(), ref_seq, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell_cls,kind", [(LSTMCell, "lstm"), (GRUCell, "gru"),
                                           (SimpleRNNCell, "simple")])
def test_generic_rnn_equals_reference_and_cell_steps(cell_cls, kind):
    x = randn(2, 3, 4)
    layer = RNN(cell_cls(2), return_sequences=True)
    weights = set_random_weights(layer, x)
    ref_seq, _ = run_reference(kind, x, weights)
    np.testing.assert_allclose(layer(x).numpy(), ref_seq, rtol=1e-5, atol=1e-6)
    # The cell called by itself, one step at a time, gives the same numbers.
    states = [np.zeros((2, 2), np.float32)] * (2 if kind == "lstm" else 1)
    for t in range(3):
        out, states = layer.cell(x[:, t], states)
        np.testing.assert_allclose(out.numpy(), ref_seq[:, t], rtol=1e-5, atol=1e-6)


def test_rnn_runs_a_custom_cell_through_its_call():
    class MinimalRNNCell(keras.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units, self.state_size = units, units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                    name="recurrent_kernel")

        def call(self, inputs, states):
            out = engine.ops.add(engine.ops.matmul(inputs, self.kernel),
                                 engine.ops.matmul(states[0], self.recurrent_kernel))
            return out, [out]

    x = randn(2, 3, 4)
    layer = RNN(MinimalRNNCell(2), return_sequences=True)
    k, u = set_random_weights(layer, x)
    h, expected = np.zeros((2, 2)), []
    for t in range(3):
        h = x[:, t] @ k + h @ u
        expected.append(h)
    np.testing.assert_allclose(layer(x).numpy(), np.stack(expected, 1), rtol=1e-5, atol=1e-6)


# -- masks -----------------------------------------------------------------------------------

def _padded(seqs, steps, left):
    x = np.zeros((len(seqs), steps, seqs[0].shape[-1]), np.float32)
    mask = np.zeros((len(seqs), steps), bool)
    for b, s in enumerate(seqs):
        where = slice(steps - len(s), steps) if left else slice(0, len(s))
        x[b, where], mask[b, where] = s, True
    return x, mask


@pytest.mark.parametrize("left", [False, True], ids=["right-padded", "left-padded"])
def test_masked_lstm_equals_unpadded_sequences_one_by_one(left):
    lengths, steps = [5, 2, 3], 5
    seqs = [randn(n, 3, seed=10 + n) for n in lengths]
    x, mask = _padded(seqs, steps, left)
    x[~mask] = 7.0  # garbage under the mask must not matter
    layer = LSTM(4, return_sequences=True, return_state=True)
    set_random_weights(layer, x)
    seq, h, c = layer(x, mask=mask)
    for b, s in enumerate(seqs):
        alone_seq, alone_h, alone_c = layer(s[None])
        np.testing.assert_allclose(h.numpy()[b], alone_h.numpy()[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(c.numpy()[b], alone_c.numpy()[0], rtol=1e-5, atol=1e-6)
        valid = np.flatnonzero(mask[b])
        np.testing.assert_allclose(seq.numpy()[b, valid], alone_seq.numpy()[0], rtol=1e-5,
                                   atol=1e-6)
        # A masked step repeats the previous output; leading padding outputs zeros.
        for t in np.flatnonzero(~mask[b]):
            want = np.zeros(4) if t < valid[0] else seq.numpy()[b, t - 1]
            np.testing.assert_array_equal(seq.numpy()[b, t], want)


def test_mask_in_the_middle_skips_the_step_and_matches_reference():
    x = randn(2, 5, 3)
    mask = np.array([[1, 0, 1, 1, 0], [0, 1, 1, 0, 1]], bool)
    for cls, kind in [(LSTM, "lstm"), (GRU, "gru"), (SimpleRNN, "simple")]:
        layer = cls(3, return_sequences=True)
        weights = set_random_weights(layer, x)
        ref, _ = run_reference(kind, x, weights, mask=mask)
        np.testing.assert_allclose(layer(x, mask=mask).numpy(), ref, rtol=1e-5, atol=1e-6)


def test_mask_attached_to_the_input_is_used_and_passed_on():
    x = randn(2, 4, 3)
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    tensor = Tensor(x)
    tensor._keras_mask = Tensor(mask)
    seq_layer = LSTM(2, return_sequences=True)
    set_random_weights(seq_layer, x)
    y = seq_layer(tensor)
    np.testing.assert_allclose(y.numpy(), seq_layer(x, mask=mask).numpy())
    np.testing.assert_array_equal(y._keras_mask.numpy(), mask)  # return_sequences: passed on
    last = LSTM(2)
    assert last(tensor)._keras_mask is None
    assert [getattr(t, "_keras_mask", None) for t in LSTM(2, return_state=True)(tensor)] == \
        [None] * 3
    assert LSTM(2, return_sequences=True).compute_mask(tensor, Tensor(mask)) is not None


def test_embedding_mask_zero_into_lstm_in_a_functional_model():
    from kerasish.layers.embedding import Embedding

    tokens = keras.Input((6,), dtype="int32")
    emb = Embedding(10, 3, mask_zero=True)
    lstm = LSTM(4)
    model = keras.Model(tokens, lstm(emb(tokens)))
    right = np.array([[3, 4, 5, 0, 0, 0], [1, 2, 0, 0, 0, 0]], np.int32)
    left = np.array([[0, 0, 0, 3, 4, 5], [0, 0, 0, 0, 1, 2]], np.int32)
    y = model(right).numpy()
    np.testing.assert_allclose(model(left).numpy(), y, rtol=1e-5, atol=1e-6)
    alone = lstm(emb(np.array([[3, 4, 5]], np.int32))).numpy()
    np.testing.assert_allclose(y[0], alone[0], rtol=1e-5, atol=1e-6)
