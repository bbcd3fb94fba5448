"""Weight constraints (Keras's ``keras.constraints``): projections the optimizer applies to a
weight after each update (``kernel_constraint=``, ``bias_constraint=`` of the layers).

>>> layer = kerasish.layers.Dense(4, kernel_constraint=MaxNorm(2.0))
"""
from __future__ import annotations

import inspect

from engine import ops

from . import config, utils


def _norms(w, axis):
    return ops.sqrt(ops.sum(ops.square(w), axis=_axis(axis), keepdims=True))


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


class Constraint:
    """Base class of the constraints: ``__call__(w)`` returns the projected weight (the base
    class returns it unchanged).

    >>> class NonNegative(Constraint):
    ...     def __call__(self, w):
    ...         return ops.maximum(w, 0.0)
    """

    def __call__(self, w):
        return w

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MaxNorm(Constraint):
    """Rescales the weights incident to each unit to an L2 norm of at most ``max_value``.

    Args:
        max_value: The largest norm.
        axis: Axis (or list of axes) over which the norms are taken; 0 for a Dense kernel,
            ``[0, 1, 2]`` for a Conv2D kernel.

    >>> MaxNorm(2.0, axis=0)(np.full((4, 1), 3.0, "float32")).numpy().ravel()[0]
    1.0
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = ops.clip(norms, 0, self.max_value)
        return ops.multiply(w, ops.divide(desired, ops.add(norms, config.epsilon())))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Clips the weights at zero from below.

    >>> NonNeg()(np.array([-1.0, 2.0], "float32")).numpy()
    array([0., 2.], dtype=float32)
    """

    def __call__(self, w):
        return ops.maximum(w, 0.0)


class UnitNorm(Constraint):
    """Divides the weights incident to each unit by their L2 norm.

    Args:
        axis: Axis (or list of axes) over which the norms are taken.

    >>> UnitNorm(axis=0)(np.ones((4, 2), "float32")).numpy()[0, 0]
    0.5
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return ops.divide(w, ops.add(_norms(w, self.axis), config.epsilon()))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves the norms of the weights incident to each unit into ``[min_value, max_value]``:
    the new norm is ``rate * clip(norm, min_value, max_value) + (1 - rate) * norm``.

    Args:
        min_value: The smallest norm.
        max_value: The largest norm.
        rate: 1.0 enforces the bounds strictly; less moves towards them a bit per step.
        axis: Axis (or list of axes) over which the norms are taken.

    >>> MinMaxNorm(0.5, 1.0)(np.ones((4, 2), "float32")).numpy()[0, 0]
    0.5
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = ops.add(ops.multiply(ops.clip(norms, self.min_value, self.max_value),
                                       self.rate),
                          ops.multiply(norms, 1 - self.rate))
        return ops.multiply(w, ops.divide(desired, ops.add(norms, config.epsilon())))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

ALL_OBJECTS = (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({utils.to_snake_case(cls.__name__): cls for cls in ALL_OBJECTS})


def serialize(constraint):
    """A constraint as Keras's ``{"module", "class_name", "config", "registered_name"}`` dict
    (None stays None; a plain function is left to the saving code, as Keras's functions are)."""
    if constraint is None or not isinstance(constraint, Constraint):
        return constraint
    builtin = ALL_OBJECTS_DICT.get(type(constraint).__name__) is type(constraint)
    return {"module": "keras.constraints" if builtin else type(constraint).__module__,
            "class_name": type(constraint).__name__, "config": constraint.get_config(),
            "registered_name": None if builtin else type(constraint).__name__}


def deserialize(config, custom_objects=None):
    """A constraint from its ``serialize`` dict (or a bare class name)."""
    if isinstance(config, str):
        config = {"class_name": config, "config": {}}
    class_name = config.get("class_name")
    cls = (custom_objects or {}).get(class_name) or ALL_OBJECTS_DICT.get(class_name)
    if cls is None:
        raise ValueError(f"Could not interpret constraint identifier: {config}")
    return cls.from_config(dict(config.get("config") or {}))


def get(identifier):
    """A constraint from None, a name (``"max_norm"``, ``"MaxNorm"``), a config dict, a class
    or a callable (returned as is)."""
    if identifier is None:
        return None
    obj = identifier
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
    if callable(obj):
        return obj() if inspect.isclass(obj) else obj
    raise ValueError(f"Could not interpret constraint identifier: {identifier}")
