"""Depthwise and separable convolutions, 1-D and 2-D (channels-last).

Weights as Keras: ``depthwise_kernel`` (*kernel_size, in, depth_multiplier), then (separable)
``pointwise_kernel`` (1, ..., 1, in * depth_multiplier, filters), then ``bias``.
"""
from __future__ import annotations

from engine import ops

from .convolutional import _positive_int, _spatial_output_shape, _SpatialConv


class _DepthwiseConv(_SpatialConv):
    """Each input channel convolved with its own ``depth_multiplier`` filters."""

    def __init__(self, rank, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, activity_regularizer, **kwargs)
        self.depth_multiplier = _positive_int(depth_multiplier, "depth_multiplier")
        self._weight_args("depthwise", depthwise_initializer, depthwise_regularizer,
                          depthwise_constraint)
        self._weight_args("bias", bias_initializer, bias_regularizer, bias_constraint)

    def build(self, input_shape):
        channels = self._start_build(input_shape)
        # NOTE: tf.keras names this weight "depthwise_kernel"; Keras 3 calls the attribute
        # `kernel`. Both attributes point at the same variable.
        self.depthwise_kernel = self._make_weight(
            "depthwise", self.kernel_size + (channels, self.depth_multiplier), "depthwise_kernel")
        self.kernel = self.depthwise_kernel
        self.bias = self._make_bias(channels * self.depth_multiplier)
        self._finish_build(channels)

    def call(self, inputs):
        y = ops.depthwise_conv(inputs, self.depthwise_kernel, strides=self.strides,
                               padding=self.padding, dilation_rate=self.dilation_rate)
        return self.activation(self._add_bias(y))

    def compute_output_shape(self, input_shape):
        channels = input_shape[-1]
        spatial = _spatial_output_shape(input_shape, self.kernel_size, self.strides,
                                        self.padding, self.dilation_rate)
        out = None if channels is None else channels * self.depth_multiplier
        return (input_shape[0],) + spatial + (out,)

    def get_config(self):
        return self._conv_config({"depth_multiplier": self.depth_multiplier},
                                 ("depthwise", "bias"))


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1-D convolution: each channel of (batch, steps, channels) through its own
    ``depth_multiplier`` filters; output channel ``c * depth_multiplier + m``.

    >>> DepthwiseConv1D(3, depth_multiplier=2)(Input((10, 4))).shape
    (None, 8, 8)
    """

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


class DepthwiseConv2D(_DepthwiseConv):
    """Each input channel convolved with its own ``depth_multiplier`` filters.

    Weights: ``depthwise_kernel`` (kh, kw, in, depth_multiplier), ``bias`` (in * mult). Output
    channel ``c * depth_multiplier + m`` is input channel ``c`` through filter ``m``.

    >>> DepthwiseConv2D(3, depth_multiplier=2)(Input((8, 8, 4))).shape
    (None, 6, 6, 8)
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)


class _SeparableConv(_SpatialConv):
    """A depthwise conv then a pointwise (1x...x1) conv to ``filters`` channels."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(rank, kernel_size, strides, padding, data_format, dilation_rate,
                         activation, use_bias, activity_regularizer, **kwargs)
        self.filters = _positive_int(filters, "filters")
        self.depth_multiplier = _positive_int(depth_multiplier, "depth_multiplier")
        self._weight_args("depthwise", depthwise_initializer, depthwise_regularizer,
                          depthwise_constraint)
        self._weight_args("pointwise", pointwise_initializer, pointwise_regularizer,
                          pointwise_constraint)
        self._weight_args("bias", bias_initializer, bias_regularizer, bias_constraint)

    def build(self, input_shape):
        channels = self._start_build(input_shape)
        self.depthwise_kernel = self._make_weight(
            "depthwise", self.kernel_size + (channels, self.depth_multiplier), "depthwise_kernel")
        self.pointwise_kernel = self._make_weight(
            "pointwise", (1,) * self.rank + (channels * self.depth_multiplier, self.filters),
            "pointwise_kernel")
        self.bias = self._make_bias(self.filters)
        self._finish_build(channels)

    def call(self, inputs):
        y = ops.separable_conv(inputs, self.depthwise_kernel, self.pointwise_kernel,
                               strides=self.strides, padding=self.padding,
                               dilation_rate=self.dilation_rate)
        return self.activation(self._add_bias(y))

    def compute_output_shape(self, input_shape):
        spatial = _spatial_output_shape(input_shape, self.kernel_size, self.strides,
                                        self.padding, self.dilation_rate)
        return (input_shape[0],) + spatial + (self.filters,)

    def get_config(self):
        return self._conv_config({"depth_multiplier": self.depth_multiplier,
                                  "filters": self.filters}, ("depthwise", "pointwise", "bias"))


class SeparableConv1D(_SeparableConv):
    """A depthwise 1-D conv then a pointwise conv to ``filters`` channels.

    Weights: ``depthwise_kernel`` (k, in, mult), ``pointwise_kernel`` (1, in * mult, filters),
    ``bias`` (filters).

    >>> SeparableConv1D(16, 3, padding="same")(Input((10, 4))).shape
    (None, 10, 16)
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)


class SeparableConv2D(_SeparableConv):
    """A depthwise conv then a 1x1 (pointwise) conv to ``filters`` channels.

    Weights: ``depthwise_kernel`` (kh, kw, in, mult), ``pointwise_kernel``
    (1, 1, in * mult, filters), ``bias`` (filters).

    >>> SeparableConv2D(16, 3, padding="same")(Input((8, 8, 4))).shape
    (None, 8, 8, 16)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)


SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D

__all__ = ["DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
           "SeparableConvolution1D", "SeparableConvolution2D"]
