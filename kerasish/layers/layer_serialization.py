"""``keras.layers.serialize`` / ``keras.layers.deserialize``: a layer to and from Keras 3's
config dict (``kerasish/saving/serialization.py``, imported late: saving imports layers)."""
from __future__ import annotations

from .layer import Layer


def serialize(layer):
    """A layer's Keras 3 config dict (``module``, ``class_name``, ``config``,
    ``registered_name``).

    >>> serialize(Dense(2))["class_name"]
    'Dense'
    """
    from ..saving.serialization import serialize_keras_object

    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """A layer from its config dict, with ``custom_objects``, the open custom-object scope and
    the registered objects.

    >>> deserialize({"class_name": "Dense", "config": {"units": 2}}).units
    2
    """
    from ..saving.serialization import deserialize_keras_object

    obj = deserialize_keras_object(config, custom_objects=custom_objects)
    if not isinstance(obj, Layer):
        raise ValueError("`keras.layers.deserialize` was passed a `config` object that is not a "
                         f"`keras.layers.Layer`. Received: {config}")
    return obj
