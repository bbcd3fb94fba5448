"""StringLookup: strings to integer indices (or back), through a vocabulary."""
from __future__ import annotations

import numpy as np

from .index_lookup import IndexLookup
from ._encode import as_strings


class StringLookup(IndexLookup):
    """Maps strings to integer indices through a vocabulary, given as a list or a file, or
    learned by ``adapt()`` (terms by count, ties by the term, high to low).

    The output of ``int`` mode is laid out as Keras's: the mask token's index 0 (when
    ``mask_token`` is set), then ``num_oov_indices`` OOV indices (terms not in the vocabulary
    are hashed into them with FarmHash Fingerprint64, or SipHash-2-4 with ``salt``), then the
    vocabulary. ``one_hot``, ``multi_hot``, ``count`` and ``tf_idf`` encode those indices
    (``sparse=True`` gives a ``SparseBatch``). ``invert=True`` maps indices back to strings.

    Args:
        max_tokens: the largest vocabulary size (special tokens included), or None.
        num_oov_indices: how many indices out-of-vocabulary terms share. Defaults to 1.
        mask_token: the string that stands for masked input (index 0), or None.
        oov_token: the term ``invert`` gives for OOV indices. Defaults to ``"[UNK]"``.
        vocabulary: a list or 1-D array of strings, or the path of a text file (one a line).
        idf_weights: the IDF weight of each term (``tf_idf`` with a given vocabulary).
        invert: map indices to strings instead.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        pad_to_max_tokens: pad encoded outputs to ``max_tokens`` columns.
        sparse: return a ``SparseBatch`` for the encoded modes.
        encoding: the text encoding of byte inputs. Defaults to ``"utf-8"``.
        oov_method, salt: how OOV terms are bucketed (``salt`` keys SipHash).

    >>> layer = StringLookup(vocabulary=["a", "b", "c", "d"])
    >>> layer(np.array([["a", "c", "d"], ["d", "z", "b"]])).numpy().tolist()
    [[1, 3, 4], [4, 0, 2]]
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", name=None, salt=None,
                 **kwargs):
        self.encoding = encoding
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name,
                         salt=salt, vocabulary_dtype="string", **kwargs)

    def _tokens(self, data):
        return as_strings(data, self.encoding, caller=type(self).__name__)

    def _inverted_output(self, values):
        # Strings are not engine Tensors: an object array of str (docs/sparse.md).
        return np.asarray(values, dtype=object)

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        config["encoding"] = self.encoding
        return config
