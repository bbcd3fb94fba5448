"""``keras.utils.legacy``: tf.keras 2's (de)serialization format, the same functions as
``keras.legacy.saving`` (one implementation, in ``kerasish/legacy/saving.py``)."""
from ..legacy.saving import deserialize_keras_object, serialize_keras_object

__all__ = ["serialize_keras_object", "deserialize_keras_object"]
