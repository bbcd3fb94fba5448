"""Spatial reshaping layers: ZeroPadding, Cropping and UpSampling in 1-D, 2-D and 3-D
(channels-last)."""
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


def _pairs(value, rank, name):
    """An int, ``rank`` ints (symmetric per axis) or ``rank`` (before, after) pairs, as
    ``rank`` (before, after) pairs."""
    if rank == 1:
        return (standardize_tuple(value, 2, name, allow_zero=True),)
    if rank == 2:
        return _two_pairs(value, name)
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}")
        return ((value, value),) * rank
    if not hasattr(value, "__len__") or len(value) != rank:
        raise ValueError(f"`{name}` should be an int, a tuple of {rank} ints or a tuple of "
                         f"{rank} tuples of 2 ints. Received: {name}={value}")
    return tuple(standardize_tuple(v, 2, f"entry {i} of {name}", allow_zero=True)
                 for i, v in enumerate(value))


class _ZeroPadding(Layer):
    """Zeros before and after each spatial axis."""

    rank = 2

    def __init__(self, padding, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.padding = _pairs(padding, self.rank, "padding")
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs):
        return ops.pad(inputs, ((0, 0),) + self.padding + ((0, 0),))

    def compute_output_shape(self, input_shape):
        spatial = tuple(None if n is None else n + a + b
                        for n, (a, b) in zip(input_shape[1:-1], self.padding))
        return (input_shape[0],) + spatial + (input_shape[-1],)

    def get_config(self):
        padding = self.padding[0] if self.rank == 1 else self.padding
        return {**super().get_config(), "padding": padding, "data_format": self.data_format}


class ZeroPadding1D(_ZeroPadding):
    """Adds zero steps before and after the steps of (batch, steps, channels).

    >>> ZeroPadding1D((1, 2))(Input((5, 3))).shape
    (None, 8, 3)
    """

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Adds rows and columns of zeros around (batch, height, width, channels).

    >>> ZeroPadding2D(((1, 2), (3, 4)))(Input((5, 5, 3))).shape
    (None, 8, 12, 3)
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Adds zeros around the three spatial axes of (batch, depth, height, width, channels).

    >>> ZeroPadding3D(1)(Input((4, 5, 6, 3))).shape
    (None, 6, 7, 8, 3)
    """

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class _Cropping(Layer):
    """Removes positions at both ends of each spatial axis."""

    rank = 2

    def __init__(self, cropping, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.cropping = _pairs(cropping, self.rank, "cropping")
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def _check(self, input_shape):
        if any(n is not None and a + b >= n
               for n, (a, b) in zip(input_shape[1:-1], self.cropping)):
            raise ValueError(
                "Values in `cropping` argument should be smaller than the corresponding "
                f"spatial dimension of the input (input_shape={tuple(input_shape)}). "
                f"Received: cropping={self.cropping}")

    def call(self, inputs):
        self._check(inputs.shape)
        index = tuple(slice(a, n - b) for n, (a, b) in zip(inputs.shape[1:-1], self.cropping))
        return inputs[(slice(None),) + index + (slice(None),)]

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        spatial = tuple(None if n is None else n - a - b
                        for n, (a, b) in zip(input_shape[1:-1], self.cropping))
        return (input_shape[0],) + spatial + (input_shape[-1],)

    def get_config(self):
        if self.rank == 1:  # NOTE: Keras's Cropping1D has no data_format
            return {**super().get_config(), "cropping": self.cropping[0]}
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": self.data_format}


class Cropping1D(_Cropping):
    """Removes steps at the start and end of (batch, steps, channels).

    >>> Cropping1D((1, 2))(Input((10, 3))).shape
    (None, 7, 3)
    """

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)


class Cropping2D(_Cropping):
    """Removes rows and columns at the borders of (batch, height, width, channels).

    >>> Cropping2D(((2, 2), (4, 4)))(Input((28, 28, 3))).shape
    (None, 24, 20, 3)
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Removes positions at the borders of (batch, depth, height, width, channels).

    >>> Cropping3D(((1, 1), (2, 2), (0, 1)))(Input((5, 6, 7, 3))).shape
    (None, 3, 2, 6, 3)
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


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


class UpSampling1D(Layer):
    """Repeats each step of (batch, steps, features) ``size`` times.

    >>> UpSampling1D(3)(Input((4, 2))).shape
    (None, 12, 2)
    """

    def __init__(self, size=2, **kwargs):
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"Expected an integer value for `size`, got {type(size)}.")
        if size <= 0:
            raise ValueError(f"Argument `size` should be a positive integer. Received: size={size}")
        super().__init__(**kwargs)
        self.size = size
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs):
        return ops.repeat(inputs, self.size, axis=1)

    def compute_output_shape(self, input_shape):
        steps = None if input_shape[1] is None else input_shape[1] * self.size
        return (input_shape[0], steps, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling3D(Layer):
    """Repeats the positions of each spatial axis of (batch, depth, height, width, channels).

    >>> UpSampling3D((2, 1, 3))(Input((2, 4, 4, 3))).shape
    (None, 4, 4, 12, 3)
    """

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.size = standardize_tuple(size, 3, "size")
        self.input_spec = InputSpec(ndim=5)

    def call(self, inputs):
        x = inputs
        for axis, factor in enumerate(self.size, start=1):
            if factor > 1:
                x = ops.repeat(x, factor, axis=axis)
        return x

    def compute_output_shape(self, input_shape):
        spatial = tuple(None if n is None else n * f
                        for n, f in zip(input_shape[1:4], self.size))
        return (input_shape[0],) + spatial + (input_shape[4],)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


__all__ = ["ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", "Cropping1D", "Cropping2D",
           "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D"]
