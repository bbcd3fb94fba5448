"""Pooling layers: Max/AveragePooling1D/2D/3D, the global and the adaptive poolings
(channels-last only)."""
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


class MaxPooling3D(_Pooling):
    """Max over ``pool_size`` windows of (batch, depth, height, width, channels).

    >>> MaxPooling3D((2, 2, 2))(Input((4, 8, 8, 3))).shape
    (None, 2, 4, 4, 3)
    """

    rank, mode = 3, "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
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


class AveragePooling3D(_Pooling):
    """Mean over ``pool_size`` windows of (batch, depth, height, width, channels).

    >>> AveragePooling3D(2)(Input((4, 8, 8, 3))).shape
    (None, 2, 4, 4, 3)
    """

    rank, mode = 3, "average"

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


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over depth, height and width of (batch, depth, height, width, channels).

    >>> GlobalAveragePooling3D()(Input((4, 8, 8, 3))).shape
    (None, 3)
    """

    rank = 3

    def call(self, inputs):
        return ops.mean(inputs, axis=self._axes, keepdims=self.keepdims)


class GlobalMaxPooling3D(_GlobalPooling):
    """Max over depth, height and width of (batch, depth, height, width, channels).

    >>> GlobalMaxPooling3D(keepdims=True)(Input((4, 8, 8, 3))).shape
    (None, 1, 1, 1, 3)
    """

    rank = 3

    def call(self, inputs):
        return ops.max(inputs, axis=self._axes, keepdims=self.keepdims)


class _AdaptivePooling(Layer):
    """Pools to a fixed spatial ``output_size`` whatever the input's (PyTorch's windows)."""

    rank = 2
    mode = "average"

    def __init__(self, output_size, data_format=None, **kwargs):
        size = (output_size,) * self.rank if isinstance(output_size, int) else output_size
        if isinstance(output_size, bool) or not isinstance(size, (tuple, list)) or \
                len(size) != self.rank or not all(isinstance(n, int) and n > 0 for n in size):
            raise TypeError(f"`output_size` must be an integer or a tuple of {self.rank} positive "
                            f"integers. Received: output_size={output_size}")
        super().__init__(**kwargs)
        self.output_size = tuple(size)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        pool = ops.adaptive_max_pool if self.mode == "max" else ops.adaptive_average_pool
        return pool(inputs, self.output_size)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.output_size + (input_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size,
                "data_format": self.data_format}


class AdaptiveAveragePooling1D(_AdaptivePooling):
    """Averages (batch, steps, channels) down to ``output_size`` steps.

    >>> AdaptiveAveragePooling1D(4)(Input((10, 3))).shape
    (None, 4, 3)
    """

    rank, mode = 1, "average"


class AdaptiveAveragePooling2D(_AdaptivePooling):
    """Averages (batch, height, width, channels) down to ``output_size`` (height, width).

    >>> AdaptiveAveragePooling2D((2, 3))(Input((7, 9, 3))).shape
    (None, 2, 3, 3)
    """

    rank, mode = 2, "average"


class AdaptiveAveragePooling3D(_AdaptivePooling):
    """Averages (batch, depth, height, width, channels) down to ``output_size``.

    >>> AdaptiveAveragePooling3D(2)(Input((5, 6, 7, 3))).shape
    (None, 2, 2, 2, 3)
    """

    rank, mode = 3, "average"


class AdaptiveMaxPooling1D(_AdaptivePooling):
    """Max-pools (batch, steps, channels) down to ``output_size`` steps.

    >>> AdaptiveMaxPooling1D(4)(Input((10, 3))).shape
    (None, 4, 3)
    """

    rank, mode = 1, "max"


class AdaptiveMaxPooling2D(_AdaptivePooling):
    """Max-pools (batch, height, width, channels) down to ``output_size`` (height, width).

    >>> AdaptiveMaxPooling2D((2, 3))(Input((7, 9, 3))).shape
    (None, 2, 3, 3)
    """

    rank, mode = 2, "max"


class AdaptiveMaxPooling3D(_AdaptivePooling):
    """Max-pools (batch, depth, height, width, channels) down to ``output_size``.

    >>> AdaptiveMaxPooling3D(2)(Input((5, 6, 7, 3))).shape
    (None, 2, 2, 2, 3)
    """

    rank, mode = 3, "max"


MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (GlobalMaxPooling1D, GlobalMaxPooling2D,
                                                     GlobalMaxPooling3D)

__all__ = ["MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
           "AveragePooling2D", "AveragePooling3D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling1D",
           "GlobalMaxPooling2D", "GlobalMaxPooling3D", "AdaptiveAveragePooling1D",
           "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D", "AdaptiveMaxPooling1D",
           "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D",
           "AvgPool1D", "AvgPool2D", "AvgPool3D", "GlobalAvgPool1D", "GlobalAvgPool2D",
           "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D"]
