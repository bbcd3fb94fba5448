"""``keras.legacy``: tf.keras 2's serialization dialect (``keras.legacy.saving``)."""
from . import saving

__all__ = ["saving"]
