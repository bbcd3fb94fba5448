"""Layer configs to and from Keras's JSON-able form."""
from __future__ import annotations


def serialize_layer(layer):
    return {"module": "keras.layers", "class_name": type(layer).__name__,
            "config": layer.get_config(), "registered_name": None}
