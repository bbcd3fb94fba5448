"""keras.distillation: the losses and the Distiller against numbers Keras 3.15 gives for the same
inputs (computed once with Keras's JAX backend and written here), configs and validation."""
import numpy as np
import pytest

import kerasish as keras
from engine import Tensor
from kerasish import layers
from kerasish.distillation import (DistillationLoss, Distiller, FeatureDistillation,
                                   LogitsDistillation)

TEACHER = Tensor(np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3]], "float32"))
STUDENT = Tensor(np.array([[1.0, 1.0, 0.0], [0.5, -0.5, 0.0]], "float32"))
X = np.array([[1.0, 2.0], [-1.0, 0.5]], "float32")
Y = np.array([0, 2])


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.utils.clear_session()


def value(x):
    return float(x.numpy()) if hasattr(x, "numpy") else float(x)


@pytest.mark.parametrize("loss, expected", [
    # The "kl_divergence" identifier compares the scaled logits themselves (Keras 3.15).
    ("kl_divergence", 1.9770431518554688),
    (keras.losses.KLDivergence(), 0.23022329807281494),  # softmax, times temperature**2
    (keras.losses.CategoricalCrossentropy(from_logits=True), 0.4084082543849945),
])
def test_logits_distillation_as_keras(loss, expected):
    got = LogitsDistillation(temperature=2.0, loss=loss).compute_loss(TEACHER, STUDENT)
    assert value(got) == pytest.approx(expected, rel=1e-6)


def test_feature_distillation_as_keras():
    assert value(FeatureDistillation().compute_loss(TEACHER, STUDENT)) == \
        pytest.approx(0.4983333349227905, rel=1e-6)
    # A None loss skips its output.
    both = FeatureDistillation(loss=["mse", None]).compute_loss([TEACHER, STUDENT],
                                                                [STUDENT, TEACHER])
    assert value(both) == pytest.approx(0.4983333349227905, rel=1e-6)


def test_loss_configs_as_keras():
    assert keras.saving.serialize_keras_object(LogitsDistillation(temperature=2.0)) == {
        "module": "keras.distillation", "class_name": "LogitsDistillation",
        "config": {"temperature": 2.0, "loss": {
            "module": "builtins", "class_name": "function", "config": "kl_divergence",
            "registered_name": "function"}}, "registered_name": None}
    feature = FeatureDistillation(loss="mae", teacher_layer_name="a", student_layer_name="b")
    assert feature.get_config() == {
        "loss": {"module": "builtins", "class_name": "function",
                 "config": "mean_absolute_error", "registered_name": "function"},
        "teacher_layer_name": "a", "student_layer_name": "b"}
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(feature))
    assert isinstance(again, FeatureDistillation) and again.teacher_layer_name == "a"
    assert value(again.compute_loss(TEACHER, STUDENT)) == pytest.approx(
        float(np.mean(np.abs(TEACHER.numpy() - STUDENT.numpy()))))


def test_loss_argument_errors():
    with pytest.raises(ValueError, match="temperature must be positive"):
        LogitsDistillation(temperature=0.0)
    with pytest.raises(ValueError, match="At least one loss must be non-`None`"):
        LogitsDistillation(loss=[None])
    with pytest.raises(ValueError, match="at least one non-`None` value"):
        FeatureDistillation(loss=None)
    with pytest.raises(NotImplementedError):
        DistillationLoss().compute_loss(TEACHER, STUDENT)


def model(name, k):
    init = keras.initializers.Constant(k)
    inputs = keras.Input((2,))
    hidden = layers.Dense(3, name=f"{name}_h", kernel_initializer=init)(inputs)
    outputs = layers.Dense(3, name=f"{name}_o", kernel_initializer=init)(hidden)
    return keras.Model(inputs, outputs, name=name)


def distiller():
    return Distiller(
        model("teacher", 0.5), model("student", 0.1),
        [LogitsDistillation(temperature=2.0, loss=keras.losses.KLDivergence()),
         FeatureDistillation(loss="mse", teacher_layer_name="teacher_h",
                             student_layer_name="student_h")],
        distillation_loss_weights=[1.0, 0.5], student_loss_weight=0.3)


def test_distiller_evaluates_and_fits_as_keras():
    d = distiller()
    d.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    assert [m.name for m in d.metrics] == ["loss", "student_loss", "distillation_loss",
                                           "total_loss"]
    expected = {"distillation_loss": 0.3700000047683716, "loss": 0.5885837078094482,
                "student_loss": 1.0986123085021973, "total_loss": 0.5885837078094482}
    logs = d.evaluate(X, Y, return_dict=True, verbose=0)
    assert logs == {k: pytest.approx(v, rel=1e-5) for k, v in expected.items()}
    history = d.fit(X, Y, epochs=1, batch_size=2, verbose=0)
    assert history.history == {k: [pytest.approx(v, rel=1e-5)] for k, v in expected.items()}
    # One SGD step on the student only (Keras's kernel after the same step).
    np.testing.assert_allclose(d.student.get_layer("student_o").kernel.numpy(),
                               [[0.11666667, 0.06666667, 0.11666667]] * 3, rtol=1e-5)
    np.testing.assert_allclose(d.teacher.get_layer("teacher_o").kernel.numpy(), 0.5)
    np.testing.assert_allclose(d.predict(X, verbose=0), d.student.predict(X, verbose=0))


def test_distiller_config_round_trip():
    d = distiller()
    config = d.get_config()
    assert list(config) == ["name", "trainable", "dtype", "teacher", "student",
                            "distillation_losses", "distillation_loss_weights",
                            "student_loss_weight"]
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(d))
    assert isinstance(clone, Distiller) and clone.student_loss_weight == 0.3
    assert [type(loss) for loss in clone.distillation_losses] == [LogitsDistillation,
                                                                  FeatureDistillation]
    clone.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    assert clone.evaluate(X, Y, verbose=0)[0] == pytest.approx(0.5885837078094482, rel=1e-5)


def test_distiller_argument_errors():
    teacher, student = model("teacher", 0.5), model("student", 0.1)
    loss = LogitsDistillation()
    with pytest.raises(ValueError, match="between 0.0 and 1.0"):
        Distiller(teacher, student, loss, student_loss_weight=1.5)
    with pytest.raises(ValueError, match="must match number of distillation_losses"):
        Distiller(teacher, student, [loss], distillation_loss_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="cannot be `None`"):
        Distiller(teacher, student, None)
    with pytest.raises(ValueError, match="In teacher model: No such layer: nope"):
        Distiller(teacher, student, FeatureDistillation(teacher_layer_name="nope"))
    with pytest.raises(ValueError, match="Teacher must be a keras.Model"):
        Distiller(layers.Dense(2), student, loss)
    inputs = keras.Input((3,))
    other = keras.Model(inputs, layers.Dense(3)(inputs))
    with pytest.raises(ValueError, match="input shapes are incompatible"):
        Distiller(teacher, other, loss)
    d = Distiller(teacher, student, loss)
    with pytest.raises(ValueError, match="'loss' cannot be `None`"):
        d.compile(optimizer="sgd")


def test_distiller_saves_and_loads(tmp_path):
    d = distiller()
    d.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    d.fit(X, Y, epochs=1, batch_size=2, verbose=0)
    path = str(tmp_path / "distiller.keras")
    d.save(path)
    # As in Keras, a custom compile() is not replayed on loading: compile again.
    with pytest.warns(UserWarning, match="`compile\\(\\)` was not called as part of model"):
        loaded = keras.saving.load_model(path)
    assert isinstance(loaded, Distiller) and not loaded.compiled
    np.testing.assert_allclose(loaded.predict(X, verbose=0), d.predict(X, verbose=0))
    np.testing.assert_allclose(loaded.teacher.predict(X, verbose=0),
                               d.teacher.predict(X, verbose=0))
