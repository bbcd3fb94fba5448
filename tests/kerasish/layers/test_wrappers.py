"""Wrappers: TimeDistributed and Bidirectional. Each: the Keras-style harness, numbers against
the wrapped layer applied by hand (per time step; forward + reversed backward), a float64
gradient check, masks and the errors for bad arguments and bad inputs."""
import numpy as np
import pytest

import kerasish as keras
from engine import Tensor
from kerasish.layers.core import Dense
from kerasish.layers.rnn import GRU, LSTM, SimpleRNN
from kerasish.layers.wrappers import Bidirectional, TimeDistributed
from tests.helpers import check_layer_grads, run_layer_test


def randn(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def lstm_reference(x, kernel, rec, bias, mask=None, zero_masked=False):
    """NumPy LSTM over (B, T, F), gates i, f, c, o; masked steps keep the state."""
    batch, steps, _ = x.shape
    u = rec.shape[0]
    h, c, outs = np.zeros((batch, u)), np.zeros((batch, u)), []
    for t in range(steps):
        z = x[:, t] @ kernel + h @ rec + bias
        i, f = sigmoid(z[:, :u]), sigmoid(z[:, u:2 * u])
        g, o = np.tanh(z[:, 2 * u:3 * u]), sigmoid(z[:, 3 * u:])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        keep = np.ones((batch, 1), bool) if mask is None else mask[:, t][:, None]
        h, c = np.where(keep, h_new, h), np.where(keep, c_new, c)
        outs.append(np.where(keep, h_new, 0.0) if zero_masked else h)
    return np.stack(outs, 1), h, c


def build_with_random_weights(layer, x, seed=1):
    layer(x[:1])
    weights = [randn(*w.shape, seed=seed + i) * 0.5 for i, w in enumerate(layer.weights)]
    layer.set_weights(weights)
    return weights


# -- TimeDistributed -------------------------------------------------------------------------

def test_time_distributed_harness():
    run_layer_test(TimeDistributed, {"layer": Dense(3, activation="tanh")}, (2, 4, 5), (2, 4, 3),
                   expected_num_trainable_weights=2, expected_weight_names=["kernel", "bias"])
    run_layer_test(TimeDistributed, {"layer": Dense(2)}, (2, 3, 4, 5), (2, 3, 4, 2),
                   expected_num_trainable_weights=2)


def test_time_distributed_dense_matches_per_step_numpy():
    x = randn(2, 3, 4)
    layer = TimeDistributed(Dense(2))
    kernel, bias = build_with_random_weights(layer, x)
    y = layer(x)
    assert y.shape == (2, 3, 2) and y.dtype == np.float32
    for b in range(2):
        for t in range(3):
            want = [sum(x[b, t, i] * kernel[i, u] for i in range(4)) + bias[u] for u in range(2)]
            np.testing.assert_allclose(y.numpy()[b, t], want, rtol=1e-5, atol=1e-6)
    assert layer.layer.built and layer.layer.kernel.shape == (4, 2)


def _small_models():
    seq = keras.Sequential([keras.Input((4,)), Dense(5, activation="relu"), Dense(2)])
    inputs = keras.Input((4,))
    functional = keras.Model(inputs, Dense(3, activation="tanh")(Dense(5)(inputs)))
    return [seq, functional]


@pytest.mark.parametrize("index", [0, 1], ids=["sequential", "functional"])
def test_time_distributed_model_equals_applying_it_per_step(index):
    model = _small_models()[index]
    x = randn(3, 5, 4)
    layer = TimeDistributed(model)
    y = layer(x)
    per_step = np.stack([model(x[:, t]).numpy() for t in range(5)], axis=1)
    np.testing.assert_allclose(y.numpy(), per_step, rtol=1e-5, atol=1e-6)
    assert len(layer.trainable_weights) == 4
    symbolic = layer(keras.Input((None, 4)))
    assert symbolic.shape == (None, None, model.outputs[0].shape[-1])


def test_time_distributed_in_a_functional_model_then_lstm():
    frames = keras.Input((None, 6))
    td = TimeDistributed(Dense(4, activation="relu"))
    lstm = LSTM(3)
    model = keras.Model(frames, lstm(td(frames)))
    x = randn(2, 5, 6)
    np.testing.assert_allclose(model(x).numpy(), lstm(td(x)).numpy(), rtol=1e-6)


def test_time_distributed_passes_the_mask_through():
    x = Tensor(randn(2, 3, 4))
    mask = np.array([[1, 1, 0], [1, 0, 0]], bool)
    x._keras_mask = Tensor(mask)
    layer = TimeDistributed(Dense(2))
    y = layer(x)
    np.testing.assert_array_equal(y._keras_mask.numpy(), mask)
    assert layer.compute_mask(x, None) is None


def test_time_distributed_grads():
    layer = TimeDistributed(Dense(3, activation="sigmoid", dtype="float64"), dtype="float64")
    check_layer_grads(layer, randn(2, 3, 4, dtype=np.float64))


def test_time_distributed_errors():
    with pytest.raises(ValueError, match=r"Layer` instance. Received: layer=3$"):
        TimeDistributed(3)
    with pytest.raises(ValueError, match=r"time_distributed.*min_ndim=3, found ndim=2"):
        TimeDistributed(Dense(2))(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"at least 3 dimensions. Received: input_shape="):
        TimeDistributed(Dense(2)).build((2, 4))
    layer = TimeDistributed(Dense(2))
    layer(np.zeros((1, 2, 4), np.float32))
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 4"):
        layer(np.zeros((1, 2, 5), np.float32))


# -- Bidirectional ---------------------------------------------------------------------------

def test_bidirectional_harness():
    names = ["kernel", "recurrent_kernel", "bias"] * 2
    run_layer_test(Bidirectional, {"layer": LSTM(3, return_sequences=True)}, (2, 4, 5),
                   (2, 4, 6), expected_num_trainable_weights=6, expected_weight_names=names)
    run_layer_test(Bidirectional, {"layer": GRU(3), "merge_mode": "sum"}, (2, 4, 5), (2, 3),
                   expected_num_trainable_weights=6)


def test_bidirectional_copies_named_forward_and_backward():
    layer = Bidirectional(LSTM(2, name="enc"), name="bi")
    layer(np.zeros((1, 3, 4), np.float32))
    assert layer.forward_layer.name == "forward_enc"
    assert layer.backward_layer.name == "backward_enc"
    assert not layer.forward_layer.go_backwards and layer.backward_layer.go_backwards
    assert [w.path for w in layer.weights] == [
        "bi/forward_enc/lstm_cell/kernel", "bi/forward_enc/lstm_cell/recurrent_kernel",
        "bi/forward_enc/lstm_cell/bias", "bi/backward_enc/lstm_cell/kernel",
        "bi/backward_enc/lstm_cell/recurrent_kernel", "bi/backward_enc/lstm_cell/bias"]
    config = layer.get_config()
    assert config["merge_mode"] == "concat"
    assert config["layer"]["config"]["name"] == "forward_enc"
    assert config["backward_layer"]["config"]["go_backwards"] is True
    clone = Bidirectional.from_config(config)
    assert clone.forward_layer.name == "forward_enc"
    assert clone.backward_layer.name == "backward_enc"


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
def test_bidirectional_equals_forward_and_reversed_backward(merge_mode):
    x = randn(2, 4, 3)
    layer = Bidirectional(LSTM(2, return_sequences=True), merge_mode=merge_mode)
    w = build_with_random_weights(layer, x)
    fwd, _, _ = lstm_reference(x, *w[:3])
    bwd_rev, _, _ = lstm_reference(x[:, ::-1], *w[3:])
    bwd = bwd_rev[:, ::-1]
    want = {"concat": np.concatenate([fwd, bwd], -1), "sum": fwd + bwd, "mul": fwd * bwd,
            "ave": (fwd + bwd) / 2, None: [fwd, bwd]}[merge_mode]
    y = layer(x)
    if merge_mode is None:
        assert isinstance(y, list) and len(y) == 2
        for got, ref in zip(y, want):
            np.testing.assert_allclose(got.numpy(), ref, rtol=1e-5, atol=1e-6)
    else:
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-5, atol=1e-6)


def test_bidirectional_last_output_and_states():
    x = randn(2, 4, 3)
    layer = Bidirectional(LSTM(2, return_state=True))
    w = build_with_random_weights(layer, x)
    out, fh, fc, bh, bc = layer(x)
    _, ref_fh, ref_fc = lstm_reference(x, *w[:3])
    _, ref_bh, ref_bc = lstm_reference(x[:, ::-1], *w[3:])
    np.testing.assert_allclose(out.numpy(), np.concatenate([ref_fh, ref_bh], -1), rtol=1e-5,
                               atol=1e-6)
    for got, ref in zip((fh, fc, bh, bc), (ref_fh, ref_fc, ref_bh, ref_bc)):
        np.testing.assert_allclose(got.numpy(), ref, rtol=1e-5, atol=1e-6)
    # initial_state: the first half goes forward, the second half backward.
    states = [randn(2, 2, seed=s) for s in range(4)]
    again = layer(x, initial_state=states)
    np.testing.assert_allclose(again[1].numpy(),
                               layer.forward_layer(x, initial_state=states[:2])[1].numpy())
    np.testing.assert_allclose(again[3].numpy(),
                               layer.backward_layer(x, initial_state=states[2:])[1].numpy())
    symbolic = layer(keras.Input((4, 3)))
    assert [t.shape for t in symbolic] == [(None, 4)] + [(None, 2)] * 4


def test_bidirectional_with_mask_zeroes_padding_and_matches_unpadded():
    lengths = [4, 2]
    x = np.zeros((2, 4, 3), np.float32)
    mask = np.zeros((2, 4), bool)
    for b, n in enumerate(lengths):
        x[b, :n], mask[b, :n] = randn(n, 3, seed=b), True
    layer = Bidirectional(SimpleRNN(2, return_sequences=True))
    layer(x)
    y = layer(x, mask=mask).numpy()
    for b, n in enumerate(lengths):
        alone = layer(x[b:b + 1, :n]).numpy()[0]
        np.testing.assert_allclose(y[b, :n], alone, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(y[b, n:], 0.0)  # Keras: masked steps give zeros here
    seq = layer(Tensor(x), mask=mask)
    assert seq.shape == (2, 4, 4)
    # The LSTM reference with zeros at masked steps agrees (forward half).
    lstm = Bidirectional(LSTM(2, return_sequences=True))
    w = build_with_random_weights(lstm, x)
    fwd, _, _ = lstm_reference(x, *w[:3], mask=mask, zero_masked=True)
    np.testing.assert_allclose(lstm(x, mask=mask).numpy()[..., :2], fwd, rtol=1e-5, atol=1e-6)


def test_bidirectional_mask_passes_through_with_return_sequences():
    x = Tensor(randn(2, 3, 4))
    mask = np.array([[1, 1, 0], [1, 0, 0]], bool)
    x._keras_mask = Tensor(mask)
    y = Bidirectional(GRU(2, return_sequences=True))(x)
    np.testing.assert_array_equal(y._keras_mask.numpy(), mask)
    assert Bidirectional(GRU(2))(x)._keras_mask is None


def test_bidirectional_grads():
    check_layer_grads(Bidirectional(GRU(2, return_sequences=True, dtype="float64"),
                                    dtype="float64"),
                      randn(2, 3, 4, dtype=np.float64))
    check_layer_grads(Bidirectional(LSTM(2, dtype="float64"), merge_mode="mul", dtype="float64"),
                      randn(2, 3, 4, dtype=np.float64))


def test_bidirectional_errors():
    with pytest.raises(ValueError, match=r"Received: merge_mode=max$"):
        Bidirectional(LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match=r"Layer` instance. Received: layer=lstm$"):
        Bidirectional("lstm")
    with pytest.raises(ValueError, match=r"different `go_backwards`.*"
                                         r"Received: backward_layer.go_backwards=False$"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2))
    with pytest.raises(ValueError, match=r"return_sequences"):
        Bidirectional(LSTM(2), backward_layer=LSTM(2, go_backwards=True, return_sequences=True))
    with pytest.raises(ValueError, match=r"expected ndim=3, found ndim=2"):
        Bidirectional(LSTM(2))(np.zeros((2, 3), np.float32))
