"""compile(jit_compile=...): the compiled step (engine.jit plans) trains as the eager one."""
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers

from engine import Tensor, ops


def _mlp():
    return keras.Sequential([keras.Input((12,)), layers.Dense(16, activation="relu"),
                             layers.Dropout(0.3), layers.Dense(4)])


def _cnn_bn():
    return keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(4, 3, padding="same"),
                             layers.BatchNormalization(), layers.Activation("relu"),
                             layers.MaxPooling2D(), layers.Flatten(), layers.Dense(4)])


def _masked_lstm(go_backwards=False, return_sequences=False):
    def make():
        q = keras.Input((6,), dtype="int32")
        h = layers.LSTM(5, go_backwards=go_backwards, return_sequences=return_sequences)(
            layers.Embedding(20, 3, mask_zero=True)(q))
        if return_sequences:  # the mask goes on to a second LSTM
            h = layers.LSTM(3)(h)
        return keras.Model(q, layers.Dense(4)(h))
    return make


def _gru_dropout():
    q = keras.Input((5, 3))
    h = layers.GRU(6, return_sequences=True, dropout=0.2, recurrent_dropout=0.2, seed=3)(q)
    return keras.Model(q, layers.Dense(4)(layers.SimpleRNN(4)(h)))


def _data(kind, n=38):
    rng = np.random.default_rng(5)
    y = rng.integers(0, 4, n)
    if kind == "seq":
        x = rng.integers(1, 20, (n, 6))
        x[:, :3] *= rng.random((n, 3)) > 0.5      # left padding of varying length
        x[::7, 3:] = 0                              # some rows padded right, some all padding
        return x, y
    shape = {"dense": (12,), "image": (8, 8, 1), "series": (5, 3)}[kind]
    return rng.random((n,) + shape, dtype=np.float32), y


CASES = [(_mlp, "dense"), (_cnn_bn, "image"), (_masked_lstm(), "seq"),
         (_masked_lstm(go_backwards=True, return_sequences=True), "seq"),
         (_gru_dropout, "series")]


def _fit(make, x, y, jit, **fit_kwargs):
    keras.utils.set_random_seed(11)
    model = make()
    model.compile(keras.optimizers.Adam(0.01),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], jit_compile=jit)
    history = model.fit(x, y, batch_size=8, epochs=3, verbose=0, **fit_kwargs)
    return model, history.history


def _replays(model):
    return sum(s.compiled.replays for s in model.__dict__.get("_compiled_steps", {}).values())


@pytest.mark.parametrize("make,kind", CASES, ids=["mlp_dropout", "cnn_batchnorm", "masked_lstm",
                                                  "masked_lstm_backwards_seq", "gru_dropout"])
def test_compiled_fit_is_bitwise_the_eager_fit(make, kind):
    x, y = _data(kind)
    eager, eager_history = _fit(make, x, y, jit=False)
    compiled, history = _fit(make, x, y, jit=True)
    assert _replays(eager) == 0
    # 5 batches of 8 and one of 6 per epoch: each shape traced, checked, then replayed
    assert _replays(compiled) >= 10
    assert history == eager_history
    for a, b in zip(eager.get_weights(), compiled.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_multi_input_multi_output_with_loss_weights_and_regularizer():
    def make():
        a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
        h = layers.Dense(6, activation="tanh", kernel_regularizer="l2")(
            layers.concatenate([a, b]))
        return keras.Model([a, b], [layers.Dense(2, name="p")(h), layers.Dense(1, name="q")(h)])

    rng = np.random.default_rng(0)
    xa, xb = rng.random((20, 4), dtype=np.float32), rng.random((20, 3), dtype=np.float32)
    yp, yq = rng.random((20, 2), dtype=np.float32), rng.random((20, 1), dtype=np.float32)
    results = []
    for jit in (False, True):
        keras.utils.set_random_seed(2)
        model = make()
        model.compile("sgd", ["mse", "mae"], loss_weights=[1.0, 0.5], metrics=[["mae"], []],
                      jit_compile=jit)
        hist = model.fit([xa, xb], [yp, yq], batch_size=5, epochs=3, verbose=0).history
        results.append((hist, model.get_weights(), _replays(model)))
    assert results[0][0] == results[1][0] and results[1][2] > 0
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_array_equal(a, b)


class _FromData(layers.Layer):
    """Scales by a value computed with NumPy from the data, outside the ops: a plan replaying
    only the ops would keep the first batch's value."""

    def call(self, x):
        return ops.multiply(x, Tensor(np.asarray(x.numpy().max(), dtype=np.float32)))


def test_a_value_computed_outside_the_ops_keeps_that_step_eager():
    def make():
        return keras.Sequential([keras.Input((12,)), layers.Dense(4), _FromData()])

    x, y = _data("dense")
    eager, eager_history = _fit(make, x, y, jit=False)
    compiled, history = _fit(make, x, y, jit=True)
    assert _replays(compiled) == 0
    assert history == eager_history


class _CountsCalls(layers.Layer):
    """Assigns a value computed in NumPy to a weight in each training call."""

    def build(self, input_shape):
        self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                     name="calls")

    def call(self, x, training=False):
        if training:
            self.calls.assign(self.calls.numpy() + 1)
        return x


def test_an_assign_from_outside_the_ops_keeps_that_step_eager():
    x, y = _data("dense")  # 38 samples: 5 batches of 8 per epoch
    model, _ = _fit(lambda: keras.Sequential([keras.Input((12,)), _CountsCalls(),
                                              layers.Dense(4)]), x, y, jit=True)
    assert model.layers[0].calls.numpy() == 15  # every step ran the layer (3 epochs)
    assert _replays(model) == 0


def test_run_eagerly_and_custom_compute_loss_stay_eager():
    x, y = _data("dense")
    model, _ = _fit(_mlp, x, y, jit=True)
    model.compile("sgd", "mse", run_eagerly=True)
    model.fit(x, np.eye(4)[y], batch_size=8, epochs=2, verbose=0)
    assert _replays(model) == 0

    class Custom(keras.Sequential):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            return ops.mean(ops.square(y_pred))

    model = Custom([keras.Input((12,)), layers.Dense(3)])
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((len(x), 3)), batch_size=8, epochs=3, verbose=0)
    assert _replays(model) == 0


def test_engine_value_and_grad_replays_with_the_eager_gradients():
    import engine

    rng = np.random.default_rng(1)
    w = Tensor(rng.standard_normal((5, 3)).astype(np.float32), requires_grad=True)
    b = Tensor(np.zeros(3, np.float32), requires_grad=True)

    def fn(inputs):
        (x,) = inputs
        h = ops.tanh(ops.add(ops.matmul(x, w), b))
        return [ops.mean(ops.square(ops.multiply(h, h))), h]

    step = engine.jit.value_and_grad(fn, [w, b])
    for i in range(6):
        rows = 4 if i % 2 else 7                   # two signatures, each with its own plan
        x = Tensor(rng.standard_normal((rows, 5)).astype(np.float32))
        (loss, h), grads = step([x])
        expected = fn([x])
        for got, want in zip(grads, engine.grad(expected[0], [w, b])):
            np.testing.assert_array_equal(got, want.numpy())
        np.testing.assert_array_equal(loss.numpy(), expected[0].numpy())
        np.testing.assert_array_equal(h.numpy(), expected[1].numpy())
    assert step.replays == 2 and len(step.plans) == 2
    # the bias add runs in place in the matmul's fresh output (tanh keeps its own output)
    for plan in step.plans.values():
        assert [plan.steps[k][0].__name__ for k in sorted(plan.inplace)] == ["Add"]


def _predict_both_ways(monkeypatch, fuse):
    monkeypatch.setenv("KERASISH_FUSE", fuse)
    x, _ = _data("image", n=50)
    keras.utils.set_random_seed(4)
    model = _cnn_bn()
    model.compile("sgd", "mse", jit_compile=False)
    # moving statistics away from 0 and 1, so the inference normalization does something
    model.layers[1].moving_mean.assign(np.full(4, 0.3, np.float32))
    model.layers[1].moving_variance.assign(np.full(4, 2.0, np.float32))
    eager = model.predict(x, batch_size=8, verbose=0)
    assert not model.__dict__.get("_compiled_predicts")
    model.compile("sgd", "mse")  # jit_compile="auto"
    compiled = model.predict(x, batch_size=8, verbose=0)
    (step,) = model._compiled_predicts.values()
    assert step.compiled.replays == 4  # 7 batches: trace, check, 4 replays, then the last (2)
    plan = step.compiled.plans[next(iter(step.compiled.plans))]
    return eager, compiled, plan


def test_compiled_predict_unfused_is_bitwise_the_eager_predict(monkeypatch):
    eager, compiled, plan = _predict_both_ways(monkeypatch, "0")
    np.testing.assert_array_equal(compiled, eager)
    fused = [plan.steps[k][0].__name__ for k in sorted(plan.inplace)]
    assert fused == ["Add", "BatchNormalization", "Relu", "Add"]  # in the conv's fresh output


def test_compiled_predict_folds_batch_norm_into_the_conv(monkeypatch):
    eager, compiled, plan = _predict_both_ways(monkeypatch, "1")
    # conv -> bias -> batch norm -> ReLU is one step: equal to float32 rounding, not bitwise
    assert plan.steps[0][0].__name__ == "ConvAffine"
    assert "BatchNormalization" not in [s[0].__name__ for s in plan.steps]
    np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-6)


def test_compiled_fit_on_each_device(xp):
    """On CuPy the plan is kept or refused by the same check; results equal the eager ones."""
    from kerasish import config

    previous = config.device()
    config.set_device("cpu" if xp is np else "gpu")
    try:
        x, y = _data("image")
        eager, eager_history = _fit(_cnn_bn, x, y, jit=False)
        compiled, history = _fit(_cnn_bn, x, y, jit=True)
    finally:
        config.set_device(previous)
    assert history == eager_history
    for a, b in zip(eager.get_weights(), compiled.get_weights()):
        np.testing.assert_array_equal(a, b)
