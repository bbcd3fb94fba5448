"""TextVectorization: strings to token indices or bag-of-words vectors (Keras's layer), on the
host: standardize, split, n-grams, then a ``StringLookup`` with mask token ``""``."""
from __future__ import annotations

import re

import numpy as np

from ... import config
from ...symbolic import KerasTensor
from ..layer import Layer
from ._adapt import adapt_data
from ._encode import as_strings, prepare_call_inputs, to_tensor
from ._vocabulary import listify
from .string_lookup import StringLookup

# Keras's default punctuation (``lower_and_strip_punctuation``), applied as TF's RE2 does.
DEFAULT_STRIP_REGEX = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'
_STRIP = re.compile(DEFAULT_STRIP_REGEX)
# tf.strings.lower changes ASCII letters only; tf.strings.split splits on ASCII whitespace.
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_WHITESPACE = re.compile(r"[ \t\n\v\f\r]+")


def _check_option(value, allowed, arg):
    if value is None or callable(value) or value in allowed:
        return
    raise ValueError(f"Unknown value for `{arg}` argument of layer TextVectorization. Allowed "
                     f"values are: {allowed}. Received: {arg}={value}")


class TextVectorization(Layer):
    """Turns strings into sequences of token indices (``int``) or into one vector per string
    (``multi_hot``, ``count``, ``tf_idf``), with a vocabulary given or learned by ``adapt()``.

    Each string is standardized (``"lower_and_strip_punctuation"`` by default: ASCII letters
    lowered, then Keras's punctuation regex removed), split (on whitespace, into characters,
    or by a callable), turned into n-grams (joined by a space) and looked up: index 0 is the
    padding ``""``, 1 the OOV ``"[UNK]"``. ``int`` outputs are padded with 0 to the longest
    string, or padded/cut to ``output_sequence_length``.

    Args:
        max_tokens: the largest vocabulary size (padding and OOV included), or None.
        standardize: None, ``"lower_and_strip_punctuation"``, ``"lower"``,
            ``"strip_punctuation"``, or a callable on a NumPy array of str.
        split: None, ``"whitespace"``, ``"character"``, or a callable taking the 1-D array of
            standardized strings and returning one sequence of tokens per string.
        ngrams: None, an int (all n-grams up to it) or a tuple of ints.
        output_mode: ``"int"``, ``"multi_hot"``, ``"count"`` or ``"tf_idf"``.
        output_sequence_length: the length of ``int`` outputs (padded or truncated).
        pad_to_max_tokens: pad vector outputs to ``max_tokens`` columns.
        vocabulary: a list of strings or a file path; idf_weights: for ``tf_idf``.
        sparse: vector outputs as a ``SparseBatch``; ragged: not supported (TF only).
        encoding: the encoding of byte inputs.

    >>> layer = TextVectorization(vocabulary=["the", "cat"], output_sequence_length=4)
    >>> layer(np.array(["The cat sat."])).numpy().tolist()
    [[2, 3, 1, 0]]
    """

    _accepts_strings = True
    # NOTE: computed on the host from the data: a compiled step cannot replay it (Keras too).
    supports_jit = False

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int",
                 output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None,
                 **kwargs):
        if ragged:
            raise ValueError("`ragged=True` can only be used with the TensorFlow backend.")
        _check_option(standardize, ("lower_and_strip_punctuation", "lower",
                                    "strip_punctuation"), "standardize")
        _check_option(split, ("whitespace", "character"), "split")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        modes = ("int", "one_hot", "multi_hot", "count", "tf_idf")
        if output_mode not in modes:
            raise ValueError("Unknown value for `output_mode` argument of layer "
                             f"TextVectorization. Allowed values are: {modes}. Received: "
                             f"output_mode={output_mode}")
        if not (ngrams is None or isinstance(ngrams, int) or
                (isinstance(ngrams, tuple) and all(isinstance(n, int) for n in ngrams))):
            raise ValueError("`ngrams` must be None, an integer, or a tuple of integers. "
                             f"Received: ngrams={ngrams}")
        if output_mode == "int" and not (output_sequence_length is None or
                                         isinstance(output_sequence_length, int)):
            raise ValueError("`output_sequence_length` must be either None or an integer when "
                             "`output_mode` is 'int'. Received: "
                             f"output_sequence_length={output_sequence_length}")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError("`output_sequence_length` must not be set if `output_mode` is not "
                             f"'int'. Received output_sequence_length={output_sequence_length}.")
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._ragged = ragged
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        has_input_vocabulary = kwargs.pop("has_input_vocabulary", vocabulary is not None)
        vocabulary_size = kwargs.pop("vocabulary_size", None)
        super().__init__(name=name, **kwargs)
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            sparse=sparse, has_input_vocabulary=has_input_vocabulary, encoding=encoding,
            vocabulary_size=vocabulary_size)
        self.built = True

    def __call__(self, *args, **kwargs):
        if args:
            args = (prepare_call_inputs(args[0]),) + args[1:]
        return super().__call__(*args, **kwargs)

    def build(self, input_shape=None):
        self.built = True

    # -- vocabulary ------------------------------------------------------------------------
    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary: ``""`` (padding) and ``"[UNK]"`` first when
        ``include_special_tokens``."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        """The size of the vocabulary, padding and OOV included."""
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Sets the vocabulary (a list or a file path) and, for ``tf_idf``, the IDF weights."""
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    def adapt(self, data, batch_size=None, steps=None):
        """Learns the vocabulary of ``data`` (an array or list of strings, or an iterable of
        batches): tokens by count, ties by the token, both high to low, cut to ``max_tokens``.
        """
        self.reset_state()
        if isinstance(data, (list, tuple)) or hasattr(data, "shape"):
            self.update_state(as_strings(data, self._encoding, "TextVectorization"))
        else:
            _, batches = adapt_data(data, self.name)
            for i, batch in enumerate(batches):
                if steps is not None and i >= steps:
                    break
                self.update_state(batch)
        self.finalize_state()

    def update_state(self, data):
        self._lookup_layer._update_rows(self._preprocess(data))

    def finalize_state(self):
        self._lookup_layer.finalize_state()

    def reset_state(self):
        self._lookup_layer.reset_state()

    # -- preprocessing ---------------------------------------------------------------------
    def _standardized(self, strings):
        if self._standardize in ("lower", "lower_and_strip_punctuation"):
            strings = np.array([s.translate(_ASCII_LOWER) for s in strings.reshape(-1)],
                               dtype=object).reshape(strings.shape)
        if self._standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
            strings = np.array([_STRIP.sub("", s) for s in strings.reshape(-1)],
                               dtype=object).reshape(strings.shape)
        if callable(self._standardize):
            strings = np.asarray(self._standardize(strings.astype(str)), dtype=object)
            strings = as_strings(strings, self._encoding, "TextVectorization")
        return strings

    def _preprocess(self, inputs):
        """The token rows of a batch: a list (one per string) of lists of tokens."""
        strings = as_strings(inputs, self._encoding, "TextVectorization")
        strings = self._standardized(strings)
        if self._split is None:
            rows = strings.reshape(1, -1) if strings.ndim <= 1 else \
                strings.reshape(-1, strings.shape[-1])
            rows = [list(r) for r in rows]
        else:
            if strings.ndim > 1:
                if strings.shape[-1] != 1:
                    raise ValueError(
                        "When using `TextVectorization` to tokenize strings, the input rank "
                        "must be 1 or the last shape dimension must be 1. Received: "
                        f"inputs.shape={strings.shape} with rank={strings.ndim}")
                strings = strings[..., 0]
            flat = strings.reshape(-1)
            if self._split == "whitespace":
                rows = [[t for t in _WHITESPACE.split(s) if t] for s in flat.tolist()]
            elif self._split == "character":
                rows = [list(s) for s in flat.tolist()]
            else:
                rows = [[str(t) for t in _host_tokens(r)] for r in self._split(flat)]
        if self._ngrams is not None:
            rows = [_ngrams(r, self._ngrams) for r in rows]
        return rows

    # -- call ------------------------------------------------------------------------------
    def call(self, inputs):
        array = as_strings(inputs, self._encoding, "TextVectorization")
        rows = self._preprocess(array)
        lookup = self._lookup_layer
        if self._output_mode != "int":
            # One padded matrix of indices; the padding (index 0 = "") is masked out below.
            width = max([len(r) for r in rows] + [1])
            tokens = np.full((len(rows), width), "", dtype=object)
            for i, r in enumerate(rows):
                tokens[i, :len(r)] = r
            return lookup._encode(lookup._lookup(tokens))
        if self._split is None:
            indices = lookup._lookup(array)
        else:
            length = self._output_sequence_length
            if length is None:
                length = max([len(r) for r in rows] + [0])
            indices = np.zeros((len(rows), length), np.int64)
            for i, r in enumerate(rows):
                r = r[:length]
                if r:
                    indices[i, :len(r)] = lookup._lookup(np.asarray(r, dtype=object))
            if array.ndim == 0:
                indices = indices[0]
        if self._split is None and self._output_sequence_length is not None:
            indices = _fit_last_axis(indices, self._output_sequence_length)
        return to_tensor(indices, np.int64)

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        if self._split is None:
            if len(input_shape) <= 1:
                input_shape = tuple(input_shape) + (1,)
        else:
            # NOTE: a (batch, 1) column is squeezed before splitting, as in call (Keras's
            # symbolic shape keeps the 1: (batch, 1, depth), while its eager output has none).
            input_shape = tuple(input_shape)
            if len(input_shape) > 1 and input_shape[-1] == 1:
                input_shape = input_shape[:-1]
            input_shape = input_shape + (None,)
        return self._lookup_layer.compute_output_shape(input_shape)

    def compute_output_spec(self, inputs, *args, **kwargs):
        dtype = "int64" if self._output_mode == "int" else config.floatx()
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=dtype,
                           sparse=self._lookup_layer.sparse)

    # -- config and saving -----------------------------------------------------------------
    def get_config(self):
        # NOTE: callables stay as they are; saving serializes them (Keras's get_config too).
        config_ = {
            "max_tokens": self._lookup_layer.max_tokens,
            "standardize": self._standardize,
            "split": self._split,
            "ngrams": self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": self._lookup_layer.pad_to_max_tokens,
            "sparse": self._lookup_layer.sparse,
            "ragged": self._ragged,
            "vocabulary": listify(self._lookup_layer.input_vocabulary),
            "idf_weights": listify(self._lookup_layer.input_idf_weights),
            "encoding": self._encoding,
            "vocabulary_size": self.vocabulary_size(),
        }
        base = super().get_config()
        base.pop("input_shape", None)
        return {**base, **config_}

    @classmethod
    def from_config(cls, config):
        from ...saving.serialization import deserialize_keras_object

        config = dict(config)
        for key in ("standardize", "split"):
            if config.get(key) is not None and not isinstance(config[key], str):
                config[key] = deserialize_keras_object(config[key])
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)

    def get_build_config(self):
        return {}

    def build_from_config(self, config):
        self.build(None)

    def save_own_variables(self, store):
        self._lookup_layer.save_own_variables(store)

    def load_own_variables(self, store):
        self._lookup_layer.load_own_variables(store)

    def save_assets(self, dir_path):
        self._lookup_layer.save_assets(dir_path)

    def load_assets(self, dir_path):
        self._lookup_layer.load_assets(dir_path)


def _host_tokens(row):
    from ._encode import host_array

    return host_array(row).reshape(-1).tolist() if not isinstance(row, (list, tuple)) \
        else list(row)


def _ngrams(tokens, widths):
    """``tf.strings.ngrams(tokens, widths, separator=" ")``: every n-gram of each width, the
    widths in order."""
    out = []
    for n in widths:
        out.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return out


def _fit_last_axis(indices, length):
    indices = indices[..., :length]
    pad = length - indices.shape[-1]
    if pad > 0:
        indices = np.pad(indices, [(0, 0)] * (indices.ndim - 1) + [(0, pad)])
    return indices
