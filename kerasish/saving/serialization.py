"""Layer configs to and from Keras's JSON-able form."""
from __future__ import annotations

from ..layers.layer import Layer


def serialize_layer(layer):
    return {"module": "keras.layers", "class_name": type(layer).__name__,
            "config": layer.get_config(), "registered_name": None}


def _find_layer_class(name):
    """A Layer subclass by class name (kerasish.layers / models first, then any subclass)."""
    from .. import layers as layers_module
    from .. import models as models_module

    for module in (layers_module, models_module):
        cls = getattr(module, name, None)
        if isinstance(cls, type) and issubclass(cls, Layer):
            return cls
    stack = [Layer]
    while stack:
        cls = stack.pop()
        if cls.__name__ == name:
            return cls
        stack.extend(cls.__subclasses__())
    raise ValueError(f"Could not locate the layer class '{name}'. Received: class_name={name}")


def deserialize_layer(config_or_layer):
    """A layer from ``{"class_name": ..., "config": ...}`` (a Layer instance passes through)."""
    if isinstance(config_or_layer, Layer):
        return config_or_layer
    cls = _find_layer_class(config_or_layer["class_name"])
    return cls.from_config(dict(config_or_layer["config"]))
