"""Normalization layers: BatchNormalization, LayerNormalization (Keras 3.15's semantics)."""
from __future__ import annotations

import numbers
import warnings

import engine
from engine import ops

from .. import config, constraints, initializers, regularizers
from .input_spec import InputSpec
from .layer import Layer


_serialize_constraint = constraints.serialize


def _check_axes(layer, axes, input_shape):
    ndim = len(input_shape)
    for axis in axes:
        if not -ndim <= axis < ndim:
            raise ValueError(f"Axis {axis} is out of bounds for input shape {tuple(input_shape)} "
                             f"of layer '{layer.name}'. Received: axis={layer.axis}")
        if input_shape[axis] is None:
            raise ValueError(f"Axis {axis} of the input of layer '{layer.name}' must have a "
                             f"defined dimension. Received: input_shape={tuple(input_shape)}")


class BatchNormalization(Layer):
    """Normalizes each channel with batch statistics (training) or moving ones (inference).

    Training (``training=True`` and ``layer.trainable``): ``gamma * (x - mean(x)) /
    sqrt(var(x) + epsilon) + beta`` with the biased variance of the batch over every axis
    but ``axis``, and ``moving = moving * momentum + batch_stat * (1 - momentum)``.
    Inference (``training`` False/None, or a frozen layer): the moving statistics.

    Weights, in Keras's order: ``gamma`` (if ``scale``), ``beta`` (if ``center``),
    ``moving_mean``, ``moving_variance`` (the last two non-trainable).

    >>> BatchNormalization()(Input((8, 8, 3))).shape
    (None, 8, 8, 3)
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, renorm=False, renorm_clipping=None, renorm_momentum=0.99,
                 synchronized=False, **kwargs):
        super().__init__(**kwargs)
        # NOTE: tf-keras configs write axis as a one-element list ([3]); Keras 3 wants an int.
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            axis = axis[0]
        if not isinstance(axis, numbers.Integral) or isinstance(axis, bool):
            raise ValueError(f"BatchNormalization expects an integer `axis`. Received: axis={axis}")
        if renorm:
            raise ValueError("BatchNormalization(renorm=True) is not supported by kerasish yet. "
                             f"Received: renorm={renorm}")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.renorm = renorm
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        # NOTE: one replica, so the local batch statistics are the global ones.
        self.synchronized = synchronized
        self.supports_masking = True
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        _check_axes(self, (self.axis,), input_shape)
        shape = (input_shape[self.axis],)
        if self.scale:
            self.gamma = self.add_weight(shape=shape, name="gamma",
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight(shape=shape, name="beta",
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight(shape=shape, name="moving_mean",
                                           initializer=self.moving_mean_initializer,
                                           trainable=False)
        self.moving_variance = self.add_weight(shape=shape, name="moving_variance",
                                               initializer=self.moving_variance_initializer,
                                               trainable=False)
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: shape[0]})
        self._reduction_axes = [i for i in range(len(input_shape))
                                if i != self.axis % len(input_shape)]
        # NOTE: a direct build() call (then set_weights) must not be rebuilt by __call__.
        self.built = True

    def call(self, inputs, training=None, mask=None):
        if mask is not None and len(mask.shape) != len(inputs.shape) - 1:
            raise ValueError("The mask provided should be one dimension less than the inputs. "
                             f"Received: mask.shape={mask.shape}, inputs.shape={inputs.shape}")
        # NOTE: a frozen BatchNormalization runs in inference mode even with training=True.
        if not (training and self.trainable):
            return ops.batch_normalization(inputs, self.moving_mean, self.moving_variance,
                                           axis=self.axis, offset=self.beta, scale=self.gamma,
                                           epsilon=self.epsilon)
        if mask is None:
            outputs, mean, variance = ops.batch_normalization_train(
                inputs, axis=self.axis, offset=self.beta, scale=self.gamma, epsilon=self.epsilon)
        else:
            mean, variance = self._masked_moments(inputs, mask)
            outputs = ops.batch_normalization(inputs, mean, variance, axis=self.axis,
                                              offset=self.beta, scale=self.gamma,
                                              epsilon=self.epsilon)
        self._update_moving_statistics(mean, variance)
        return outputs

    def _update_moving_statistics(self, mean, variance):
        # NOTE: Keras 3 (3.15.1 source: ops.moments) updates moving_variance with the *biased*
        # batch variance for inputs of every rank. tf-keras 2's fused kernel (4-D inputs) used
        # the unbiased n/(n-1) one; Keras 3 does not.
        with engine.no_grad():
            for variable, stat in ((self.moving_mean, mean), (self.moving_variance, variance)):
                variable.assign(ops.add(ops.multiply(variable, self.momentum),
                                        ops.multiply(stat, 1.0 - self.momentum)))

    def _masked_moments(self, inputs, mask):
        """Mean and biased variance over the positions where ``mask`` is True (Keras's)."""
        keep = ops.broadcast_to(ops.expand_dims(ops.cast(mask, "bool"), -1), inputs.shape)
        weights = ops.sum(ops.cast(keep, inputs.dtype), self._reduction_axes, keepdims=True)
        denominator = ops.add(weights, config.epsilon())
        total = ops.sum(ops.where(keep, inputs, 0.0), self._reduction_axes, keepdims=True)
        mean = ops.divide(total, denominator)
        centered = ops.where(keep, ops.subtract(inputs, mean), 0.0)
        variance = ops.divide(ops.sum(ops.square(centered), self._reduction_axes, keepdims=True),
                              denominator)
        return ops.reshape(mean, (-1,)), ops.reshape(variance, (-1,))

    def compute_output_shape(self, input_shape):
        ndim = len(input_shape)
        if not -ndim <= self.axis < ndim:
            raise ValueError(f"Axis {self.axis} is out of bounds for input shape "
                             f"{tuple(input_shape)}. Received: axis={self.axis}")
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer":
                    initializers.serialize(self.moving_variance_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": _serialize_constraint(self.beta_constraint),
                "gamma_constraint": _serialize_constraint(self.gamma_constraint),
                "synchronized": self.synchronized, "renorm": self.renorm,
                "renorm_clipping": self.renorm_clipping,
                "renorm_momentum": self.renorm_momentum}


class LayerNormalization(Layer):
    """Normalizes each example over ``axis`` (int or list): ``gamma * (x - mean) /
    sqrt(var + epsilon) + beta``, with ``gamma`` and ``beta`` spanning the normalized axes.

    Weights, in Keras's order: ``gamma`` (if ``scale``), ``beta`` (if ``center``).

    >>> LayerNormalization()(Input((5, 8))).shape
    (None, 5, 8)
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None,
                 beta_constraint=None, gamma_constraint=None, **kwargs):
        rms_scaling = kwargs.pop("rms_scaling", False)
        if rms_scaling:
            warnings.warn("You passed `rms_scaling=True`, which is deprecated. This argument "
                          "incorrectly scales the input by the variance, not the root mean "
                          "square. To correctly use RMS Normalization, please use "
                          "`keras.layers.RMSNormalization` instead.", stacklevel=2)
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) and all(
                isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
            self.axis = int(axis)
        else:
            raise ValueError("Expected an int or a list/tuple of ints for the argument 'axis'. "
                             f"Received: axis={axis!r}")
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.rms_scaling = rms_scaling
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True
        self.gamma = self.beta = None

    def build(self, input_shape):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        _check_axes(self, axes, input_shape)
        ndim = len(input_shape)
        # NOTE: sorted by position, so the weights' axes follow the input's order.
        if isinstance(self.axis, list):
            self.axis = sorted(self.axis, key=lambda a: a % ndim)
        else:
            self.axis = [self.axis]
        shape = tuple(input_shape[a] for a in self.axis)
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(shape=shape, name="gamma",
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(shape=shape, name="beta",
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        min_ndim = max(a + 1 if a >= 0 else -a for a in self.axis)
        self.input_spec = InputSpec(min_ndim=min_ndim,
                                    axes={a: input_shape[a] for a in self.axis})
        # NOTE: a direct build() call (then set_weights) must not be rebuilt by __call__.
        self.built = True

    def call(self, inputs):
        axes = tuple(a % inputs.ndim for a in self.axis)
        if not self.rms_scaling:
            return ops.layer_normalization(inputs, self.gamma, self.beta, axis=axes,
                                           epsilon=self.epsilon)
        # Keras's deprecated rms_scaling: x / sqrt(var(x) + epsilon) * gamma, no centering.
        inv = ops.divide(1.0, ops.sqrt(ops.add(ops.var(inputs, axis=axes, keepdims=True),
                                               self.epsilon)))
        outputs = ops.multiply(inputs, inv)
        if self.gamma is not None:
            bshape = tuple(n if i in axes else 1 for i, n in enumerate(inputs.shape))
            outputs = ops.multiply(outputs, ops.reshape(self.gamma, bshape))
        return outputs

    def compute_output_shape(self, input_shape):
        ndim = len(input_shape)
        for axis in (self.axis if isinstance(self.axis, list) else [self.axis]):
            if not -ndim <= axis < ndim:
                raise ValueError(f"Axis {axis} is out of bounds for input shape "
                                 f"{tuple(input_shape)}. Received: axis={self.axis}")
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale, "rms_scaling": self.rms_scaling,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": _serialize_constraint(self.beta_constraint),
                "gamma_constraint": _serialize_constraint(self.gamma_constraint)}


__all__ = ["BatchNormalization", "LayerNormalization"]
