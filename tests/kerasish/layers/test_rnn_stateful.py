"""Stateful RNNs (states kept across calls, reset_states, a fixed batch size, Bidirectional)
and StackedRNNCells."""
import numpy as np
import pytest

import engine
import kerasish as keras
from kerasish import layers
from tests.helpers import check_layer_grads, run_layer_test


def _x(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _run(layer, x, **kwargs):
    with engine.no_grad():
        out = layer(x, **kwargs)
    return [t.numpy() for t in out] if isinstance(out, list) else out.numpy()


STATEFUL = [
    (lambda **kw: layers.SimpleRNN(3, **kw), (2, 6, 4)),
    (lambda **kw: layers.GRU(3, **kw), (2, 6, 4)),
    (lambda **kw: layers.LSTM(3, **kw), (2, 6, 4)),  # the fused op
    (lambda **kw: layers.LSTM(3, activation="relu", **kw), (2, 6, 4)),  # the step loop
    (lambda **kw: layers.ConvLSTM1D(2, 3, padding="same", **kw), (2, 6, 5, 2)),
]
IDS = ["SimpleRNN", "GRU", "LSTM-fused", "LSTM-loop", "ConvLSTM1D"]


@pytest.mark.parametrize("make,shape", STATEFUL, ids=IDS)
def test_two_chunks_in_turn_equal_one_long_sequence(make, shape):
    x = _x(*shape)
    stateful = make(stateful=True, return_sequences=True)
    first, second = _run(stateful, x[:, :2]), _run(stateful, x[:, 2:])
    whole = make(return_sequences=True)
    whole(x[:, :1])
    whole.set_weights(stateful.get_weights())
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), _run(whole, x),
                               atol=1e-5, rtol=1e-5)
    assert len(stateful.weights) == len(whole.weights)  # the states are not weights
    assert [tuple(v.shape) for v in stateful.states] == \
        [tuple(s.shape) for s in whole.get_initial_state(shape[0])]
    stateful.reset_states()
    assert all(not v.numpy().any() for v in stateful.states)
    np.testing.assert_allclose(_run(stateful, x[:, :2]), first, atol=1e-6)
    stateful.reset_state()
    np.testing.assert_allclose(_run(stateful, x[:, :2]), first, atol=1e-6)


def test_stateful_states_follow_the_last_call_and_initial_state_wins():
    layer = layers.GRU(3, stateful=True, return_state=True)
    x = _x(2, 4, 3)
    _, h = _run(layer, x)
    np.testing.assert_allclose(layer.states[0].numpy(), h)
    zeros = np.zeros((2, 3), np.float32)
    layer.reset_states()
    _, h0 = _run(layer, x)
    _, h1 = _run(layer, x, initial_state=[zeros])
    np.testing.assert_allclose(h1, h0, atol=1e-6)


def test_stateful_gradients_do_not_see_the_state_update():
    layer = layers.SimpleRNN(3, stateful=True, dtype="float64")
    x = _x(2, 4, 3, dtype=np.float64)
    layer(x)  # the states are no longer zero
    start = [v.numpy().copy() for v in layer.states]
    plain = layers.SimpleRNN(3, dtype="float64")
    plain(x)
    plain.set_weights(layer.get_weights())
    y = layer(x)
    grads = engine.grad(engine.ops.sum(y), layer.trainable_weights)
    y_ref = plain(x, initial_state=[engine.Tensor(start[0])])
    ref = engine.grad(engine.ops.sum(y_ref), plain.trainable_weights)
    for g, r in zip(grads, ref):
        np.testing.assert_allclose(g.numpy(), r.numpy(), atol=1e-12)


def test_stateful_needs_a_fixed_batch_size():
    with pytest.raises(ValueError, match="batch size must be static"):
        layers.LSTM(2, stateful=True)(keras.Input((5, 3)))
    layer = layers.LSTM(2, stateful=True)
    out = layer(keras.Input(batch_shape=(4, 5, 3)))
    assert out.shape == (4, 2) and layer.states[0].shape == (4, 2)
    with pytest.raises(ValueError, match="Expected batch size: 4"):
        layer(_x(3, 5, 3))
    assert layer.get_config()["stateful"] is True


def test_stateful_bidirectional():
    layer = layers.Bidirectional(layers.LSTM(3, stateful=True, return_sequences=True),
                                 merge_mode=None)
    x = _x(2, 6, 4)
    fwd1, bwd1 = _run(layer, x[:, :3])
    fwd2, bwd2 = _run(layer, x[:, 3:])
    assert layer.stateful
    forward = layers.LSTM(3, return_sequences=True)
    backward = layers.LSTM(3, return_sequences=True, return_state=True, go_backwards=True)
    forward(x), backward(x)
    forward.set_weights(layer.forward_layer.get_weights())
    backward.set_weights(layer.backward_layer.get_weights())
    np.testing.assert_allclose(np.concatenate([fwd1, fwd2], 1), _run(forward, x), atol=1e-5)
    # The backward layer reads each chunk from its end, starting from the previous chunk's
    # final states.
    seq, h, c = _run(backward, x[:, :3])
    np.testing.assert_allclose(bwd1, seq[:, ::-1], atol=1e-5)
    seq2 = _run(backward, x[:, 3:], initial_state=[h, c])[0]
    np.testing.assert_allclose(bwd2, seq2[:, ::-1], atol=1e-5)
    layer.reset_states()
    assert not any(v.numpy().any() for sub in (layer.forward_layer, layer.backward_layer)
                   for v in sub.states)
    with pytest.raises(AttributeError, match="must be stateful"):
        layers.Bidirectional(layers.LSTM(3)).reset_states()


# -- StackedRNNCells -------------------------------------------------------------------------

def test_stacked_cells_layer_harness():
    cells = [layers.SimpleRNNCell(4), layers.LSTMCell(3)]
    run_layer_test(layers.RNN, {"cell": layers.StackedRNNCells(cells),
                                "return_sequences": True}, (2, 5, 3), (2, 5, 3),
                   expected_num_trainable_weights=6)


def test_stacked_cells_grads():
    cells = [layers.GRUCell(3, dtype="float64"), layers.LSTMCell(2, dtype="float64")]
    check_layer_grads(layers.RNN(layers.StackedRNNCells(cells, dtype="float64"),
                                 dtype="float64"), _x(2, 4, 3, dtype=np.float64))


def test_stacked_cells_equal_stacked_layers():
    x = _x(2, 5, 3)
    cells = [layers.SimpleRNNCell(4, name="simple_rnn_cell"), layers.LSTMCell(3, name="lstm_cell")]
    stacked = layers.RNN(layers.StackedRNNCells(cells, name="stacked_rnn_cells"),
                         return_state=True, name="rnn")
    out, h1, h2, c2 = _run(stacked, x)
    assert isinstance(stacked.cell, layers.StackedRNNCells)
    assert stacked.cell.state_size == [4, [3, 3]] and stacked.cell.output_size == 3
    assert [w.path for w in stacked.weights][::3] == [  # as Keras 3.15 names them
        "rnn/stacked_rnn_cells/simple_rnn_cell/kernel", "rnn/stacked_rnn_cells/lstm_cell/kernel"]
    first = layers.SimpleRNN(4, return_sequences=True, return_state=True)
    second = layers.LSTM(3, return_state=True)
    first(x)
    first.set_weights(stacked.get_weights()[:3])
    seq, want_h1 = _run(first, x)
    second(seq)
    second.set_weights(stacked.get_weights()[3:])
    want_out, want_h2, want_c2 = _run(second, seq)
    for got, want in ((out, want_out), (h1, want_h1), (h2, want_h2), (c2, want_c2)):
        np.testing.assert_allclose(got, want, atol=1e-5)
    stateful = layers.RNN([layers.SimpleRNNCell(4), layers.LSTMCell(3)], stateful=True)
    _run(stateful, x)
    assert [tuple(v.shape) for v in stateful.states] == [(2, 4), (2, 3), (2, 3)]


def test_stacked_cells_config_round_trip():
    layer = layers.StackedRNNCells([layers.GRUCell(2), layers.LSTMCell(3)])
    clone = layers.StackedRNNCells.from_config(layer.get_config())
    assert [type(c).__name__ for c in clone.cells] == ["GRUCell", "LSTMCell"]
    assert clone.cells[1].units == 3
    with pytest.raises(ValueError, match="state_size"):
        layers.StackedRNNCells([layers.Dense(2)])
