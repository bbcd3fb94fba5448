"""Convolution layers: Conv1D, Conv2D, Conv3D, and the shared base of every conv layer.

Channels-last only: inputs are (batch, *spatial, channels) and kernels are in Keras's layout
((*kernel_size, in, out), HWIO for 2-D). The argument helpers at the top are shared with
``pooling.py`` and ``reshaping.py``; the transposed, depthwise and separable convs (and
ConvLSTM's cell) build on ``_SpatialConv`` in their own modules.
"""
from __future__ import annotations

import types

from engine import ops
from engine.ops._utils import conv_output_length

from .. import activations, config, constraints, initializers, regularizers, utils
from .input_spec import InputSpec, check_input_spec
from .layer import Layer


# -- argument helpers (Keras's standardize_*) -----------------------------------------------------

def standardize_data_format(data_format):
    """None -> the configured format; only "channels_last" runs here."""
    if data_format is None:
        return config.image_data_format()
    value = str(data_format).lower()
    if value == "channels_first":
        raise ValueError(
            "kerasish runs channels_last only: inputs are (batch, *spatial, channels). "
            f"Transpose channels-first data first. Received: data_format={data_format!r}")
    if value != "channels_last":
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format!r}")
    return value


def standardize_padding(padding, allow_causal=False):
    value = str(padding).lower()
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if value not in allowed:
        raise ValueError(f"The `padding` argument must be one of {allowed}"
                         f"{'' if allow_causal else ' (causal is for Conv1D only)'}. "
                         f"Received: padding={padding!r}")
    return value


def standardize_tuple(value, n, name, allow_zero=False):
    """An int or ``n`` ints as a tuple of ``n`` positive (or non-negative) ints."""
    result = utils.standardize_tuple(value, n, name)
    if any(v < 0 or (v == 0 and not allow_zero) for v in result):
        kind = "non-negative" if allow_zero else "positive"
        raise ValueError(f"The `{name}` argument must be a tuple of {n} {kind} integers. "
                         f"Received: {name}={value}")
    return result


def check_input_rank(layer, input_shape):
    """Runs the layer's ``input_spec`` on a shape (at build time, before weights are made)."""
    check_input_spec(layer, types.SimpleNamespace(shape=tuple(input_shape), dtype=None))


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"Invalid value for argument `{name}`. Expected a strictly positive "
                         f"integer. Received: {name}={value}")
    return value


def _channels(layer, input_shape):
    channels = input_shape[-1]
    if channels is None:
        raise ValueError(f"Layer '{layer.name}': the channel dimension (last axis) of the inputs "
                         f"must be defined. Received: input_shape={tuple(input_shape)}")
    return channels


def _spatial_output_shape(input_shape, kernel_size, strides, padding, dilation_rate):
    """Keras's ``compute_conv_output_shape`` for the spatial axes; None stays None."""
    out = []
    for n, k, s, d in zip(input_shape[1:-1], kernel_size, strides, dilation_rate):
        length = conv_output_length(n, k, s, "same" if padding == "causal" else padding, d)
        if length is not None and length <= 0:
            raise ValueError(
                "Computed output size would be zero or negative: the (dilated) kernel "
                f"{tuple(kernel_size)} (dilation_rate={tuple(dilation_rate)}) does not fit the "
                f"input with padding='{padding}'. Received: input_shape={tuple(input_shape)}")
        out.append(length)
    return tuple(out)


# -- the layers -----------------------------------------------------------------------------------

class _SpatialConv(Layer):
    """Arguments and checks shared by every convolution layer."""

    def __init__(self, rank, kernel_size, strides, padding, data_format, dilation_rate,
                 activation, use_bias, activity_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.kernel_size = standardize_tuple(kernel_size, rank, "kernel_size")
        self.strides = standardize_tuple(strides, rank, "strides")
        self.dilation_rate = standardize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = standardize_padding(padding, allow_causal=getattr(self, "_causal", False))
        self.data_format = standardize_data_format(data_format)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        # NOTE: kept for the API; the Layer base has no activity-regularization losses yet.
        self.activity_regularizer = regularizers.get(activity_regularizer)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("`strides > 1` not supported in conjunction with "
                             f"`dilation_rate > 1`. Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")
        self.input_spec = InputSpec(ndim=rank + 2)

    def _weight_args(self, role, initializer, regularizer, constraint):
        """Stores ``{role}_initializer``, ``{role}_regularizer``, ``{role}_constraint``."""
        setattr(self, f"{role}_initializer", initializers.get(initializer))
        setattr(self, f"{role}_regularizer", regularizers.get(regularizer))
        setattr(self, f"{role}_constraint", constraints.get(constraint))

    def _make_weight(self, role, shape, name=None):
        return self.add_weight(shape=shape, name=name or role,
                               initializer=getattr(self, f"{role}_initializer"),
                               regularizer=getattr(self, f"{role}_regularizer"),
                               constraint=getattr(self, f"{role}_constraint"))

    def _make_bias(self, units):
        return self._make_weight("bias", (units,)) if self.use_bias else None

    def _add_bias(self, y):
        return ops.add(y, self.bias) if self.bias is not None else y

    def _finish_build(self, channels):
        self.input_spec = InputSpec(ndim=self.rank + 2, axes={-1: channels})

    def _start_build(self, input_shape):
        """Rank and shape checks before any weight exists; returns the input channels."""
        check_input_rank(self, input_shape)
        channels = _channels(self, input_shape)
        self.compute_output_shape(input_shape)
        return channels

    def _conv_config(self, head, roles, after_dilation=None):
        """The config in Keras's key order: ``head``, the window arguments, ``after_dilation``,
        activation, use_bias, every role's initializer, every role's regularizer, the activity
        regularizer, then every role's constraint."""
        cfg = {**super().get_config(), **head, "kernel_size": self.kernel_size,
               "strides": self.strides, "padding": self.padding,
               "data_format": self.data_format, "dilation_rate": self.dilation_rate,
               **(after_dilation or {}),
               "activation": activations.serialize(self.activation), "use_bias": self.use_bias}
        for kind, module in (("initializer", initializers), ("regularizer", regularizers)):
            for role in roles:
                cfg[f"{role}_{kind}"] = module.serialize(getattr(self, f"{role}_{kind}"))
        cfg["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        for role in roles:
            cfg[f"{role}_constraint"] = constraints.serialize(getattr(self, f"{role}_constraint"))
        return cfg


class _Conv(_SpatialConv):
    """N-D convolution: ``activation(conv(inputs, kernel) + bias)``."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, activity_regularizer, **kwargs)
        self.filters = _positive_int(filters, "filters")
        self.groups = _positive_int(groups, "groups")
        if filters % groups:
            raise ValueError("The number of filters must be evenly divisible by the number of "
                             f"groups. Received: groups={groups}, filters={filters}")
        self._weight_args("kernel", kernel_initializer, kernel_regularizer, kernel_constraint)
        self._weight_args("bias", bias_initializer, bias_regularizer, bias_constraint)

    def build(self, input_shape):
        channels = self._start_build(input_shape)
        if channels % self.groups:
            raise ValueError(
                f"The number of input channels ({channels}) must be evenly divisible by the "
                f"number of groups. Received: groups={self.groups}, "
                f"input_shape={tuple(input_shape)}")
        self.kernel = self._make_weight(
            "kernel", self.kernel_size + (channels // self.groups, self.filters))
        self.bias = self._make_bias(self.filters)
        self._finish_build(channels)

    def call(self, inputs):
        padding = self.padding
        if padding == "causal":
            # NOTE: causal = pad (kernel - 1) * dilation steps in front, then a valid conv.
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            inputs = ops.pad(inputs, ((0, 0), (left, 0), (0, 0)))
            padding = "valid"
        y = ops.conv(inputs, self.kernel, strides=self.strides, padding=padding,
                     dilation_rate=self.dilation_rate)
        return self.activation(self._add_bias(y))

    def compute_output_shape(self, input_shape):
        spatial = _spatial_output_shape(input_shape, self.kernel_size, self.strides,
                                        self.padding, self.dilation_rate)
        return (input_shape[0],) + spatial + (self.filters,)

    def get_config(self):
        return self._conv_config({"filters": self.filters}, ("kernel", "bias"),
                                 {"groups": self.groups})


class Conv1D(_Conv):
    """1-D convolution over (batch, steps, channels); ``padding`` may also be "causal".

    >>> Conv1D(8, 3, padding="causal")(Input((10, 4))).shape
    (None, 10, 8)
    """

    _causal = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


class Conv2D(_Conv):
    """2-D convolution over (batch, height, width, channels); kernel (kh, kw, in/groups, out).

    >>> Conv2D(16, 3, strides=2, padding="same")(Input((32, 32, 3))).shape
    (None, 16, 16, 16)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


class Conv3D(_Conv):
    """3-D convolution over (batch, depth, height, width, channels); kernel (kd, kh, kw, in, out).

    >>> Conv3D(8, 3, padding="same")(Input((6, 8, 8, 2))).shape
    (None, 6, 8, 8, 8)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1, 1), groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)


Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D

# NOTE: below the shared base they build on (the modules import it from here).
from .conv_transpose import (Conv1DTranspose, Conv2DTranspose, Conv3DTranspose,  # noqa: E402
                             Convolution1DTranspose, Convolution2DTranspose,
                             Convolution3DTranspose)
from .depthwise_conv import (DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D,  # noqa: E402
                             SeparableConv2D, SeparableConvolution1D, SeparableConvolution2D)

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
           "Convolution1D", "Convolution2D", "Convolution3D", "Convolution1DTranspose",
           "Convolution2DTranspose", "Convolution3DTranspose", "DepthwiseConv1D",
           "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D",
           "SeparableConvolution2D"]
