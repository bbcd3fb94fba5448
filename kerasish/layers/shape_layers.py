"""Layers that only change a tensor's shape: Flatten, Reshape, Permute, RepeatVector."""
from __future__ import annotations

import math
import numbers

from engine import ops

from .. import config
from .core import _input_dtype
from .input_spec import InputSpec
from .layer import Layer


def _standardize_data_format(data_format):
    if data_format is None:
        return config.image_data_format()
    value = str(data_format).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format}")
    return value


class Flatten(Layer):
    """Flattens every axis but the batch axis: ``(batch, ...) -> (batch, prod(...))``.

    >>> Flatten()(Input((10, 64))).shape
    (None, 640)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)

    def call(self, inputs):
        shape = tuple(inputs.shape)
        if self.data_format == "channels_first" and len(shape) > 2:
            # NOTE: channels go last first, so the flat order is the channels_last one.
            inputs = ops.transpose(inputs, (0, *range(2, len(shape)), 1))
        return ops.reshape(inputs, (shape[0], math.prod(shape[1:])))

    def compute_output_shape(self, input_shape):
        rest = tuple(input_shape[1:])
        flat = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], flat)

    _output_dtype = _input_dtype

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


def _reshape_target(layer, input_shape, target_shape):
    """``target_shape`` with its -1 resolved from ``input_shape`` (both without the batch)."""
    input_shape = tuple(input_shape)
    if any(d is None for d in input_shape):
        return tuple(None if d == -1 else d for d in target_shape)
    size = math.prod(input_shape)
    known = math.prod(d for d in target_shape if d != -1)
    if -1 not in target_shape:
        if size == known:
            return tuple(target_shape)
    elif known != 0 and size % known == 0:
        return tuple(size // known if d == -1 else d for d in target_shape)
    raise ValueError(f"Layer '{layer.name}' cannot reshape its input: the total size of the tensor "
                     f"must be unchanged. Received: input_shape={input_shape} (batch excluded), "
                     f"target_shape={tuple(target_shape)}")


class Reshape(Layer):
    """Reshapes every axis but the batch axis to ``target_shape`` (one entry may be -1).

    >>> Reshape((-1, 2, 2))(Input((12,))).shape
    (None, 3, 2, 2)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            target = tuple(target_shape)
        except TypeError:
            target = None
        if target is None or any(isinstance(d, bool) or not isinstance(d, numbers.Integral)
                                 or d < -1 for d in target):
            raise ValueError("The `target_shape` argument must be a tuple of non-negative "
                             f"integers and at most one -1. Received: target_shape={target_shape}")
        if target.count(-1) > 1:
            raise ValueError("The `target_shape` argument must not contain more than one `-1` "
                             f"value. Received: target_shape={target}")
        self.target_shape = tuple(int(d) for d in target)

    def call(self, inputs):
        shape = tuple(inputs.shape)
        target = _reshape_target(self, shape[1:], self.target_shape)
        return ops.reshape(inputs, (shape[0],) + target)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + _reshape_target(self, input_shape[1:], self.target_shape)

    _output_dtype = _input_dtype

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """Permutes the non-batch axes by ``dims`` (1-based: ``(2, 1)`` swaps axes 1 and 2).

    >>> Permute((2, 1))(Input((10, 64))).shape
    (None, 64, 10)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        try:
            dims = tuple(dims)
            valid = sorted(dims) == list(range(1, len(dims) + 1))
        except TypeError:
            valid = False
        if not valid:
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set of "
                             "indices in `dims` must be consecutive and start from 1. "
                             f"Received: dims={dims}")
        self.dims = tuple(int(d) for d in dims)
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def call(self, inputs):
        return ops.transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    _output_dtype = _input_dtype

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """Repeats a ``(batch, features)`` input ``n`` times: ``(batch, n, features)``.

    >>> RepeatVector(3)(Input((32,))).shape
    (None, 3, 32)
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 0:
            raise ValueError(f"Expected a non-negative integer value for `n`. Received: n={n!r}")
        self.n = int(n)
        self.input_spec = InputSpec(ndim=2)

    def call(self, inputs):
        return ops.repeat(ops.expand_dims(inputs, 1), self.n, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    _output_dtype = _input_dtype

    def get_config(self):
        return {**super().get_config(), "n": self.n}
