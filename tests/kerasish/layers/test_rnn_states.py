"""RNN layers, part 2: states, direction, dropout, gradients and errors (part 1, test_rnn.py,
has the harness, the NumPy references and masks)."""
import numpy as np
import pytest

import engine
import kerasish as keras
from engine import Tensor
from kerasish.layers.core import Dense
from kerasish.layers.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from tests.helpers import check_layer_grads
from tests.kerasish.layers.test_rnn import randn, run_reference, set_random_weights


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
    lambda: RNN(GRUCell(2, dtype="float64"), dtype="float64"),
    lambda: RNN(SimpleRNNCell(2, dtype="float64"), return_sequences=True, dtype="float64"),
], ids=["lstm", "gru", "gru-before", "simple-back", "rnn-lstmcell", "rnn-grucell",
        "rnn-simplecell"])
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
    with pytest.raises(ValueError, match=r"Received: use_cudnn=maybe$"):
        GRU(2, use_cudnn="maybe")
    with pytest.raises(ValueError, match=r"state_size.*Received: cell="):
        RNN(Dense(2))
    with pytest.raises(ValueError, match=r"batch size must be static"):
        LSTM(2, stateful=True).build((None, 3, 4))


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
