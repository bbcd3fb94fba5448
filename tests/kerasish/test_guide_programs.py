"""A program written the way Keras's "customizing what happens in fit()" guide writes one: a
model subclass built functionally, with its own compute_loss (no `training` argument) and
train_step, a registered custom layer; trained with fit, evaluated, saved and loaded."""
import numpy as np
import pytest

import engine
import kerasish as keras
from engine import ops
from kerasish import layers


@keras.saving.register_keras_serializable(package="Guide")
class Linear(layers.Layer):
    def __init__(self, units=1, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="zeros",
                                 name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

    def call(self, inputs):
        return ops.add(ops.matmul(inputs, self.w), self.b)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="Guide")
class CustomModel(keras.Model):
    def compute_loss(self, x, y, y_pred, sample_weight):
        loss = ops.mean(ops.square(ops.subtract(y_pred, y)))
        for extra in self.losses:
            loss = ops.add(loss, extra)
        return loss

    def train_step(self, data):
        x, y = data
        y_pred = self(x, training=True)
        loss = self.compute_loss(x, y, y_pred, None)
        trainable = self.trainable_weights
        self.optimizer.apply(engine.grad(loss, trainable), trainable)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_guide_program_trains_evaluates_saves_and_loads(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.25).astype("float32")

    inputs = keras.Input(shape=(3,))
    outputs = Linear(1, name="linear")(inputs)
    model = CustomModel(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.1), metrics=["mae"])
    # Zero weights: the first loss is mean(y^2), worked out here from the data.
    assert model.evaluate(x, y, verbose=0)[0] == pytest.approx(float(np.mean(y ** 2)), rel=1e-5)

    history = model.fit(x, y, batch_size=16, epochs=15, verbose=0)
    assert sorted(history.history) == ["loss", "mae"]
    assert history.history["loss"][-1] < 1e-3 < history.history["loss"][0]
    kernel = model.get_layer("linear").w.numpy().ravel()
    np.testing.assert_allclose(kernel, [1.0, -2.0, 0.5], atol=0.02)

    loss, mae = model.evaluate(x, y, verbose=0)
    path = str(tmp_path / "guide.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, CustomModel)
    assert isinstance(loaded.get_layer("linear"), Linear)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.evaluate(x, y, verbose=0) == [pytest.approx(loss), pytest.approx(mae)]
    # Training goes on from the saved optimizer state.
    loaded.fit(x, y, batch_size=16, epochs=1, verbose=0)
