"""IndexLookup: the vocabulary machinery shared by StringLookup, IntegerLookup and
TextVectorization (Keras's ``IndexLookup``), on the host with NumPy.

Index layout (Keras's): ``[mask]`` (index 0, only when ``mask_token`` is set and the output is
``int``), then ``num_oov_indices`` OOV slots, then the vocabulary. ``adapt`` orders the learned
vocabulary by count, ties by the token, both from high to low (``np.lexsort`` reversed).
"""
from __future__ import annotations

import collections
import os

import numpy as np

from ... import config
from ...symbolic import KerasTensor
from ..layer import Layer
from . import _hash, _vocabulary
from ._adapt import adapt_data
from ._encode import encode, encoded_shape, prepare_call_inputs, to_tensor


class IndexLookup(Layer):
    """Maps tokens to indices (or back, with ``invert``) through a vocabulary given or learned
    by ``adapt()``; the base of ``StringLookup`` and ``IntegerLookup``.

    Subclasses give ``vocabulary_dtype`` (``"string"`` or ``"int64"``) and the token codec
    (``_tokens``).
    """

    _accepts_strings = True
    # NOTE: computed on the host from the data: a compiled step cannot replay it (Keras too).
    supports_jit = False

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype,
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 sparse=False, pad_to_max_tokens=False, oov_method="floormod", name=None,
                 salt=None, **kwargs):
        output_mode, salt = _vocabulary.checked_arguments(
            type(self).__name__, max_tokens, num_oov_indices, vocabulary_dtype, idf_weights,
            invert, output_mode, sparse, pad_to_max_tokens, oov_method, salt)
        frozen_vocab_size = kwargs.pop("vocabulary_size", None)
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        kwargs.pop("trainable", None)
        kwargs.pop("dtype", None)
        if kwargs:
            raise ValueError(f"Unrecognized keyword argument(s): {kwargs}")
        super().__init__(name=name)
        self.invert = invert
        self.max_tokens = max_tokens
        self.num_oov_indices = num_oov_indices
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = pad_to_max_tokens
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method = oov_method
        self.salt = salt
        self._frozen_vocab_size = frozen_vocab_size
        self.input_vocabulary = vocabulary if not isinstance(vocabulary, (str, os.PathLike)) \
            else None
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = has_input_vocabulary
        self._tokens_list = None  # the vocabulary without the special tokens
        self._index = {}
        self.idf_weights = None
        self._reset_counts()
        if output_mode == "tf_idf" and self._has_input_vocabulary and idf_weights is None:
            raise ValueError("When specifying the `vocabulary` argument, in TF-IDF output mode, "
                             "the `idf_weights` argument must also be provided.")
        if idf_weights is not None:
            self.idf_weights = np.asarray(idf_weights, config.floatx())
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.built = True

    # -- tokens ----------------------------------------------------------------------------
    def _tokens(self, data):
        """``data`` as a NumPy array of this layer's tokens (str or int64)."""
        raise NotImplementedError

    def _token_list(self, values):
        return [str(v) for v in values] if self.vocabulary_dtype == "string" else \
            [int(v) for v in values]

    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    # -- vocabulary ------------------------------------------------------------------------
    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary, index by index.

        Args:
            include_special_tokens: If True, the mask and OOV tokens come first, so that a
                term's position is its index in the layer's output.
        """
        tokens = list(self._tokens_list or [])
        vocab = [self.oov_token] * self._token_start_index() + tokens
        if self.mask_token is not None and self.output_mode == "int":
            vocab[0] = self.mask_token
        if not include_special_tokens:
            vocab = vocab[self._token_start_index():]
        return vocab

    def vocabulary_size(self):
        """The size of the vocabulary, mask and OOV indices included."""
        return len(self._tokens_list or []) + self._token_start_index()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (and, for ``tf_idf``, the IDF weights) directly.

        Args:
            vocabulary: a list, tuple, 1-D array of terms, or the path of a text file with
                one term per line.
            idf_weights: the inverse document frequencies, one per term (``tf_idf`` only).
        """
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError("`idf_weights` should only be set if output_mode is `'tf_idf'`. "
                             f"Received: output_mode={self.output_mode} and "
                             f"idf_weights={idf_weights}")
        if isinstance(vocabulary, (str, os.PathLike)):
            self._set_vocabulary_file(os.fspath(vocabulary))
            return
        if not isinstance(vocabulary, (list, tuple)):
            vocabulary = np.asarray(_host(vocabulary)).reshape(-1).tolist()
        vocabulary = self._token_list(vocabulary)
        tokens, found_special = _vocabulary.given_tokens(self, vocabulary)
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf" and idf_weights is not None:
            self.idf_weights = _vocabulary.given_idf_weights(
                self, np.asarray(_host(idf_weights)), len(vocabulary), found_special)

    def _set_vocabulary_file(self, path):
        if not os.path.exists(path):
            raise ValueError(f"Vocabulary file {path} does not exist.")
        if self.output_mode == "tf_idf":
            raise ValueError("output_mode `'tf_idf'` does not support loading a vocabulary from "
                             "file.")
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        # NOTE: each line is a term at index line + token_start (TF's TextFileInitializer).
        self._set_tokens(self._token_list(lines))

    def _set_tokens(self, tokens):
        self._tokens_list = list(tokens)
        start = self._token_start_index()
        self._index = {t: i + start for i, t in enumerate(self._tokens_list)}
        if self.vocabulary_dtype == "int64":
            # Sorted keys for a vectorized lookup (100,000 zip codes per batch, say).
            keys = np.asarray(self._tokens_list, np.int64)
            order = np.argsort(keys, kind="stable")
            self._sorted_keys = keys[order]
            self._sorted_values = (order + start).astype(np.int64)
        self._record_vocabulary_size()

    def _record_vocabulary_size(self):
        if self.output_mode != "int" and not self.pad_to_max_tokens and \
                self._frozen_vocab_size is not None and \
                self.vocabulary_size() != self._frozen_vocab_size:
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                "the vocabulary size cannot be changed after the layer is called. Old vocab "
                f"size is {self._frozen_vocab_size}, new vocab size is "
                f"{self.vocabulary_size()}")
        self._frozen_vocab_size = self.vocabulary_size()

    # -- adapt -----------------------------------------------------------------------------
    def _reset_counts(self):
        self._token_counts = collections.Counter()
        self._document_counts = collections.Counter()
        self._num_documents = 0

    def reset_state(self):
        if not self._has_input_vocabulary:
            self._reset_counts()

    def adapt(self, data, steps=None):
        """Learns the vocabulary (and, for ``tf_idf``, the document frequencies) of ``data``:
        terms sorted by count, ties by the term, both high to low, cut to ``max_tokens``.

        Args:
            data: an array or list (one batch: a 1-D one is a column of one-term documents),
                or an iterable of batches (a generator, a ``PyDataset``).
            steps: the number of batches to read from an iterable.
        """
        self.reset_state()
        if isinstance(data, (list, tuple)) or hasattr(data, "shape"):
            batch = self._tokens(data)
            self.update_state(batch[:, None] if batch.ndim == 1 else batch)
        else:
            _, batches = adapt_data(data, self.name)
            for i, batch in enumerate(batches):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        self.finalize_state()

    def update_state(self, data):
        """Adds the counts of one batch (rows are documents)."""
        rows = self._tokens(data)
        rows = rows.reshape(1, -1) if rows.ndim <= 1 else rows
        self._update_rows([r.reshape(-1).tolist() for r in rows])

    def _update_rows(self, rows):
        """Counts the tokens of ``rows``, lists of tokens (documents, for ``tf_idf``)."""
        if self._has_input_vocabulary:
            raise ValueError(f"Cannot adapt layer '{self.name}' after setting a static "
                             "vocabulary via `vocabulary` argument or `set_vocabulary()` "
                             "method.")
        for row in rows:
            self._token_counts.update(row)
        if self.output_mode == "tf_idf":
            for row in rows:
                self._document_counts.update(set(row))
            self._num_documents += len(rows)

    def finalize_state(self):
        if self._has_input_vocabulary or not self._token_counts:
            if self._tokens_list is not None:
                self._record_vocabulary_size()
            return
        tokens = _vocabulary.adapted_tokens(self, self._token_counts)
        self._set_tokens(tokens)
        if self.output_mode == "tf_idf":
            self.idf_weights = _vocabulary.adapted_idf_weights(
                self, tokens, self._document_counts, self._num_documents)
        self._reset_counts()

    # -- call ------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if args:
            args = (prepare_call_inputs(args[0]),) + args[1:]
        return super().__call__(*args, **kwargs)

    def build(self, input_shape=None):
        self.built = True

    def _lookup(self, tokens):
        """int64 indices of a token array (mask, OOV and vocabulary, Keras's layout)."""
        flat = tokens.reshape(-1)
        default = self._oov_start_index() if self.num_oov_indices == 1 else -1
        if self.vocabulary_dtype == "int64":
            found = np.zeros(flat.shape, bool)
            out = np.full(flat.shape, default, np.int64)
            if self._tokens_list:
                pos = np.minimum(np.searchsorted(self._sorted_keys, flat),
                                 self._sorted_keys.size - 1)
                found = self._sorted_keys[pos] == flat
                out[found] = self._sorted_values[pos[found]]
            oov = np.flatnonzero(~found).tolist()
        else:
            out = np.empty(flat.shape, np.int64)
            oov = []
            for i, token in enumerate(flat.tolist()):
                index = self._index.get(token)
                if index is None:
                    index = default
                    oov.append(i)
                out[i] = index
        if self.mask_token is not None:
            mask_value = 0 if self.output_mode == "int" else np.iinfo(np.int64).max
            out[flat == self.mask_token] = mask_value
            oov = [i for i in oov if flat[i] != self.mask_token]
        if oov and self.num_oov_indices == 0:
            raise ValueError("When `num_oov_indices=0` all inputs should be in vocabulary, "
                             f"found OOV values {flat[oov].tolist()}, consider setting "
                             "`num_oov_indices=1`.")
        if oov and self.num_oov_indices > 1:
            values = flat[oov]
            if self.vocabulary_dtype == "int64" and self.oov_method != "farmhash":
                buckets = np.mod(values.astype(np.int64), self.num_oov_indices)
            else:
                buckets = _hash.hash_buckets(values, self.num_oov_indices, salt=self.salt)
            out[oov] = buckets + self._oov_start_index()
        return out.reshape(tokens.shape)

    def _invert(self, indices):
        vocab = self.get_vocabulary()
        flat = indices.reshape(-1)
        out = np.empty(flat.shape, object)
        start = self._token_start_index()
        for i, index in enumerate(flat.tolist()):
            if self.mask_token is not None and index == 0:
                out[i] = self.mask_token
            else:
                out[i] = vocab[index] if start <= index < len(vocab) else self.oov_token
        return out.reshape(indices.shape)

    def _depth(self):
        return self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size

    def call(self, inputs):
        if self.output_mode != "int" and not self.pad_to_max_tokens and \
                self._frozen_vocab_size is None:
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                "you must set the layer's vocabulary before calling it. Either pass a "
                "`vocabulary` argument to the layer, or call `adapt` with some sample data.")
        if self.invert:
            indices = _host_int(inputs)
            values = self._invert(indices)
            return self._inverted_output(values)
        lookups = self._lookup(self._tokens(inputs))
        return self._encode(lookups)

    def _inverted_output(self, values):
        return values

    def _encode(self, lookups):
        if self.output_mode == "int":
            return to_tensor(lookups, np.int64)
        if self.output_mode == "tf_idf" and self.idf_weights is None:
            raise ValueError("When `output_mode` is `'tf_idf'`, `idf_weights` must be "
                             "provided.")
        return encode(lookups, self.output_mode, self._depth(), sparse=self.sparse,
                      idf_weights=self.idf_weights, dtype=config.floatx())

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        return encoded_shape(input_shape, self.output_mode, self._depth())

    def compute_output_spec(self, inputs, *args, **kwargs):
        shape = self.compute_output_shape(inputs.shape)
        if self.output_mode == "int":
            dtype = self.vocabulary_dtype if self.invert else "int64"
        else:
            dtype = config.floatx()
        return KerasTensor(shape, dtype=dtype, sparse=self.sparse)

    # -- config and saving -----------------------------------------------------------------
    def get_config(self):
        config_ = {
            "invert": self.invert, "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
            "mask_token": self.mask_token, "output_mode": self.output_mode,
            "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self.vocabulary_dtype,
            "idf_weights": _vocabulary.listify(self.input_idf_weights),
            "vocabulary": _vocabulary.listify(self.input_vocabulary),
            "vocabulary_size": self._frozen_vocab_size,
            "oov_method": self.oov_method, "salt": self.salt,
        }
        base = super().get_config()
        base.pop("input_shape", None)
        return {**base, **config_}

    def get_build_config(self):
        return {}

    def build_from_config(self, config):
        self.build(None)

    def save_own_variables(self, store):
        """Keras's layout: ``vars/idf_weights`` for ``tf_idf`` (nothing otherwise)."""
        if self.output_mode == "tf_idf" and self.idf_weights is not None:
            store["idf_weights"] = np.asarray(self.idf_weights)

    def load_own_variables(self, store):
        if self.output_mode == "tf_idf" and "idf_weights" in store:
            self.idf_weights = np.asarray(store["idf_weights"], config.floatx())

    def save_assets(self, dir_path):
        """Writes the adapted vocabulary (special tokens included) to ``vocabulary.txt``."""
        if self.input_vocabulary is not None:
            return
        with open(os.path.join(dir_path, "vocabulary.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(str(w) for w in self.get_vocabulary(include_special_tokens=True)))

    def load_assets(self, dir_path):
        if self.input_vocabulary is not None:
            return
        path = os.path.join(dir_path, "vocabulary.txt")
        if not os.path.exists(path):
            return
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        if not lines:
            return
        values = self._token_list(lines)
        idf = self.idf_weights if self.output_mode == "tf_idf" else None
        self.set_vocabulary(values, idf_weights=idf)


def _host(x):
    from ._encode import host_array

    return host_array(x)


def _host_int(x):
    from ._encode import as_int64

    return as_int64(x, caller="invert lookup")
