"""Rescaling: ``inputs * scale + offset``, in the layer's compute dtype."""
from __future__ import annotations

import numpy as np

from engine import Tensor, backend, ops

from ... import config
from ..layer import Layer


class Rescaling(Layer):
    """Multiplies every value by ``scale`` and adds ``offset`` (e.g. ``scale=1 / 255`` maps
    ``[0, 255]`` pixels to ``[0, 1]``). Integer inputs give float outputs. ``scale`` and
    ``offset`` may be per-channel lists (on the channel axis of ``image_data_format``).

    Args:
        scale: float, or a list/array broadcast against the inputs.
        offset: float, or a list/array, added after scaling.

    >>> Rescaling(1 / 255)(np.array([[0, 255]], "uint8")).numpy()
    array([[0., 1.]], dtype=float32)
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True

    def _constant(self, value, xp):
        value = backend.to_numpy(value.data) if isinstance(value, Tensor) else value
        array = xp.asarray(np.asarray(value), dtype=self.compute_dtype)
        # NOTE: channels_first images put the channels 3 axes from the end (C, H, W).
        if array.ndim > 0 and config.image_data_format() == "channels_first":
            array = array.reshape(array.shape + (1,) * (3 - array.ndim))
        return array

    def call(self, inputs):
        x = ops.cast(inputs, self.compute_dtype)
        xp = backend.get_array_module(x.data)
        return ops.add(ops.multiply(x, self._constant(self.scale, xp)),
                       self._constant(self.offset, xp))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        from ...saving.serialization import serialize_keras_object  # late: imports layers

        config_ = super().get_config()
        config_.update({"scale": serialize_keras_object(self.scale),
                        "offset": serialize_keras_object(self.offset)})
        return config_

    @classmethod
    def from_config(cls, config_, custom_objects=None):
        from ...saving.serialization import deserialize_keras_object

        config_ = dict(config_)
        for key in ("scale", "offset"):
            if isinstance(config_.get(key), dict):
                config_[key] = deserialize_keras_object(config_[key],
                                                        custom_objects=custom_objects)
        return cls(**config_)
