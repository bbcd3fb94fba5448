"""``keras.preprocessing.sequence``: padding sequences to one length."""
from ..utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
