"""Spatial reshaping layers for images: ZeroPadding2D, Cropping2D, UpSampling2D (channels-last)."""
from __future__ import annotations

from engine import ops

from .convolutional import standardize_data_format, standardize_tuple
from .input_spec import InputSpec
from .layer import Layer


def _two_pairs(value, name):
    """An int, (sym_h, sym_w) or ((top, bottom), (left, right)) as two (before, after) pairs."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}")
        return ((value, value), (value, value))
    if not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(
            f"`{name}` should be either an int, a tuple of 2 ints (symmetric_height, "
            f"symmetric_width), or a tuple of 2 tuples of 2 ints ((top, bottom), "
            f"(left, right)). Received: {name}={value}")
    return (standardize_tuple(value[0], 2, f"1st entry of {name}", allow_zero=True),
            standardize_tuple(value[1], 2, f"2nd entry of {name}", allow_zero=True))


class ZeroPadding2D(Layer):
    """Adds rows and columns of zeros around (batch, height, width, channels).

    >>> ZeroPadding2D(((1, 2), (3, 4)))(Input((5, 5, 3))).shape
    (None, 8, 12, 3)
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.padding = _two_pairs(padding, "padding")
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs):
        return ops.pad(inputs, ((0, 0),) + self.padding + ((0, 0),))

    def compute_output_shape(self, input_shape):
        spatial = tuple(None if n is None else n + a + b
                        for n, (a, b) in zip(input_shape[1:3], self.padding))
        return (input_shape[0],) + spatial + (input_shape[3],)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}


class Cropping2D(Layer):
    """Removes rows and columns at the borders of (batch, height, width, channels).

    >>> Cropping2D(((2, 2), (4, 4)))(Input((28, 28, 3))).shape
    (None, 24, 20, 3)
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.cropping = _two_pairs(cropping, "cropping")
        self.input_spec = InputSpec(ndim=4)

    def _check(self, input_shape):
        if any(n is not None and a + b >= n
               for n, (a, b) in zip(input_shape[1:3], self.cropping)):
            raise ValueError(
                "Values in `cropping` argument should be smaller than the corresponding "
                f"spatial dimension of the input (input_shape={tuple(input_shape)}). "
                f"Received: cropping={self.cropping}")

    def call(self, inputs):
        self._check(inputs.shape)
        (top, bottom), (left, right) = self.cropping
        h, w = inputs.shape[1], inputs.shape[2]
        return inputs[:, top:h - bottom, left:w - right, :]

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        spatial = tuple(None if n is None else n - a - b
                        for n, (a, b) in zip(input_shape[1:3], self.cropping))
        return (input_shape[0],) + spatial + (input_shape[3],)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": self.data_format}


def _bilinear_axis(x, axis, factor):
    """Upsamples one axis by an integer factor with half-pixel centers, clamped at the edges.

    Output ``q * factor + r`` samples the input at ``q + offset_r``, ``offset_r = (r + 0.5) /
    factor - 0.5``: a blend of x[q] with its neighbour x[q - 1] (offset < 0) or x[q + 1]
    (offset > 0). The edge rows are repeated (Keras/TF/JAX clamp there), so every output is a
    fixed blend of three shifted copies of ``x``, and the weights are Python floats.
    """
    n = x.shape[axis]
    index = [slice(None)] * x.ndim

    def part(start, stop):
        index[axis] = slice(start, stop)
        return x[tuple(index)]

    prev = ops.concatenate([part(0, 1), part(0, n - 1)], axis=axis) if n > 1 else x
    nxt = ops.concatenate([part(1, n), part(n - 1, n)], axis=axis) if n > 1 else x
    phases = []
    for r in range(factor):
        offset = (r + 0.5) / factor - 0.5
        neighbour = prev if offset < 0 else nxt
        phases.append(ops.add(ops.multiply(x, 1.0 - abs(offset)),
                              ops.multiply(neighbour, abs(offset))))
    y = ops.stack(phases, axis=axis + 1)  # (..., n, factor, ...) -> (..., n * factor, ...)
    shape = tuple(x.shape[:axis]) + (n * factor,) + tuple(x.shape[axis + 1:])
    return ops.reshape(y, shape)


class UpSampling2D(Layer):
    """Repeats rows and columns (``interpolation="nearest"``) or blends them ("bilinear").

    >>> UpSampling2D((2, 3))(Input((4, 4, 3))).shape
    (None, 8, 12, 3)
    """

    _INTERPOLATIONS = ("nearest", "bilinear")

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.size = standardize_tuple(size, 2, "size")
        self.interpolation = str(interpolation).lower()
        if self.interpolation not in self._INTERPOLATIONS:
            raise ValueError(f"`interpolation` must be one of {self._INTERPOLATIONS} in "
                             f"kerasish. Received: interpolation={interpolation!r}")
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs):
        x = inputs
        for axis, factor in zip((1, 2), self.size):
            if factor == 1:
                continue
            if self.interpolation == "nearest":
                x = ops.repeat(x, factor, axis=axis)
            else:
                x = _bilinear_axis(x, axis, factor)
        return x

    def compute_output_shape(self, input_shape):
        spatial = tuple(None if n is None else n * f
                        for n, f in zip(input_shape[1:3], self.size))
        return (input_shape[0],) + spatial + (input_shape[3],)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}


__all__ = ["ZeroPadding2D", "Cropping2D", "UpSampling2D"]
