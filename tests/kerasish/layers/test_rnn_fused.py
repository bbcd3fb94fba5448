"""The standard LSTM runs its loop as one fused op (ops.lstm_sequence); every output, state and
gradient equals the generic per-step path, with masks, go_backwards and initial states."""
import itertools

import numpy as np
import pytest

import engine
from engine import Tensor
from kerasish.layers import LSTM
from kerasish.layers.rnn_cells import LSTMCell


def _generic(layer):
    """Forces the per-step path on ``layer`` (what any non-standard LSTM takes)."""
    layer.cell._sequence = lambda *args: None
    return layer


def _run(layer, x, mask, initial_state, weights_seed=0):
    inputs = Tensor(x, requires_grad=True)
    out = layer(inputs, mask=mask, initial_state=initial_state)
    outs = out if isinstance(out, list) else [out]
    rng = np.random.default_rng(weights_seed)
    loss = None
    for t in outs:
        term = engine.ops.sum(engine.ops.multiply(t, rng.standard_normal(t.shape)
                                                  .astype(np.float32)))
        loss = term if loss is None else engine.ops.add(loss, term)
    grads = engine.grad(loss, [inputs] + layer.trainable_weights)
    return [t.numpy() for t in outs], [g.numpy() for g in grads]


MASK = np.array([[1, 1, 1, 1, 1, 1], [0, 0, 1, 1, 0, 1], [1, 1, 0, 1, 0, 0],
                 [0, 0, 0, 0, 0, 0]], bool)
FLAGS = list(itertools.product([False, True], repeat=5))


@pytest.mark.parametrize("sequences,state,backwards,masked,zero_out", FLAGS)
def test_fused_lstm_equals_generic_path(sequences, state, backwards, masked, zero_out):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 6, 5)).astype(np.float32)
    init = [rng.standard_normal((4, 3)).astype(np.float32) for _ in range(2)] if state else None
    kwargs = dict(return_sequences=sequences, return_state=True, go_backwards=backwards)
    fused, generic = LSTM(3, **kwargs), _generic(LSTM(3, **kwargs))
    for layer in (fused, generic):
        layer.zero_output_for_mask = zero_out
    fused.build(x.shape)
    generic.build(x.shape)
    generic.set_weights(fused.get_weights())
    mask = MASK if masked else None
    (out_f, grads_f), (out_g, grads_g) = (_run(layer, x, mask, init) for layer in (fused, generic))
    for a, b in zip(out_f, out_g):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    for a, b in zip(grads_f, grads_g):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fused_path_is_taken_only_for_the_standard_lstm():
    calls = []
    import kerasish.layers.rnn_cells as cells
    # ops.lstm without input dropout, ops.lstm_sequence (over the projection) with it
    saved = {name: getattr(cells.ops, name) for name in ("lstm", "lstm_sequence")}

    def spy(name):
        def call(*args, **kwargs):
            calls.append(name)
            return saved[name](*args, **kwargs)
        return call

    x = np.ones((2, 3, 4), np.float32)
    for name in saved:
        setattr(cells.ops, name, spy(name))
    try:
        LSTM(2)(x)
        assert calls == ["lstm"]
        LSTM(2, activation="relu")(x)
        LSTM(2, recurrent_activation="hard_sigmoid")(x)
        LSTM(2, recurrent_dropout=0.5)(x, training=True)
        assert len(calls) == 1
        LSTM(2, recurrent_dropout=0.5, dropout=0.5)(x, training=False)  # no dropout in inference
        LSTM(2, dropout=0.5)(x, training=True)  # input dropout sits in the projection
        assert calls == ["lstm", "lstm", "lstm_sequence"]

        class Custom(LSTMCell):
            def _step(self, xw, states, rec_masks):
                return super()._step(xw, states, rec_masks)

        from kerasish.layers import RNN
        RNN(Custom(2))(x)
        assert len(calls) == 3
    finally:
        for name, op in saved.items():
            setattr(cells.ops, name, op)


def test_fused_lstm_float64_gradients_match_finite_differences():
    from tests.helpers import check_layer_grads

    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 3))
    mask = np.array([[1, 0, 1, 1], [0, 1, 1, 0]], bool)
    layer = LSTM(2, return_sequences=True, dtype="float64")
    check_layer_grads(layer, x, call_kwargs={"mask": mask})
