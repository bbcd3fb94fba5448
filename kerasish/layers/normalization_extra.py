"""GroupNormalization, UnitNormalization and RMSNormalization (composed of engine ops)."""
from __future__ import annotations

from engine import ops

from .. import constraints, initializers, regularizers
from .input_spec import InputSpec
from .layer import Layer


def _check_axes(layer, axis, input_shape):
    for a in axis if isinstance(axis, (list, tuple)) else [axis]:
        if not -len(input_shape) <= a < len(input_shape):
            raise ValueError(f"Axis {a} is out of bounds for input shape {tuple(input_shape)} "
                             f"(layer '{layer.name}'). Received: axis={axis}")


class GroupNormalization(Layer):
    """Normalizes each group of ``channels / groups`` channels of every example by its own mean
    and variance (over the spatial axes too), then scales by ``gamma`` and adds ``beta``.

    ``groups=-1`` is instance normalization (one channel per group); ``groups=1`` is layer
    normalization over all the non-batch axes.

    >>> GroupNormalization(groups=2)(np.ones((1, 3, 4))).shape
    (1, 3, 4)
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        if not isinstance(groups, int) or isinstance(groups, bool) or \
                (groups <= 0 and groups != -1):
            raise ValueError("Received an invalid value for argument `groups`, expected a "
                             "positive integer (or `-1` for instance normalization). "
                             f"Received: groups={groups}")
        super().__init__(**kwargs)
        self.supports_masking = True
        self.groups = groups
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)

    def build(self, input_shape):
        _check_axes(self, self.axis, input_shape)
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined dimension "
                             f"but the layer received an input with shape {tuple(input_shape)}.")
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the number "
                             f"of channels ({dim}). Received: input_shape={tuple(input_shape)}")
        if dim % self.groups != 0:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the "
                             f"number of channels ({dim}). Received: "
                             f"input_shape={tuple(input_shape)}")
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        self.gamma = self.add_weight(
            shape=(dim,), name="gamma", initializer=self.gamma_initializer,
            regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
        ) if self.scale else None
        self.beta = self.add_weight(
            shape=(dim,), name="beta", initializer=self.beta_initializer,
            regularizer=self.beta_regularizer, constraint=self.beta_constraint,
        ) if self.center else None

    def call(self, inputs):
        shape = tuple(inputs.shape)
        axis = self.axis % len(shape)
        per_group = shape[axis] // self.groups
        grouped_shape = shape[:axis] + (self.groups, per_group) + shape[axis + 1:]
        x = ops.reshape(inputs, grouped_shape)
        # Statistics per (example, group): every axis but the batch and the group axis.
        axes = tuple(a for a in range(1, len(grouped_shape)) if a != axis)
        mean, variance = ops.moments(x, axes=axes, keepdims=True)
        y = ops.divide(ops.subtract(x, mean), ops.sqrt(ops.add(variance, self.epsilon)))
        param_shape = [1] * len(grouped_shape)
        param_shape[axis:axis + 2] = [self.groups, per_group]
        if self.gamma is not None:
            y = ops.multiply(y, ops.reshape(self.gamma, tuple(param_shape)))
        if self.beta is not None:
            y = ops.add(y, ops.reshape(self.beta, tuple(param_shape)))
        return ops.reshape(y, shape)

    def compute_output_shape(self, input_shape):
        _check_axes(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "axis": self.axis,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint)}


class UnitNormalization(Layer):
    """Scales each example to unit L2 norm along ``axis``: ``x / max(||x||, 1e-12)``.

    >>> UnitNormalization()(np.array([[3.0, 4.0]])).numpy()
    array([[0.6, 0.8]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = list(axis)
        elif isinstance(axis, int):
            self.axis = axis
        else:
            raise TypeError("Invalid value for `axis` argument: expected an int or a list/tuple "
                            f"of ints. Received: axis={axis}")
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        axis = tuple(self.axis) if isinstance(self.axis, list) else self.axis
        square_sum = ops.sum(ops.square(inputs), axis=axis, keepdims=True)
        # NOTE: min(1/sqrt(s), 1/eps) written as 1/sqrt(max(s, eps**2)): no inf for a zero row.
        return ops.divide(inputs, ops.sqrt(ops.maximum(square_sum, 1e-24)))

    def compute_output_shape(self, input_shape):
        _check_axes(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class RMSNormalization(Layer):
    """Root-mean-square normalization: ``x / sqrt(mean(x**2, axis) + epsilon) * scale``.

    >>> RMSNormalization()(np.array([[3.0, 4.0]])).shape
    (1, 2)
    """

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon

    def build(self, input_shape):
        _check_axes(self, self.axis, input_shape)
        if isinstance(self.axis, (list, tuple)):
            self.axis = sorted(self.axis)
            shape = tuple(input_shape[a] for a in self.axis)
        else:
            shape = (input_shape[self.axis],)
            self.axis = [self.axis]
        self.scale = self.add_weight(name="scale", shape=shape, initializer="ones")

    def call(self, x):
        mean_square = ops.mean(ops.square(x), axis=tuple(self.axis), keepdims=True)
        return ops.multiply(ops.divide(x, ops.sqrt(ops.add(mean_square, self.epsilon))),
                            self.scale)

    def compute_output_shape(self, input_shape):
        _check_axes(self, self.axis, input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


__all__ = ["GroupNormalization", "RMSNormalization", "UnitNormalization"]
