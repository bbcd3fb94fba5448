"""The vocabulary rules of Keras's ``IndexLookup``, as plain functions: checking a given
vocabulary, ordering an adapted one, and laying out IDF weights next to the special tokens."""
from __future__ import annotations

import collections
import math

import numpy as np

from ... import config


_OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def _check_choice(value, allowed, caller, arg):
    if value not in allowed:
        raise ValueError(f"Unknown value for `{arg}` argument of layer {caller}. Allowed values "
                         f"are: {allowed}. Received: {arg}={value}")


def checked_arguments(caller, max_tokens, num_oov_indices, vocabulary_dtype, idf_weights, invert,
                      output_mode, sparse, pad_to_max_tokens, oov_method, salt):
    """Keras's argument checks of ``IndexLookup``; returns the canonical ``(output_mode,
    salt)`` (``"binary"`` is ``"multi_hot"``, a salt int is ``[salt, salt]``)."""
    if max_tokens is not None and max_tokens <= 1:
        raise ValueError("If set, `max_tokens` must be greater than 1. Received: "
                         f"max_tokens={max_tokens}")
    if pad_to_max_tokens and max_tokens is None:
        raise ValueError("If pad_to_max_tokens is True, must set `max_tokens`. Received: "
                         f"max_tokens={max_tokens}")
    if num_oov_indices < 0:
        raise ValueError("`num_oov_indices` must be greater than or equal to 0. Received: "
                         f"num_oov_indices={num_oov_indices}")
    _check_choice(oov_method, ("floormod", "farmhash"), caller, "oov_method")
    if salt is not None:
        if vocabulary_dtype == "int64" and oov_method != "farmhash":
            raise ValueError("`salt` can only be used when `oov_method='farmhash'`. "
                             f"Received: oov_method={oov_method}")
        if isinstance(salt, (tuple, list)) and len(salt) == 2:
            salt = list(salt)
        elif isinstance(salt, int):
            salt = [salt, salt]
        else:
            raise ValueError("The `salt` argument for `IndexLookup` can only be a tuple of "
                             f"2 integers, or a single integer. Received: salt={salt}.")
    output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
    _check_choice(output_mode, _OUTPUT_MODES, caller, "output_mode")
    if invert and output_mode != "int":
        raise ValueError("`output_mode` must be `'int'` when `invert` is true. Received: "
                         f"output_mode={output_mode}")
    if sparse and output_mode == "int":
        raise ValueError("`sparse` may only be true if `output_mode` is `'one_hot'`, "
                         f"`'multi_hot'`, `'count'` or `'tf_idf'`. Received: "
                         f"sparse={sparse} and output_mode={output_mode}")
    if idf_weights is not None and output_mode != "tf_idf":
        raise ValueError("`idf_weights` should only be set if `output_mode` is "
                         f"`'tf_idf'`. Received: idf_weights={idf_weights} and "
                         f"output_mode={output_mode}")
    return output_mode, salt


def _reserved_error(name, token, vocabulary, special):
    index = len(vocabulary) - 1 - vocabulary[::-1].index(token)
    return ValueError(
        f"Found reserved {name} token at unexpected location in `vocabulary`. Note that passed "
        "`vocabulary` does not need to include the OOV and mask tokens. Either remove all mask "
        "and OOV tokens, or include them only at the start of the vocabulary in precisely this "
        f"order: {special}. Received: {name.lower()}_token={token} at vocabulary index {index}")


def given_tokens(layer, vocabulary):
    """``(tokens, found_special)``: the terms of a given vocabulary without its leading special
    tokens (when it starts with them, in Keras's order), checked as Keras checks them."""
    if not vocabulary:
        raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
    token_start = layer._token_start_index()
    special = [layer.mask_token] * layer._oov_start_index() + \
        [layer.oov_token] * layer.num_oov_indices
    found_special = vocabulary[:token_start] == special
    tokens = vocabulary[token_start:] if found_special else vocabulary
    repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
    if repeated:
        raise ValueError("The passed vocabulary has at least one repeated term. Please "
                         f"uniquify your dataset. The repeated terms are: {repeated}")
    if layer.mask_token is not None and layer.mask_token in tokens:
        raise _reserved_error("mask", layer.mask_token, vocabulary, special)
    if layer.oov_token is not None and layer.invert and layer.oov_token in tokens:
        raise _reserved_error("OOV", layer.oov_token, vocabulary, special)
    if layer.max_tokens is not None and token_start + len(tokens) > layer.max_tokens:
        raise ValueError("Attempted to set a vocabulary larger than the maximum vocab size. "
                         f"Received vocabulary size is {token_start + len(tokens)}; "
                         f"`max_tokens` is {layer.max_tokens}.")
    return tokens, found_special


def given_idf_weights(layer, idf_weights, vocab_length, found_special):
    """Given IDF weights laid out as the outputs: the special slots first (their weight is the
    mean of the given ones, unless the vocabulary held them), zeros up to ``max_tokens`` when
    padding."""
    if len(idf_weights) != vocab_length:
        raise ValueError("`idf_weights` must be the same length as vocabulary. "
                         f"len(idf_weights) is {len(idf_weights)}; len(vocabulary) is "
                         f"{vocab_length}")
    if idf_weights.ndim != 1:
        raise ValueError("TF-IDF data must be a 1-index array. Received: "
                         f"type(idf_weights)={type(idf_weights)}")
    front = 0 if found_special else layer._token_start_index()
    front_value = 0 if found_special else np.average(idf_weights)
    back = layer.max_tokens - front - len(idf_weights) \
        if layer.pad_to_max_tokens and layer.max_tokens is not None else 0
    return np.pad(idf_weights, (front, back), "constant",
                  constant_values=(front_value, 0)).astype(config.floatx())


def adapted_tokens(layer, counts):
    """The learned terms: by count, ties by the term, both high to low (Keras's reversed
    ``np.lexsort``), without the special tokens, cut to ``max_tokens``."""
    counts = dict(counts)
    for special in (layer.mask_token, layer.oov_token):
        if special is not None:
            counts.pop(special, None)
    ordered = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
    if layer.max_tokens:
        ordered = ordered[:layer.max_tokens - layer._token_start_index()]
    return [t for t, _ in ordered]


def adapted_idf_weights(layer, tokens, document_counts, num_documents):
    """``log(1 + N / (1 + df))`` per term (float64, then the float dtype), the special slots
    first with the mean weight, zeros up to ``max_tokens`` when padding."""
    idf = np.array([math.log(1 + num_documents / (1 + document_counts[t])) for t in tokens],
                   np.float64).astype(config.floatx())
    idf = np.pad(idf, (layer._token_start_index(), 0), constant_values=np.mean(idf))
    if layer.pad_to_max_tokens and layer.max_tokens is not None:
        idf = np.pad(idf, (0, layer.max_tokens - idf.size), constant_values=0)
    return idf.astype(config.floatx())


def listify(x):
    """A config value: lists of Python scalars (Keras's ``listify_tensors``)."""
    from ._encode import host_array

    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return [v.item() if isinstance(v, np.generic) else v for v in x]
    return np.asarray(host_array(x)).tolist()
