"""Pooling layers: Max/AveragePooling1D/2D and the global poolings (channels-last only)."""
from __future__ import annotations

from engine import ops
from engine.ops._utils import conv_output_length

from .convolutional import standardize_data_format, standardize_tuple
from .input_spec import InputSpec
from .layer import Layer


class _Pooling(Layer):
    """Windowed max or average pooling over ``rank`` spatial axes."""

    rank = 2
    mode = "max"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.pool_size = standardize_tuple(pool_size, self.rank, "pool_size")
        self.strides = self.pool_size if strides is None else \
            standardize_tuple(strides, self.rank, "strides")
        self.padding = str(padding).lower()
        if self.padding not in ("valid", "same"):
            raise ValueError("The `padding` argument must be one of ('valid', 'same'). "
                             f"Received: padding={padding!r}")
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        pool = ops.max_pool if self.mode == "max" else ops.average_pool
        return pool(inputs, pool_size=self.pool_size, strides=self.strides,
                    padding=self.padding)

    def compute_output_shape(self, input_shape):
        spatial = tuple(conv_output_length(n, k, s, self.padding)
                        for n, k, s in zip(input_shape[1:-1], self.pool_size, self.strides))
        if any(n is not None and n <= 0 for n in spatial):
            raise ValueError(
                f"Computed output size would be zero or negative: the pool window "
                f"{self.pool_size} does not fit the input with padding='{self.padding}'. "
                f"Received: input_shape={tuple(input_shape)}")
        return (input_shape[0],) + spatial + (input_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling1D(_Pooling):
    """Max over windows of ``pool_size`` steps of (batch, steps, channels).

    >>> MaxPooling1D(2)(Input((10, 4))).shape
    (None, 5, 4)
    """

    rank, mode = 1, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class MaxPooling2D(_Pooling):
    """Max over ``pool_size`` windows of (batch, height, width, channels); padding is ignored.

    >>> MaxPooling2D((2, 2))(Input((8, 8, 3))).shape
    (None, 4, 4, 3)
    """

    rank, mode = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling1D(_Pooling):
    """Mean over windows of ``pool_size`` steps; with "same" the padding is not counted.

    >>> AveragePooling1D(3, strides=1, padding="same")(Input((10, 4))).shape
    (None, 10, 4)
    """

    rank, mode = 1, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class AveragePooling2D(_Pooling):
    """Mean over ``pool_size`` windows; with "same" each border window averages real pixels.

    >>> AveragePooling2D(3, strides=1, padding="same")(Input((8, 8, 3))).shape
    (None, 8, 8, 3)
    """

    rank, mode = 2, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, name=name, **kwargs)


class _GlobalPooling(Layer):
    """A reduction over every spatial axis, optionally keeping them as length 1."""

    rank = 2

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.keepdims = bool(keepdims)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    @property
    def _axes(self):
        return tuple(range(1, self.rank + 1))

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return (input_shape[0],) + (1,) * self.rank + (input_shape[-1],)
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps of (batch, steps, channels); masked steps are left out.

    >>> GlobalAveragePooling1D()(Input((10, 4))).shape
    (None, 4)
    """

    rank = 1

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return ops.mean(inputs, axis=1, keepdims=self.keepdims)
        mask = ops.expand_dims(ops.cast(self._to_tensor(mask), "bool"), 2)
        # NOTE: `where` (not a product) so that inf/nan in masked steps cannot leak in.
        total = ops.sum(ops.where(mask, inputs, 0.0), axis=1, keepdims=self.keepdims)
        count = ops.sum(ops.cast(mask, inputs.dtype), axis=1, keepdims=self.keepdims)
        return ops.divide(total, count)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width of (batch, height, width, channels).

    >>> GlobalAveragePooling2D()(Input((8, 8, 3))).shape
    (None, 3)
    """

    rank = 2

    def call(self, inputs):
        return ops.mean(inputs, axis=self._axes, keepdims=self.keepdims)


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over the steps of (batch, steps, channels).

    >>> GlobalMaxPooling1D(keepdims=True)(Input((10, 4))).shape
    (None, 1, 4)
    """

    rank = 1

    def call(self, inputs):
        return ops.max(inputs, axis=self._axes, keepdims=self.keepdims)


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over height and width of (batch, height, width, channels).

    >>> GlobalMaxPooling2D()(Input((8, 8, 3))).shape
    (None, 3)
    """

    rank = 2

    def call(self, inputs):
        return ops.max(inputs, axis=self._axes, keepdims=self.keepdims)


MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D

__all__ = ["MaxPooling1D", "MaxPooling2D", "AveragePooling1D", "AveragePooling2D",
           "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalMaxPooling1D",
           "GlobalMaxPooling2D", "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D",
           "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalMaxPool1D", "GlobalMaxPool2D"]
