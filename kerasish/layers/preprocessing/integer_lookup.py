"""IntegerLookup: integers to contiguous indices (or back), through a vocabulary."""
from __future__ import annotations

import numpy as np

from .index_lookup import IndexLookup
from ._encode import as_int64, to_tensor


class IntegerLookup(IndexLookup):
    """Maps integers (ids, zip codes, ...) to contiguous indices through a vocabulary, given
    as a list or a file, or learned by ``adapt()`` (by count, ties by value, high to low).

    Index layout as ``StringLookup``'s: mask index 0 (when ``mask_token`` is set), then
    ``num_oov_indices`` OOV indices (an OOV value goes to ``value % num_oov_indices`` with
    ``oov_method="floormod"``, or to its FarmHash/SipHash bucket with ``"farmhash"``), then the
    vocabulary. ``invert=True`` maps indices back to the values.

    Args:
        max_tokens: the largest vocabulary size (special tokens included), or None.
        num_oov_indices: how many indices out-of-vocabulary values share. Defaults to 1.
        mask_token: the value that stands for masked input (index 0), or None.
        oov_token: the value ``invert`` gives for OOV indices. Defaults to -1.
        vocabulary: a list or 1-D array of integers, or the path of a text file.
        vocabulary_dtype: only ``"int64"``.
        idf_weights, invert, output_mode, sparse, pad_to_max_tokens: as ``StringLookup``'s.
        oov_method: ``"floormod"`` (default) or ``"farmhash"``; salt: SipHash's key.

    >>> layer = IntegerLookup(vocabulary=[12, 36, 1138, 42])
    >>> layer(np.array([[12, 1138, 42], [42, 1000, 36]])).numpy().tolist()
    [[1, 3, 4], [4, 0, 2]]
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", salt=None, name=None, **kwargs):
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError("If `max_tokens` is set for `IntegerLookup`, it must be greater "
                             f"than 1. Received: max_tokens={max_tokens}")
        if num_oov_indices < 0:
            raise ValueError("The value of `num_oov_indices` argument for `IntegerLookup` "
                             f"must >= 0. Received: num_oov_indices={num_oov_indices}")
        if vocabulary_dtype != "int64":
            raise ValueError("Only `vocabulary_dtype='int64'` is supported at this time. "
                             f"Received: vocabulary_dtype={vocabulary_dtype}")
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         vocabulary_dtype=vocabulary_dtype, idf_weights=idf_weights,
                         invert=invert, output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, oov_method=oov_method,
                         salt=salt, name=name, **kwargs)

    def _tokens(self, data):
        return as_int64(data, caller=type(self).__name__)

    def _inverted_output(self, values):
        return to_tensor(np.asarray(values.tolist(), np.int64).reshape(values.shape), np.int64)

    def get_config(self):
        config = super().get_config()
        for key in ("oov_token", "mask_token"):
            if config[key] is not None:
                config[key] = int(config[key])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
