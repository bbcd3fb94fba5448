"""Recurrent layers: SimpleRNN, LSTM, GRU, the generic RNN and their cells. Each: the Keras-style
harness, numbers against a step-by-step NumPy reference written here, a float64 gradient check,
masking (padded batches equal the unpadded sequences run one by one), states and errors."""
import numpy as np
import pytest

import engine
import kerasish as keras
from engine import Tensor
from kerasish.layers.core import Dense
from kerasish.layers.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from tests.helpers import check_layer_grads, run_layer_test


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


# -- states, direction ------------------------------------------------------------------------

def test_initial_state_and_return_state():
    x = randn(2, 3, 4)
    h0, c0 = randn(2, 3, seed=5), randn(2, 3, seed=6)
    layer = LSTM(3, return_state=True)
    weights = set_random_weights(layer, x)
    out, h, c = layer(x, initial_state=[h0, c0])
    _, (ref_h, ref_c) = run_reference("lstm", x, weights, states=[h0, c0])
    np.testing.assert_allclose(out.numpy(), ref_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h.numpy(), ref_h, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c.numpy(), ref_c, rtol=1e-5, atol=1e-6)
    # Continuing from the returned states equals running the whole sequence at once.
    x2 = randn(2, 2, 4, seed=9)
    _, h2, _ = layer(x2, initial_state=[h, c])
    _, whole_h, _ = layer(np.concatenate([x, x2], 1), initial_state=[h0, c0])
    np.testing.assert_allclose(h2.numpy(), whole_h.numpy(), rtol=1e-5, atol=1e-6)
    # GRU / SimpleRNN return [output, h]; a single state may be passed bare.
    gru = GRU(3, return_state=True)
    g_weights = set_random_weights(gru, x)
    _, g_h = gru(x, initial_state=h0)
    _, (ref_gh,) = run_reference("gru", x, g_weights, states=[h0])
    np.testing.assert_allclose(g_h.numpy(), ref_gh, rtol=1e-5, atol=1e-6)
    assert len(SimpleRNN(2, return_state=True)(x)) == 2


def test_initial_state_as_functional_inputs():
    seq, h0, c0 = keras.Input((3, 4)), keras.Input((2,)), keras.Input((2,))
    layer = LSTM(2)
    model = keras.Model([seq, h0, c0], layer(seq, initial_state=[h0, c0]))
    x, h, c = randn(2, 3, 4), randn(2, 2, seed=1), randn(2, 2, seed=2)
    np.testing.assert_allclose(model([x, h, c]).numpy(),
                               layer(x, initial_state=[h, c]).numpy(), rtol=1e-6)


def test_symbolic_shapes_with_unknown_time():
    inputs = keras.Input((None, 4))
    outs = LSTM(3, return_sequences=True, return_state=True)(inputs)
    assert [t.shape for t in outs] == [(None, None, 3), (None, 3), (None, 3)]
    assert GRU(5)(inputs).shape == (None, 5)


def test_go_backwards_runs_reversed_and_returns_reversed_sequence():
    x = randn(2, 4, 3)
    back = GRU(3, go_backwards=True, return_sequences=True)
    weights = set_random_weights(back, x)
    ref, _ = run_reference("gru", x, weights, backwards=True)
    np.testing.assert_allclose(back(x).numpy(), ref, rtol=1e-5, atol=1e-6)
    forward = GRU(3, return_sequences=True)
    set_random_weights(forward, x)
    np.testing.assert_allclose(back(x).numpy(), forward(x[:, ::-1].copy()).numpy(), rtol=1e-5,
                               atol=1e-6)
    # With a mask the mask is reversed too: the last output is the first valid step's state.
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    ref_masked, _ = run_reference("gru", x, weights, mask=mask, backwards=True)
    np.testing.assert_allclose(back(x, mask=mask).numpy(), ref_masked, rtol=1e-5, atol=1e-6)


# -- dropout ---------------------------------------------------------------------------------

def test_dropout_is_identity_in_inference_and_fixed_over_time_in_training():
    x = np.ones((4, 6, 8), np.float32)
    layer = SimpleRNN(5, activation=None, dropout=0.5, return_sequences=True, seed=3)
    layer(x)
    kernel = randn(8, 5)
    layer.set_weights([kernel, np.zeros((5, 5)), np.zeros(5)])
    expected = np.broadcast_to((x[:, 0] @ kernel)[:, None], (4, 6, 5))
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-5)
    y = layer(x, training=True).numpy()
    # One input mask for every step: with no recurrence every step gives the same output.
    np.testing.assert_allclose(y, np.broadcast_to(y[:, :1], y.shape), rtol=1e-6)
    assert not np.allclose(y[:, 0], x[:, 0] @ kernel)
    assert not np.allclose(layer(x, training=True).numpy(), y)  # a new mask per call


def test_recurrent_dropout_mask_is_fixed_over_time():
    # h_t = 1 + (h_{t-1} * m) @ I: the mask m revealed by step 2 must explain every later step.
    layer = SimpleRNN(6, activation=None, recurrent_dropout=0.5, return_sequences=True)
    x = np.zeros((3, 4, 2), np.float32)
    layer(x)
    layer.set_weights([np.zeros((2, 6)), np.eye(6), np.ones(6)])
    h = layer(x, training=True).numpy()
    m = h[:, 1] - 1.0
    assert set(np.round(np.unique(m), 5)) <= {0.0, 2.0} and m.max() == 2.0
    for t in range(2, 4):
        np.testing.assert_allclose(h[:, t], 1.0 + h[:, t - 1] * m, rtol=1e-6)


@pytest.mark.parametrize("cls", [LSTM, GRU])
def test_gated_dropout_changes_training_output_only(cls):
    x = randn(2, 3, 4)
    layer = cls(3, dropout=0.4, recurrent_dropout=0.4, seed=0)
    plain = cls(3)
    weights = set_random_weights(layer, x)
    set_random_weights(plain, x)
    np.testing.assert_allclose(layer(x).numpy(), plain(x).numpy(), rtol=1e-6)
    assert not np.allclose(layer(x, training=True).numpy(), plain(x).numpy())
    assert len(weights) == 3


# -- gradients -------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: LSTM(3, return_sequences=True, dtype="float64"),
    lambda: GRU(2, dtype="float64"),
    lambda: GRU(2, reset_after=False, return_sequences=True, dtype="float64"),
    lambda: SimpleRNN(3, go_backwards=True, return_sequences=True, dtype="float64"),
    lambda: RNN(LSTMCell(2, dtype="float64"), dtype="float64"),
], ids=["lstm", "gru", "gru-before", "simple-back", "rnn-lstmcell"])
def test_rnn_grads(make):
    check_layer_grads(make(), randn(2, 3, 4, dtype=np.float64))


def test_rnn_grads_with_mask_and_initial_state():
    mask = np.array([[1, 1, 0], [0, 1, 1]], bool)
    layer = LSTM(2, return_sequences=True, dtype="float64")
    check_layer_grads(layer, randn(2, 3, 4, dtype=np.float64), call_kwargs={"mask": mask})
    h0 = Tensor(randn(2, 2, seed=3, dtype=np.float64), requires_grad=True)
    c0 = Tensor(randn(2, 2, seed=4, dtype=np.float64), requires_grad=True)
    layer = LSTM(2, dtype="float64")
    x = randn(2, 3, 4, dtype=np.float64)
    y = layer(x, initial_state=[h0, c0])
    g_h0, g_c0 = engine.grad(engine.ops.sum(y), [h0, c0])
    eps, d = 1e-6, np.ones((2, 2))
    for state, grad in ((h0, g_h0), (c0, g_c0)):
        base = state.data.copy()
        state.data[...] = base + eps * d
        plus = layer(x, initial_state=[h0, c0]).numpy().sum()
        state.data[...] = base - eps * d
        minus = layer(x, initial_state=[h0, c0]).numpy().sum()
        state.data[...] = base
        np.testing.assert_allclose(grad.numpy().sum(), (plus - minus) / (2 * eps), rtol=1e-5)


def test_float32_gradients_through_time_train_a_copy_task():
    # Learn to output the first input at the last step: the gradient must flow back in time.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4, 1)).astype(np.float32)
    target = x[:, 0]
    rnn, head = LSTM(8), Dense(1)
    params = None
    losses = []
    for _ in range(60):
        out = head(rnn(x))
        loss = engine.ops.mean(engine.ops.square(engine.ops.subtract(out, target)))
        params = rnn.trainable_weights + head.trainable_weights
        grads = engine.grad(loss, params)
        for w, g in zip(params, grads):
            assert g.dtype == np.float32
            w.assign(w.numpy() - 0.5 * g.numpy())
        losses.append(float(loss.numpy()))
    assert losses[-1] < 0.5 * losses[0]


# -- errors ----------------------------------------------------------------------------------

def test_bad_arguments():
    with pytest.raises(ValueError, match=r"Received: units=0$"):
        LSTM(0)
    with pytest.raises(ValueError, match=r"Received: units=-2$"):
        GRUCell(-2)
    with pytest.raises(ValueError, match=r"Received: dropout=1.5$"):
        SimpleRNN(2, dropout=1.5)
    with pytest.raises(ValueError, match=r"Received: recurrent_dropout=-0.1$"):
        LSTMCell(2, recurrent_dropout=-0.1)
    with pytest.raises(NotImplementedError, match=r"Received: stateful=True$"):
        LSTM(2, stateful=True)
    with pytest.raises(ValueError, match=r"Received: use_cudnn=maybe$"):
        GRU(2, use_cudnn="maybe")
    with pytest.raises(ValueError, match=r"state_size.*Received: cell="):
        RNN(Dense(2))
    with pytest.raises(ValueError, match=r"not supported yet.*Received: cell="):
        RNN([LSTMCell(2), LSTMCell(2)])


def test_bad_inputs_name_the_layer_and_the_shapes():
    layer = LSTM(2, name="my_lstm")
    with pytest.raises(ValueError, match=r"layer 'my_lstm' is incompatible with the layer: "
                                         r"expected ndim=3, found ndim=2"):
        layer(np.zeros((2, 4), np.float32))
    assert not layer.cell.built
    layer(np.zeros((2, 3, 4), np.float32))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 4"):
        layer(np.zeros((2, 3, 5), np.float32))
    with pytest.raises(ValueError, match=r"mask of shape .*Received: mask.shape=\(2, 4\)"):
        layer(np.zeros((2, 3, 4), np.float32), mask=np.ones((2, 4), bool))
    with pytest.raises(ValueError, match=r"initial state.*Received: initial_state shapes"):
        layer(np.zeros((2, 3, 4), np.float32), initial_state=[np.zeros((2, 2), np.float32)])
    with pytest.raises(ValueError, match=r"ndim=3"):
        LSTM(2)(keras.Input((4,)))


def test_direct_build_regularizers_and_trainable():
    layer = LSTM(3, kernel_regularizer="l2", activity_regularizer="l1")
    layer.build((None, 4, 5))
    assert layer.built and layer.cell.built and len(layer.weights) == 3
    assert layer.get_config()["kernel_regularizer"]["class_name"] == "L2"
    assert layer.get_config()["activity_regularizer"]["class_name"] == "L1"
    layer(randn(2, 4, 5))
    assert len(layer.losses) == 2  # the kernel's L2 and the output's L1
    clone = LSTM.from_config(layer.get_config())
    assert clone.get_config()["activity_regularizer"] == layer.get_config()["activity_regularizer"]
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 3
    frozen = GRU(2, trainable=False)
    frozen(randn(1, 2, 3))
    assert frozen.trainable_weights == [] and not frozen.cell.trainable
