"""``Distiller``: a model whose loss mixes the student's supervised loss with distillation
losses against a frozen teacher (Keras 3.15's ``keras.distillation.Distiller``)."""
from __future__ import annotations

from engine import ops

from .. import metrics, tree
from ..models.model import Model
from .distillation_loss import _convert_loss_to_function


def _check_shapes(teacher_shape, student_shape, context):
    if len(teacher_shape) != len(student_shape):
        raise ValueError(f"Teacher and student {context} shapes have different dimensions. "
                         f"Teacher: {teacher_shape}, Student: {student_shape}.")
    for a, b in zip(teacher_shape, student_shape):
        if a is not None and b is not None and a != b:
            raise ValueError(f"Teacher and student {context} shapes are incompatible. Teacher: "
                             f"{teacher_shape}, Student: {student_shape}. All dimensions must "
                             "match.")


def _check_models(teacher, student):
    for role, model in (("Teacher", teacher), ("Student", student)):
        if not isinstance(model, Model):
            raise ValueError(f"{role} must be a keras.Model, got {type(model)}")
    for attr in ("inputs", "outputs"):
        ts, ss = getattr(teacher, attr, None), getattr(student, attr, None)
        if ts is None or ss is None:
            continue
        context = attr[:-1]
        tree.map_structure(lambda t, s: _check_shapes(t.shape, s.shape, context), ts, ss)
        for t, s in zip(tree.flatten(ts), tree.flatten(ss)):
            if t.dtype != s.dtype:
                raise ValueError(f"Teacher and student {context} dtypes must match. Teacher: "
                                 f"{t.dtype}, Student: {s.dtype}.")


class Distiller(Model):
    """Trains ``student`` on the labels and on a frozen ``teacher``'s outputs or features.

    The loss is ``student_loss_weight * student_loss + (1 - student_loss_weight) *
    sum(weight_i * distillation_loss_i)``; ``student_loss``, ``distillation_loss`` and
    ``total_loss`` are tracked as metrics too.

    Args:
        teacher: A trained model; it is frozen.
        student: The model to train (``distiller.student`` after training).
        distillation_losses: A ``DistillationLoss`` or a list of them.
        distillation_loss_weights: One weight per distillation loss (default: 1.0 each).
        student_loss_weight: The weight of the supervised loss, in [0, 1]. Defaults to 0.5.
        name: Defaults to ``"distiller"``.

    >>> distiller = Distiller(teacher, student, LogitsDistillation(temperature=3.0))
    >>> distiller.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    >>> distiller.fit(x, y, epochs=10)
    """

    def __init__(self, teacher, student, distillation_losses, distillation_loss_weights=None,
                 student_loss_weight=0.5, name="distiller", **kwargs):
        super().__init__(name=name, **kwargs)
        _check_models(teacher, student)
        self.teacher = teacher
        self.student = student
        if isinstance(student_loss_weight, bool) or \
                not isinstance(student_loss_weight, (int, float)):
            raise ValueError(f"student_loss_weight must be a number, got "
                             f"{type(student_loss_weight)}")
        if not 0.0 <= student_loss_weight <= 1.0:
            raise ValueError("student_loss_weight must be between 0.0 and 1.0, got "
                             f"{student_loss_weight}")
        self.student_loss_weight = student_loss_weight
        if distillation_losses is None:
            raise ValueError("'distillation_losses' cannot be `None`. Provide a distillation "
                             "loss (e.g., LogitsDistillation or FeatureDistillation) or a list "
                             "of distillation losses.")
        if not isinstance(distillation_losses, (list, tuple)):
            self.distillation_losses = [distillation_losses]
            self.distillation_loss_weights = [1.0]
        else:
            self.distillation_losses = list(distillation_losses)
            weights = distillation_loss_weights
            if weights is None:
                weights = [1.0] * len(self.distillation_losses)
            elif len(weights) != len(self.distillation_losses):
                raise ValueError(f"Number of distillation_loss_weights ({len(weights)}) must "
                                 "match number of distillation_losses "
                                 f"({len(self.distillation_losses)})")
            self.distillation_loss_weights = list(weights)
        for loss in self.distillation_losses:
            loss.validate_model_compatibility(teacher, student)
        self._teacher_feature_extractor = self._feature_extractor(teacher, "teacher")
        self._student_feature_extractor = self._feature_extractor(student, "student")
        self.teacher.trainable = False
        self.student_loss_tracker = metrics.Mean(name="student_loss")
        self.distillation_loss_tracker = metrics.Mean(name="distillation_loss")
        self.total_loss_tracker = metrics.Mean(name="total_loss")

    def _feature_extractor(self, model, role):
        """A functional model giving ``final_output`` and every layer the losses name."""
        names = []
        for loss in self.distillation_losses:
            name = getattr(loss, f"{role}_layer_name", None)
            if name and name not in names:
                names.append(name)
        if not names:
            return None
        if getattr(model, "inputs", None) is None:
            raise ValueError(f"Cannot create feature extractor for {model.name}. The model has "
                             "no symbolic inputs attribute.")
        outputs = {"final_output": model.outputs[0] if len(model.outputs) == 1
                   else model.outputs}
        for name in names:
            outputs[name] = model.get_layer(name=name).output
        return Model(inputs=model.inputs, outputs=outputs,
                     name=f"{model.name}_multi_feature_extractor")

    def compile(self, optimizer="adam", loss=None, metrics=None, **kwargs):
        """``loss`` is the student's supervised loss (required); ``metrics`` a list."""
        if loss is None:
            raise ValueError("'loss' cannot be `None`.")
        self._student_loss = tree.map_structure(_convert_loss_to_function, loss)
        self._student_loss_for_serialization = loss
        if metrics is not None and not isinstance(metrics, (list, tuple)):
            raise ValueError(f"metrics must be a list or tuple, got {type(metrics)}")
        super().compile(optimizer=optimizer, loss=None, metrics=metrics, **kwargs)

    def call(self, inputs, training=None, **kwargs):
        """The student's predictions."""
        return self.student(inputs, training=training, **kwargs)

    def _features(self, role, x, y_pred):
        extractor = getattr(self, f"_{role}_feature_extractor")
        if extractor is not None:
            return extractor(x, training=role == "student")
        if role == "teacher":
            return {"final_output": self.teacher(x, training=False)}
        return {"final_output": y_pred}

    def _student_loss_value(self, y, y_pred):
        values = tree.flatten(tree.map_structure(lambda fn, t, p: fn(t, p),
                                                 self._student_loss, y, y_pred))
        total = values[0]
        for value in values[1:]:
            total = ops.add(total, value)
        return ops.mean(total) if total.shape else total

    def _distillation_loss_value(self, x, y_pred):
        teacher_features = self._features("teacher", x, y_pred)
        student_features = self._features("student", x, y_pred)
        total = 0.0
        for loss, weight in zip(self.distillation_losses, self.distillation_loss_weights):
            if getattr(loss, "teacher_layer_name", None) is not None:
                teacher_out = teacher_features[loss.teacher_layer_name]
                student_out = student_features[loss.student_layer_name or "final_output"]
            else:
                teacher_out, student_out = teacher_features["final_output"], y_pred
            loss.validate_outputs(teacher_out, student_out)
            value = loss.compute_loss(teacher_out, student_out)
            if getattr(value, "shape", ()):
                raise ValueError(f"Distillation loss {type(loss).__name__} returned a "
                                 f"non-scalar loss with shape {value.shape}. The compute_loss "
                                 "method must return a scalar tensor.")
            total = ops.add(total, ops.multiply(value, float(weight)))
        return total

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """``student_loss_weight * student_loss + (1 - student_loss_weight) *
        distillation_loss``; each part is tracked."""
        if y_pred is None:
            y_pred = self(x, training=training)
        w = float(self.student_loss_weight)
        student_loss = 0.0
        if w > 0.0 and y is not None:
            student_loss = self._student_loss_value(y, y_pred)
        distillation_loss = 0.0
        if w < 1.0:
            distillation_loss = self._distillation_loss_value(x, y_pred)
        total = ops.add(ops.multiply(student_loss, w), ops.multiply(distillation_loss, 1.0 - w))
        for tracker, value in ((self.student_loss_tracker, student_loss),
                               (self.distillation_loss_tracker, distillation_loss),
                               (self.total_loss_tracker, total)):
            tracker.update_state(value.numpy() if hasattr(value, "numpy") else value)
        return total

    def get_config(self):
        from ..saving.serialization import serialize_keras_object

        config = super().get_config()
        config.update({
            "teacher": serialize_keras_object(self.teacher),
            "student": serialize_keras_object(self.student),
            "distillation_losses": [serialize_keras_object(loss)
                                    for loss in self.distillation_losses],
            "distillation_loss_weights": self.distillation_loss_weights,
            "student_loss_weight": self.student_loss_weight})
        return config

    @classmethod
    def from_config(cls, config):
        from ..saving.serialization import deserialize_keras_object

        config = dict(config)
        for key in ("teacher", "student"):
            config[key] = deserialize_keras_object(config[key])
        config["distillation_losses"] = [deserialize_keras_object(loss)
                                         for loss in config["distillation_losses"]]
        return cls(**config)
