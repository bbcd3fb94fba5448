"""Distillation losses: how a student's outputs (or features) are compared with a teacher's."""
from __future__ import annotations

from engine import ops

from .. import losses, tree


def _convert_loss_to_function(loss_item):
    """A loss from a string identifier (``keras.losses.get``), else the item itself."""
    if loss_item is None:
        return None
    if isinstance(loss_item, str):
        return losses.get(loss_item)
    return loss_item


def _sum_of(values):
    """The sum of per-output losses (a Python 0.0 stands for a skipped output)."""
    total = None
    for value in tree.flatten(values):
        if not isinstance(value, float):
            total = value if total is None else ops.add(total, value)
    return 0.0 if total is None else total


def _convert_structure(loss):
    return tree.map_structure(_convert_loss_to_function, loss)


class DistillationLoss:
    """Base class of distillation losses: override ``compute_loss``.

    >>> class L1(DistillationLoss):
    ...     def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
    ...         return ops.mean(ops.abs(ops.subtract(teacher_outputs, student_outputs)))
    """

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        """The distillation loss (a scalar) between teacher and student outputs."""
        raise NotImplementedError("Subclasses must implement compute_loss")

    def validate_outputs(self, teacher_outputs, student_outputs):
        """Raises ``ValueError`` if the two output structures differ."""
        tree.assert_same_structure(teacher_outputs, student_outputs)

    def validate_model_compatibility(self, teacher, student):
        """Raises ``ValueError`` if this loss cannot apply to these models."""


class FeatureDistillation(DistillationLoss):
    """Matches the student's features (a layer's output, or the final one) to the teacher's.

    Args:
        loss: A loss (identifier or instance), or a structure of them matching the outputs
            (``None`` skips an output). Defaults to ``"mse"``.
        teacher_layer_name: The teacher layer whose output is compared; None for the final
            output.
        student_layer_name: The same for the student.

    >>> FeatureDistillation(loss="mse", teacher_layer_name="dense_1",
    ...                     student_layer_name="dense_1")
    """

    def __init__(self, loss="mse", teacher_layer_name=None, student_layer_name=None):
        self.teacher_layer_name = teacher_layer_name
        self.student_layer_name = student_layer_name
        self.loss = _convert_structure(loss)
        if all(item is None for item in tree.flatten(self.loss)):
            raise ValueError("The `loss` argument in `FeatureDistillation` must contain at "
                             "least one non-`None` value.")

    def validate_model_compatibility(self, teacher, student):
        if self.teacher_layer_name is not None or self.student_layer_name is not None:
            subclassed = [role for role, model in (("teacher", teacher), ("student", student))
                          if getattr(model, "inputs", None) is None]
            if subclassed:
                raise ValueError(
                    "FeatureDistillation with specific layer names requires Functional or "
                    f"Sequential models. The {' and '.join(subclassed)} model(s) appear to be "
                    "subclassed (no symbolic inputs/outputs). Either use Functional/Sequential "
                    "models, or use FeatureDistillation without layer names (to distill final "
                    "outputs only), or use LogitsDistillation instead.")
        for role, model, name in (("teacher", teacher, self.teacher_layer_name),
                                  ("student", student, self.student_layer_name)):
            if name is not None:
                try:
                    model.get_layer(name=name)
                except ValueError as e:
                    raise ValueError(f"In {role} model: {e}") from e

    def validate_outputs(self, teacher_outputs, student_outputs):
        super().validate_outputs(teacher_outputs, student_outputs)
        try:
            tree.assert_same_structure(self.loss, teacher_outputs)
        except ValueError as e:
            raise ValueError(f"Loss structure mismatch. Loss structure: {self.loss}, output "
                             f"structure differs. Error: {e}") from e

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        """The sum over outputs of ``mean(loss(teacher_features, student_features))``."""
        def apply(loss_fn, teacher, student):
            return 0.0 if loss_fn is None else ops.mean(loss_fn(teacher, student))

        return _sum_of(tree.map_structure(apply, self.loss, teacher_outputs, student_outputs))

    def get_config(self):
        from ..saving.serialization import serialize_keras_object

        return {"loss": serialize_keras_object(_unwrap(self.loss)),
                "teacher_layer_name": self.teacher_layer_name,
                "student_layer_name": self.student_layer_name}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["loss"] = _deserialize_loss(config["loss"])
        return cls(**config)


class LogitsDistillation(DistillationLoss):
    """Matches the student's logits to the teacher's, both divided by ``temperature``.

    With a ``KLDivergence`` instance the scaled logits go through a softmax and the loss is
    multiplied by ``temperature**2`` (Hinton et al.); any other loss (the default
    ``"kl_divergence"`` identifier included, as in Keras 3.15) compares the scaled logits.

    Args:
        temperature: A positive number. Defaults to 3.0.
        loss: A loss (identifier or instance), or a structure of them matching the outputs
            (``None`` skips an output). Defaults to ``"kl_divergence"``.

    >>> LogitsDistillation(temperature=4.0, loss=keras.losses.KLDivergence())
    """

    def __init__(self, temperature=3.0, loss="kl_divergence"):
        self.temperature = temperature
        self.loss = _convert_structure(loss)
        if all(item is None for item in tree.flatten(self.loss)):
            raise ValueError("At least one loss must be non-`None`.")
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)):
            raise ValueError(f"temperature must be a number, got {type(temperature)}")
        if temperature <= 0.0:
            raise ValueError(f"temperature must be positive. Received: temperature={temperature}")

    def compute_loss(self, teacher_outputs, student_outputs, **kwargs):
        """The sum over outputs of the loss between the temperature-scaled logits."""
        t = float(self.temperature)

        def apply(loss_fn, teacher, student):
            if loss_fn is None:
                return 0.0
            teacher, student = ops.divide(teacher, t), ops.divide(student, t)
            if isinstance(loss_fn, losses.KLDivergence):
                value = ops.mean(loss_fn(ops.softmax(teacher, axis=-1),
                                         ops.softmax(student, axis=-1)))
                return ops.multiply(value, t * t)
            return ops.mean(loss_fn(teacher, student))

        return _sum_of(tree.map_structure(apply, self.loss, teacher_outputs, student_outputs))

    def get_config(self):
        from ..saving.serialization import serialize_keras_object

        return {"temperature": self.temperature,
                "loss": serialize_keras_object(_unwrap(self.loss))}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["loss"] = _deserialize_loss(config["loss"])
        return cls(**config)


def _unwrap(loss):
    """Loss functions wrapped by ``losses.get`` are written as the functions (Keras's form)."""
    def one(item):
        return item.fn if type(item) is losses.LossFunctionWrapper else item

    return tree.map_structure(one, loss)


def _deserialize_loss(config):
    from ..saving.serialization import deserialize_keras_object

    return deserialize_keras_object(config)
