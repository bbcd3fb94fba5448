"""Activation layers: ReLU, LeakyReLU, ELU, Softmax (mask-aware), PReLU."""
from __future__ import annotations

import numbers
import warnings

from engine import ops

from .. import activations, constraints, initializers, regularizers
from .input_spec import InputSpec
from .layer import Layer


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


class _Elementwise(Layer):
    """An activation layer: passes masks through, output shape = input shape."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class ReLU(_Elementwise):
    """Rectified linear unit with Keras's options.

    ``f(x) = min(x, max_value)`` for ``x > threshold``, else
    ``negative_slope * (x - threshold)`` (0 with the default slope).

    >>> ReLU(max_value=6.0)(Input((4,))).shape
    (None, 4)
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and (not _is_number(max_value) or max_value < 0.0):
            raise ValueError("max_value of a ReLU layer cannot be a negative value. "
                             f"Received: max_value={max_value}")
        if not _is_number(negative_slope) or negative_slope < 0.0:
            raise ValueError("negative_slope of a ReLU layer cannot be None or a negative "
                             f"value. Received: negative_slope={negative_slope}")
        if not _is_number(threshold) or threshold < 0.0:
            raise ValueError("threshold of a ReLU layer cannot be None or a negative value. "
                             f"Received: threshold={threshold}")
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold

    def call(self, inputs):
        # NOTE: Keras's exact formula: x is kept only where x > threshold (so f(threshold) = 0
        # for threshold > 0), the kept part is clipped to [0, max_value], then
        # negative_slope * relu(threshold - x) is subtracted.
        slope, threshold, max_value = self.negative_slope, self.threshold, self.max_value
        if slope != 0.0 and max_value is None and threshold == 0.0:
            return ops.leaky_relu(inputs, negative_slope=slope)
        if threshold != 0.0:
            outputs = ops.where(ops.greater(inputs, threshold), inputs, 0.0)
        else:
            outputs = ops.relu(inputs)
        if max_value is not None:
            outputs = ops.clip(outputs, 0.0, max_value)
        if slope != 0.0:
            outputs = ops.subtract(
                outputs, ops.multiply(ops.relu(ops.subtract(threshold, inputs)), slope))
        return outputs

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(_Elementwise):
    """``x`` for ``x >= 0``, else ``negative_slope * x``.

    >>> LeakyReLU(negative_slope=0.1)(Input((4,))).shape
    (None, 4)
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          stacklevel=2)
        super().__init__(**kwargs)
        if not _is_number(negative_slope) or negative_slope < 0:
            raise ValueError("The negative_slope value of a Leaky ReLU layer cannot be None or "
                             f"negative value. Expected a float. Received: "
                             f"negative_slope={negative_slope}")
        self.negative_slope = negative_slope

    def call(self, inputs):
        return ops.leaky_relu(inputs, negative_slope=self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_Elementwise):
    """``x`` for ``x > 0``, else ``alpha * (exp(x) - 1)``.

    >>> ELU(alpha=0.5)(Input((4,))).shape
    (None, 4)
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        if not _is_number(alpha):
            raise ValueError(f"alpha of an ELU layer must be a number. Received: alpha={alpha}")
        self.alpha = alpha

    def call(self, inputs):
        return ops.elu(inputs, alpha=self.alpha)

    def get_config(self):
        # NOTE: Keras 3's ELU leaves alpha out of its config (so it is lost on reload);
        # kerasish writes it so that from_config rebuilds the same layer.
        return {**super().get_config(), "alpha": self.alpha}


def _large_negative_number(dtype):
    return -3e4 if str(dtype) == "float16" else -1e9


class Softmax(_Elementwise):
    """Softmax over ``axis`` (an int or a list of ints).

    A ``mask`` (True = keep) broadcastable to the inputs from the right puts a large negative
    number at masked positions before the softmax and zeros them after it, as Keras does.

    >>> Softmax()(Input((3, 5))).shape
    (None, 3, 5)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if not (_is_int(axis) or isinstance(axis, (list, tuple)) and axis
                and all(map(_is_int, axis))):
            raise ValueError("`axis` of a Softmax layer must be an int or a list of ints. "
                             f"Received: axis={axis}")
        self.axis = list(axis) if isinstance(axis, tuple) else axis

    def build(self, input_shape):
        ndim = len(input_shape)
        for axis in (self.axis if isinstance(self.axis, list) else [self.axis]):
            if not -ndim <= axis < ndim:
                raise ValueError(f"Axis {axis} is out of bounds for the input shape "
                                 f"{tuple(input_shape)} of layer '{self.name}'. "
                                 f"Received: axis={self.axis}")

    def call(self, inputs, mask=None):
        if mask is not None:
            self._check_mask(inputs, mask)
            if str(mask.dtype) != "bool":
                mask = ops.greater(mask, 0.5)
            inputs = ops.where(mask, inputs, _large_negative_number(inputs.dtype))
        axis = self.axis
        if isinstance(axis, list) and len(axis) > 1:
            outputs = ops.softmax(inputs, axis=tuple(axis))
        else:
            # NOTE: as Keras, one axis goes through activations.softmax, whose output keeps
            # its logits for the cross-entropy losses (a mask's where() below drops them).
            outputs = activations.softmax(inputs, axis=axis[0] if isinstance(axis, list) else axis)
        if mask is not None:
            outputs = ops.where(mask, outputs, 0.0)
        return outputs

    @staticmethod
    def _check_mask(inputs, mask):
        message = (f"Received: inputs.shape={tuple(inputs.shape)}, "
                   f"mask.shape={tuple(mask.shape)}")
        if len(mask.shape) > len(inputs.shape):
            raise ValueError("The `mask` must be broadcastable to `inputs` and must not have "
                             f"more dimensions. {message}")
        for m_dim, i_dim in zip(mask.shape[::-1], inputs.shape[::-1]):
            if m_dim != 1 and m_dim != i_dim:
                raise ValueError("The `mask` must be broadcastable to `inputs`. Each mask "
                                 "dimension must be 1 or match the corresponding input "
                                 f"dimension. {message}")

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class PReLU(_Elementwise):
    """Parametric ReLU: ``x`` for ``x >= 0``, else ``alpha * x`` with a learned ``alpha``.

    ``alpha`` has the input's shape without the batch axis, with 1 on ``shared_axes``.

    >>> PReLU(shared_axes=[1, 2])(Input((8, 8, 3))).shape
    (None, 8, 8, 3)
    """

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = list(shared_axes)
        else:
            self.shared_axes = [shared_axes]
        if self.shared_axes is not None and not all(_is_int(a) and a >= 1
                                                    for a in self.shared_axes):
            raise ValueError("`shared_axes` of a PReLU layer must be positive ints (axis 0 is "
                             f"the batch axis). Received: shared_axes={shared_axes}")
        self.alpha = None

    def build(self, input_shape):
        ndim = len(input_shape)
        shared = self.shared_axes or []
        if any(a >= ndim for a in shared):
            raise ValueError(f"`shared_axes` of layer '{self.name}' are out of bounds for the "
                             f"input shape {tuple(input_shape)}. Received: "
                             f"shared_axes={self.shared_axes}")
        param_shape = tuple(1 if i in shared else input_shape[i] for i in range(1, ndim))
        if any(n is None for n in param_shape):
            raise ValueError(f"PReLU layer '{self.name}' needs defined dimensions on its "
                             f"non-shared axes. Received: input_shape={tuple(input_shape)}")
        self.alpha = self.add_weight(shape=param_shape, name="alpha",
                                     initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        self.input_spec = InputSpec(ndim=ndim, axes={i: input_shape[i] for i in range(1, ndim)
                                                     if i not in shared})
        # NOTE: a direct build() call (then set_weights) must not be rebuilt by __call__.
        self.built = True

    def call(self, inputs):
        negative = ops.multiply(self.alpha, ops.relu(ops.negative(inputs)))
        return ops.subtract(ops.relu(inputs), negative)

    def get_config(self):
        return {**super().get_config(),
                "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(self.alpha_constraint),
                "shared_axes": self.shared_axes}


__all__ = ["ELU", "LeakyReLU", "PReLU", "ReLU", "Softmax"]
