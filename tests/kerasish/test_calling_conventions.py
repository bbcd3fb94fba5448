"""Keras 3's calling conventions for code written against Keras: compute_loss overrides with
and without ``training``, train_step/test_step overrides in the styles of the "customizing what
happens in fit" guide, metrics assigned as attributes, Layer.add_loss, Variable's methods, and
``training`` passed only to calls that take it. Numbers are worked out by hand."""
import numpy as np
import pytest

import engine
import kerasish as keras
from engine import ops
from kerasish import layers

# Dense(1, kernel of ones, no bias): y_pred = x0 + x1 = [3, 7]; errors against Y are [2, 2].
X = np.array([[1.0, 2.0], [3.0, 4.0]], "float32")
Y = np.array([[1.0], [5.0]], "float32")


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.utils.clear_session()


def _sum_dense():
    return layers.Dense(1, use_bias=False, kernel_initializer="ones")


def functional(cls=keras.Model):
    inputs = keras.Input((2,))
    return cls(inputs, _sum_dense()(inputs))


class HalfMSE(keras.Model):
    """compute_loss written without `training` (as before Keras 3.3)."""

    def compute_loss(self, x, y, y_pred, sample_weight):
        return ops.multiply(ops.mean(ops.square(ops.subtract(y_pred, y))), 0.5)


class SeesTraining(keras.Model):
    seen = []

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        SeesTraining.seen.append(training)
        return super().compute_loss(x, y, y_pred, sample_weight, training=training)


def test_compute_loss_without_training_keeps_loss_in_logs():
    model = functional(HalfMSE)
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    # 0.5 * mean([4, 4]) = 2.
    assert model.evaluate(X, Y, verbose=0) == pytest.approx(2.0)
    history = model.fit(X, Y, batch_size=2, epochs=2, verbose=0)
    assert history.history == {"loss": [pytest.approx(2.0)] * 2}
    assert model.train_on_batch(X, Y) == pytest.approx(2.0)


def test_compute_loss_with_training_sees_the_phase():
    SeesTraining.seen = []
    model = functional(SeesTraining)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse", metrics=["mae"])
    model.fit(X, Y, batch_size=2, epochs=1, verbose=0)
    logs = model.evaluate(X, Y, verbose=0, return_dict=True)
    assert SeesTraining.seen == [True, False]
    assert logs == {"loss": pytest.approx(4.0), "mae": pytest.approx(2.0)}
    assert [m.name for m in model.metrics] == ["loss", "mae"]


class GuideModel(keras.Model):
    """The guide's loop over `self.metrics` ("loss" gets the loss, the rest y and y_pred)."""

    def train_step(self, data):
        x, y = data
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = engine.grad(loss, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def test_train_step_override_in_the_guide_style():
    model = functional(GuideModel)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    history = model.fit(X, Y, batch_size=2, epochs=1, verbose=0)
    assert history.history == {"loss": [pytest.approx(4.0)], "mae": [pytest.approx(2.0)]}
    # d mse / d w = mean(2 * err * x) = [(2*2*1 + 2*2*3) / 2, (2*2*2 + 2*2*4) / 2] = [8, 12].
    np.testing.assert_allclose(model.layers[1].kernel.numpy().ravel(), [1 - 0.8, 1 - 1.2],
                               rtol=1e-6)


class TrackerModel(keras.Model):
    """Own trackers as attributes, a `metrics` property, backward through `loss.backward()`."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")

    def train_step(self, data):
        x, y = data
        y_pred = self(x, training=True)
        loss = ops.mean(ops.square(ops.subtract(y_pred, y)))
        for v in self.trainable_weights:
            v.grad = None
        loss.backward()
        self.optimizer.apply([v.value.grad for v in self.trainable_weights],
                             self.trainable_weights)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        self.loss_tracker.update_state(ops.mean(ops.square(ops.subtract(y_pred, y))))
        self.mae_metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def test_own_trackers_reset_per_epoch_and_test_step_override():
    model = functional(TrackerModel)
    model.compile(optimizer=keras.optimizers.SGD(0.0))  # no loss, no metrics
    history = model.fit(X, Y, batch_size=1, epochs=2, verbose=0)
    # Each epoch: errors 2 and 2 -> loss 4, mae 2 (reset between epochs, so not accumulated).
    assert history.history == {"loss": [pytest.approx(4.0)] * 2, "mae": [pytest.approx(2.0)] * 2}
    assert model.loss_tracker.count.numpy() == 2
    assert model.evaluate(X, Y, verbose=0) == [pytest.approx(4.0), pytest.approx(2.0)]


def test_metrics_assigned_as_attributes_are_tracked():
    class WithMetric(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.seen = keras.metrics.Sum(name="seen")

        def compute_metrics(self, x, y, y_pred, sample_weight=None):
            self.seen.update_state(np.ones(len(y)))
            return super().compute_metrics(x, y, y_pred, sample_weight)

    model = functional(WithMetric)
    model.compile(optimizer="sgd", loss="mse")
    assert [m.name for m in model.metrics] == ["loss", "seen"]
    history = model.fit(X, Y, batch_size=1, epochs=2, verbose=0)
    assert history.history["seen"] == [2.0, 2.0]  # reset at each epoch


class Penalty(layers.Layer):
    """Adds 0.5 * sum(x) as a loss on each call (an activity penalty, as in Keras's docs)."""

    def call(self, x):
        self.add_loss(ops.multiply(ops.sum(x), 0.5))
        return x


def test_add_loss_is_collected_and_reset_per_call():
    inputs = keras.Input((2,))
    model = keras.Model(inputs, Penalty()(_sum_dense()(inputs)))
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    # mse 4 + 0.5 * (3 + 7) = 9.
    assert model.evaluate(X, Y, batch_size=2, verbose=0) == pytest.approx(9.0)
    model(X)
    model(X)
    assert len(model.losses) == 1  # the last call's only
    np.testing.assert_allclose(model.losses[0].numpy(), 5.0)
    history = model.fit(X, Y, batch_size=1, epochs=1, verbose=0)
    # Batches: mse 4 + 1.5, mse 4 + 3.5 -> mean 6.5.
    assert history.history["loss"] == [pytest.approx(6.5)]


def test_add_loss_of_nested_layers_in_a_subclassed_model_without_compiled_loss():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = _sum_dense()
            self.penalty = Penalty()

        def call(self, x):
            return self.penalty(self.dense(x))

    model = Net()
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    # No compiled loss: the loss is the added one alone, 0.5 * (3 + 7) = 5.
    assert model.evaluate(X, Y, verbose=0) == pytest.approx(5.0)
    with pytest.raises(ValueError, match="on a tensor input. Received invalid value: 3"):
        Penalty().add_loss(3)


def test_variable_methods_as_keras():
    v = keras.Variable(np.array([1.0, 2.0], "float32"), name="v") \
        if hasattr(keras, "Variable") else None
    if v is None:
        from kerasish.variables import Variable

        v = Variable(np.array([1.0, 2.0], "float32"), name="v")
    assert v.assign_add(np.array([1.0, 1.0])) is v
    v.assign_sub(0.5)
    np.testing.assert_allclose(v.numpy(), [1.5, 2.5])
    assert v.value is v and v.name == "v" and v.dtype == "float32"
    dense = _sum_dense()
    dense.build((None, 2))
    assert dense.kernel.path == f"{dense.name}/kernel" and dense.kernel.name == "kernel"
    with pytest.raises(ValueError, match="must match"):
        v.assign(np.zeros(3))


def test_training_is_passed_only_where_call_takes_it():
    class NoTraining(layers.Layer):
        def call(self, x):
            return x

    class Flags(keras.Model):
        seen = []

        def __init__(self):
            super().__init__()
            self.inner = NoTraining()
            self.dense = _sum_dense()

        def call(self, x, training=None):
            Flags.seen.append(training)
            return self.dense(self.inner(x, training=True))

    model = Flags()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X, Y, batch_size=2, verbose=0)
    model.predict(X, verbose=0)
    assert Flags.seen[-2:] == [True, False]


def test_guide_loop_sees_compiled_metrics_with_a_py_dataset():
    class Batches(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, index):
            return X[index:index + 1], Y[index:index + 1]

    model = functional(GuideModel)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse", metrics=["mae"])
    history = model.fit(Batches(), epochs=1, verbose=0)
    assert history.history == {"loss": [pytest.approx(4.0)], "mae": [pytest.approx(2.0)]}
