"""A functional model made of layers, ``keras.ops`` calls and KerasTensor operators trains with
``fit`` and predicts what the same computation gives eagerly."""
import numpy as np

from kerasish import Input, Model, layers, ops


def _model():
    inputs = Input((4,))
    dense, head = layers.Dense(8, name="hidden"), layers.Dense(1, name="head")
    h = dense(inputs)
    h = ops.tanh(h) * 0.5 + ops.square(h[:, :1]) / 4
    h = ops.concatenate([h, ops.abs(inputs), ops.mean(inputs, axis=-1, keepdims=True)], axis=-1)
    outputs = head(-h + ops.where(h > 0, h, 0.0) * 2)
    return Model(inputs, outputs), dense, head


def _eager(x, dense, head):
    h = dense(x)
    h = ops.tanh(h) * 0.5 + ops.square(h[:, :1]) / 4
    h = ops.concatenate([h, ops.abs(x), ops.mean(x, axis=-1, keepdims=True)], axis=-1)
    return head(-h + ops.where(h > 0, h, 0.0) * 2)


def test_a_model_of_ops_trains_and_predicts_like_the_eager_ops():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype(np.float32)
    y = (np.sin(x[:, :1]) + np.abs(x[:, 1:2])).astype(np.float32)
    model, dense, head = _model()
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.8 * losses[0]
    np.testing.assert_allclose(model.predict(x, verbose=0), _eager(x, dense, head).numpy(),
                               rtol=1e-5, atol=1e-6)
    names = [layer.name for layer in model.operations]  # ops are not model.layers (Keras 3)
    assert any(n.startswith("tanh") for n in names)
    assert any(n.startswith("get_item") for n in names)
