"""Transposed convolutions: Conv1DTranspose, Conv2DTranspose, Conv3DTranspose (channels-last).

A transposed conv is the input gradient of a conv, run forward (``ops.conv_transpose``); the
kernel is stored as Keras stores it: (*kernel_size, filters, in_channels).
"""
from __future__ import annotations

from engine import ops

from .convolutional import _positive_int, _SpatialConv, standardize_tuple


def _deconv_length(n, k, s, padding, output_padding, d):
    """Keras's transposed-conv output length along one axis."""
    if n is None:
        return None
    span = (k - 1) * d + 1
    if output_padding is None:
        return n * s + max(span - s, 0) if padding == "valid" else n * s
    pad = span // 2 if padding == "same" else 0
    return (n - 1) * s + span - 2 * pad + output_padding


class _ConvTranspose(_SpatialConv):
    """N-D transposed convolution: ``activation(conv_transpose(inputs, kernel) + bias)``."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 output_padding=None, data_format=None, dilation_rate=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, activity_regularizer, **kwargs)
        self.filters = _positive_int(filters, "filters")
        self.output_padding = None if output_padding is None else \
            standardize_tuple(output_padding, rank, "output_padding", allow_zero=True)
        if self.output_padding is not None and \
                any(p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"`output_padding` must be < `strides` (strides={self.strides}). "
                             f"Received: output_padding={output_padding}")
        self._weight_args("kernel", kernel_initializer, kernel_regularizer, kernel_constraint)
        self._weight_args("bias", bias_initializer, bias_regularizer, bias_constraint)

    def build(self, input_shape):
        channels = self._start_build(input_shape)
        self.kernel = self._make_weight("kernel", self.kernel_size + (self.filters, channels))
        self.bias = self._make_bias(self.filters)
        self._finish_build(channels)

    def call(self, inputs):
        y = ops.conv_transpose(inputs, self.kernel, strides=self.strides, padding=self.padding,
                               output_padding=self.output_padding,
                               dilation_rate=self.dilation_rate)
        return self.activation(self._add_bias(y))

    def compute_output_shape(self, input_shape):
        pads = self.output_padding or (None,) * self.rank
        spatial = tuple(_deconv_length(n, k, s, self.padding, p, d) for n, k, s, p, d in zip(
            input_shape[1:-1], self.kernel_size, self.strides, pads, self.dilation_rate))
        if any(n is not None and n <= 0 for n in spatial):
            raise ValueError(f"Computed output size would be zero or negative: {spatial}. "
                             f"Received: input_shape={tuple(input_shape)}")
        return (input_shape[0],) + spatial + (self.filters,)

    def get_config(self):
        return self._conv_config({"filters": self.filters}, ("kernel", "bias"),
                                 {"output_padding": self.output_padding})


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution over (batch, steps, channels); kernel (k, filters, in).

    >>> Conv1DTranspose(8, 3, strides=2, padding="same")(Input((5, 4))).shape
    (None, 10, 8)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution (the input gradient of a Conv2D), e.g. to upsample.

    Weights: ``kernel`` (kh, kw, filters, in) then ``bias`` (filters), as Keras stores them.

    >>> Conv2DTranspose(8, 3, strides=2, padding="same")(Input((5, 5, 4))).shape
    (None, 10, 10, 8)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


class Conv3DTranspose(_ConvTranspose):
    """Transposed 3-D convolution over (batch, depth, height, width, channels).

    >>> Conv3DTranspose(4, 3, strides=2, padding="same")(Input((3, 4, 4, 2))).shape
    (None, 6, 8, 8, 4)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1, 1),
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(3, filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)


Convolution1DTranspose, Convolution2DTranspose = Conv1DTranspose, Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose

__all__ = ["Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "Convolution1DTranspose",
           "Convolution2DTranspose", "Convolution3DTranspose"]
