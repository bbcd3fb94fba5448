"""IMDB movie-review sentiment, read from the ``imdb.npz`` Keras downloads (never downloaded)."""
from __future__ import annotations

import numpy as np

from ._cache import ORIGIN_FOLDER, find_file, load_npz
from ._sequences import limit_words, object_array, remove_long, shift, word_index


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113, start_char=1,
              oov_char=2, index_from=3):
    """Loads the IMDB reviews from the Keras cache (``$KERAS_HOME/datasets``, default
    ``~/.keras``): 25,000 train and 25,000 test reviews as lists of word indices (most frequent
    word first), labeled 1 (positive) or 0 (negative).

    Args:
        path: the file's name in the cache folder.
        num_words: keep only the ``num_words`` most frequent words; others become ``oov_char``.
        skip_top: the most frequent words to turn into ``oov_char`` too.
        maxlen: drop sequences of ``maxlen`` words or more (counting ``start_char``).
        seed: seed of the shuffle (``np.random.RandomState``).
        start_char: index put at the start of each sequence (None: none).
        oov_char: index of the words cut by ``num_words``/``skip_top`` (None: drop them).
        index_from: word indices start here (0, 1, 2 are padding, start, out-of-vocabulary).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: 1-D object arrays of lists of ints, and int
        label arrays.

    Raises:
        FileNotFoundError: the file is not in the cache; the message says where to put it.

    >>> (x_train, y_train), _ = load_data(num_words=10000)  # doctest: +SKIP
    """
    arrays = load_npz(find_file(path, origin=f"{ORIGIN_FOLDER}imdb.npz"))
    x_train, labels_train = arrays["x_train"], arrays["y_train"]
    x_test, labels_test = arrays["x_test"], arrays["y_test"]

    # One generator shuffles train then test, as in Keras, so the orders match Keras's.
    rng = np.random.RandomState(seed)
    indices = np.arange(len(x_train))
    rng.shuffle(indices)
    x_train, labels_train = x_train[indices], labels_train[indices]
    indices = np.arange(len(x_test))
    rng.shuffle(indices)
    x_test, labels_test = x_test[indices], labels_test[indices]

    x_train = shift(x_train, start_char, index_from)
    x_test = shift(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = remove_long(maxlen, x_train, labels_train)
        x_test, labels_test = remove_long(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, no "
                             "sequence was kept. Increase maxlen.")

    xs = limit_words(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    idx = len(x_train)
    return (object_array(xs[:idx]), labels[:idx]), (object_array(xs[idx:]), labels[idx:])


def get_word_index(path="imdb_word_index.json"):
    """The ``{word: index}`` dict of IMDB (cached ``imdb_word_index.json``); add
    ``index_from`` to an index to find the word in ``load_data``'s sequences.

    >>> index = get_word_index()  # doctest: +SKIP
    """
    return word_index(path, "imdb_word_index.json")
