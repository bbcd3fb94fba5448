"""What the image preprocessing layers share: channels-last images of rank 3 or 4, a seeded
host generator for the augmentation parameters, and Keras's factor conventions."""
from __future__ import annotations

import numbers

import numpy as np

from engine import Tensor, backend, ops
from engine import random as engine_random

from ..convolutional import standardize_data_format
from ..layer import Layer


def as_images(layer, inputs, cast=True):
    """``inputs`` as a Tensor of rank 3 or 4 (float ones in the compute dtype)."""
    x = inputs if isinstance(inputs, Tensor) else Tensor(np.asarray(inputs))
    if x.ndim not in (3, 4):
        raise ValueError(f"Layer '{layer.name}' expects images of rank 3 (single image) or 4 "
                         f"(batch of images). Received: inputs.shape={tuple(x.shape)}")
    if cast or x.dtype.kind == "f":
        x = ops.cast(x, layer.compute_dtype)
    return x


def image_size(x):
    """``(height, width)`` of channels-last images of rank 3 or 4."""
    return tuple(x.shape[-3:-1])


class ImageLayer(Layer):
    """Base of the image layers: ``data_format`` (channels_last here), identity shapes, no
    weights, and Keras's ``data_format`` config key."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class RandomImageLayer(ImageLayer):
    """Base of the augmentation layers: active when ``training`` is True or not given (Keras's
    default for them), identity otherwise; parameters drawn per image from a generator seeded
    by ``seed`` (the engine's global one when ``seed=None``)."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(int(seed))

    def _uniform(self, low, high, size):
        """Host float32 draws in ``[low, high)`` (parameters are small: one per image)."""
        rng = self._rng if self._rng is not None else engine_random.generator("cpu")
        return (low + (high - low) * rng.random(size)).astype(np.float32)

    @staticmethod
    def _active(training):
        return training is None or bool(training)

    @staticmethod
    def _batch_size(x):
        return x.shape[0] if x.ndim == 4 else 1

    @staticmethod
    def _on_device(x, array):
        return backend.get_array_module(x.data).asarray(array)


def factor_pair(factor, bounds, error):
    """Keras's ``_set_factor``: a number ``f`` gives ``(max(-f, low), f)``, a pair is sorted."""
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > bounds[1] or factor[1] < bounds[0]:
            raise ValueError(error)
        return tuple(sorted(factor))
    if isinstance(factor, numbers.Real) and not isinstance(factor, bool):
        if factor < bounds[0] or factor > bounds[1]:
            raise ValueError(error)
        factor = abs(factor)
        return (max(-factor, bounds[0]), factor)
    raise ValueError(error)


def check_choice(value, allowed, what):
    if value not in allowed:
        raise NotImplementedError(f"Unknown `{what}` {value}. Expected of one {allowed}.")
