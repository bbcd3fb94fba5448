"""ConvLSTM1D/2D/3D: the layer harness, gradient checks, a plain-NumPy loop reference, and
Keras 3.15's weights layout (paths, shapes, legacy .h5 names) and config keys."""
import h5py
import numpy as np
import pytest

import engine
import kerasish as keras
from kerasish import layers
from tests.engine.test_ops_conv import ref_conv
from tests.helpers import check_layer_grads, run_layer_test


def _x(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def ref_conv_lstm(x, kernel, recurrent, bias, strides=1, padding="valid",
                  go_backwards=False):
    """The ConvLSTM recurrence step by step in float64 (gates i, f, c, o)."""
    steps = range(x.shape[1] - 1, -1, -1) if go_backwards else range(x.shape[1])
    h = c = None
    outputs = []
    for t in steps:
        z = ref_conv(x[:, t], kernel, strides=strides, padding=padding) + bias
        if h is None:
            h = c = np.zeros(z.shape[:-1] + (z.shape[-1] // 4,))
        z = z + ref_conv(h, recurrent, padding="same")
        i, f, g, o = np.split(z, 4, axis=-1)
        c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h = _sigmoid(o) * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), h, c


@pytest.mark.parametrize("cls,kwargs,in_shape,out_shape", [
    (layers.ConvLSTM1D, {"filters": 3, "kernel_size": 3}, (2, 3, 7, 2), (2, 5, 3)),
    (layers.ConvLSTM2D, {"filters": 2, "kernel_size": 3, "padding": "same",
                         "return_sequences": True}, (2, 3, 4, 5, 2), (2, 3, 4, 5, 2)),
    (layers.ConvLSTM3D, {"filters": 2, "kernel_size": 2, "strides": 2}, (1, 2, 4, 4, 4, 1),
     (1, 2, 2, 2, 2)),
    (layers.ConvLSTM2D, {"filters": 2, "kernel_size": 2, "dropout": 0.2,
                         "recurrent_dropout": 0.3, "seed": 1}, (2, 3, 4, 4, 1), (2, 3, 3, 2)),
])
def test_layer_harness(cls, kwargs, in_shape, out_shape):
    run_layer_test(cls, kwargs, in_shape, out_shape, 3,
                   expected_weight_names=["kernel", "recurrent_kernel", "bias"])


@pytest.mark.parametrize("kwargs", [{"strides": 2}, {"padding": "same", "go_backwards": True}])
def test_conv_lstm2d_matches_loop(kwargs):
    layer = layers.ConvLSTM2D(3, 3, return_sequences=True, return_state=True,
                              bias_initializer="random_normal", **kwargs)
    x = _x(2, 3, 5, 4, 2)
    with engine.no_grad():
        seq, h, c = [t.numpy() for t in layer(x.astype(np.float32))]
    want_seq, want_h, want_c = ref_conv_lstm(x, *layer.get_weights(), **kwargs)
    for got, want in ((seq, want_seq), (h, want_h), (c, want_c)):
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-4)


def test_keras_reference_numbers():
    # NOTE: printed by Keras 3.15 for these weights and inputs.
    layer = layers.ConvLSTM1D(2, 2)
    x = (np.arange(12, dtype=np.float32) / 10).reshape(1, 2, 3, 2)
    layer(x)
    layer.set_weights([np.full((2, 2, 8), 0.1, np.float32), np.full((2, 2, 8), -0.2, np.float32),
                       np.linspace(-0.4, 0.3, 8).astype(np.float32)])
    np.testing.assert_allclose(layer(x).numpy(), [[[0.08285762, 0.13310371],
                                                   [0.12667851, 0.18146437]]], atol=1e-6)


@pytest.mark.parametrize("layer,shape", [
    (lambda: layers.ConvLSTM1D(2, 2, padding="same", return_sequences=True), (2, 3, 4, 2)),
    (lambda: layers.ConvLSTM2D(2, 2, strides=2), (1, 3, 4, 4, 1)),
    (lambda: layers.ConvLSTM3D(1, 2, go_backwards=True), (1, 2, 3, 3, 3, 1)),
], ids=["ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"])
def test_grads(layer, shape):
    layer = layer()
    cfg = {**layer.get_config(), "dtype": "float64", "bias_initializer": "random_normal"}
    check_layer_grads(type(layer).from_config(cfg), _x(*shape, seed=2), rtol=1e-3)


def test_weights_layout_is_keras(tmp_path):
    # NOTE: paths, shapes and config keys as Keras 3.15 prints them for ConvLSTM2D(4, 3).
    inputs = keras.Input((3, 5, 5, 2))
    outputs = layers.ConvLSTM2D(4, 3, padding="same", name="conv_lstm2d")(inputs)
    model = keras.Model(inputs, layers.Conv3D(2, 1, name="c3")(
        layers.Reshape((5, 5, 4, 1))(outputs)))
    assert [(w.path, tuple(w.shape)) for w in model.weights] == [
        ("conv_lstm2d/conv_lstm_cell/kernel", (3, 3, 2, 16)),
        ("conv_lstm2d/conv_lstm_cell/recurrent_kernel", (3, 3, 4, 16)),
        ("conv_lstm2d/conv_lstm_cell/bias", (16,)),
        ("c3/kernel", (1, 1, 1, 1, 2)), ("c3/bias", (2,))]
    path = str(tmp_path / "w.h5")
    model.save(path)
    names = []
    with h5py.File(path, "r") as f:
        f["model_weights"].visititems(lambda n, o: names.append(n)
                                      if isinstance(o, h5py.Dataset) else None)
    assert sorted(names) == sorted([
        "conv_lstm2d/conv_lstm2d/conv_lstm_cell/kernel:0",
        "conv_lstm2d/conv_lstm2d/conv_lstm_cell/recurrent_kernel:0",
        "conv_lstm2d/conv_lstm2d/conv_lstm_cell/bias:0",
        "c3/c3/kernel:0", "c3/c3/bias:0"])
    clone = keras.models.load_model(path)
    for a, b in zip(clone.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_config_keys_and_errors():
    assert list(layers.ConvLSTM2D(2, 3).get_config())[3:] == [
        "return_sequences", "return_state", "go_backwards", "stateful", "unroll",
        "zero_output_for_mask", "filters", "kernel_size", "strides", "padding", "data_format",
        "dilation_rate", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
        "recurrent_initializer", "bias_initializer", "unit_forget_bias", "kernel_regularizer",
        "recurrent_regularizer", "bias_regularizer", "activity_regularizer",
        "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
        "recurrent_dropout", "seed"]
    assert layers.ConvLSTM2D(2, 3).filters == 2
    with pytest.raises(ValueError, match="ndim=5"):
        layers.ConvLSTM2D(2, 3)(np.ones((1, 2, 5, 2), np.float32))
    with pytest.raises(ValueError, match="dilation_rate"):
        layers.ConvLSTM1D(2, 3, strides=2, dilation_rate=2)
