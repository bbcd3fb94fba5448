"""The word-index processing IMDB and Reuters share (Keras's rules, kept to the letter so the
sequences match Keras's for the same arguments)."""
from __future__ import annotations

import json

import numpy as np

from ._cache import ORIGIN_FOLDER, find_file


def shift(seqs, start_char, index_from):
    """Offsets every word by ``index_from`` and prepends ``start_char`` when it is not None."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in seqs]
    return [[w + index_from for w in x] for x in seqs]


def remove_long(maxlen, seqs, labels):
    """Keeps the sequences strictly shorter than ``maxlen`` (Keras's ``remove_long_seq``)."""
    kept = [(x, y) for x, y in zip(seqs, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def limit_words(seqs, num_words, skip_top, oov_char):
    """Words outside ``[skip_top, num_words)`` become ``oov_char``, or are dropped if it is None.

    With ``num_words`` None, Keras takes the largest index seen, so that word itself is outside
    the range too; this is kept so the data matches Keras's.
    """
    if not num_words:
        num_words = max(max(x) for x in seqs)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in seqs]
    return [[w for w in x if skip_top <= w < num_words] for x in seqs]


def object_array(seqs) -> np.ndarray:
    """A 1-D object array of lists (``np.array(seqs, object)`` would go 2-D for equal lengths)."""
    out = np.empty(len(seqs), dtype=object)
    for i, x in enumerate(seqs):
        out[i] = x
    return out


def word_index(path, remote_name: str) -> dict:
    """The ``{word: index}`` dict of a cached word-index JSON file (plain JSON: no code runs)."""
    with open(find_file(path, origin=ORIGIN_FOLDER + remote_name), encoding="utf-8") as f:
        return json.load(f)
