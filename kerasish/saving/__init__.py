"""Saving and loading: whole models (``.keras`` archives, legacy ``.h5``) and weights (Keras 3's
``.weights.h5`` layout, Keras's legacy HDF5 layout), chosen by the file name (``api.py``); the
custom-object registry (``object_registration.py``) and Keras 3's config dicts
(``serialization.py``)."""
from .api import load_model, load_weights, save_model, save_weights
from .file_editor import KerasFileEditor
from .object_registration import (CustomObjectScope, custom_object_scope, get_custom_objects,
                                  get_registered_name, get_registered_object,
                                  register_keras_serializable)

__all__ = ["CustomObjectScope", "KerasFileEditor", "custom_object_scope",
           "deserialize_keras_object", "get_custom_objects", "get_registered_name",
           "get_registered_object", "load_model", "load_weights", "register_keras_serializable",
           "save_model", "save_weights", "serialize_keras_object"]


def __getattr__(name):
    # NOTE: lazy, because serialization.py imports the layers, which import kerasish.saving.
    if name in ("serialize_keras_object", "deserialize_keras_object"):
        from . import serialization

        return getattr(serialization, name)
    raise AttributeError(f"module 'kerasish.saving' has no attribute {name!r}")
