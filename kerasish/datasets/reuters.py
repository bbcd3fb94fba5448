"""Reuters newswire topics, read from the ``reuters.npz`` Keras downloads (never downloaded)."""
from __future__ import annotations

import numpy as np

from ._cache import ORIGIN_FOLDER, find_file, load_npz
from ._sequences import limit_words, object_array, remove_long, shift, word_index

_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3):
    """Loads the Reuters newswires from the Keras cache (``$KERAS_HOME/datasets``, default
    ``~/.keras``): 11,228 newswires as lists of word indices, labeled over 46 topics.

    Args:
        path: the file's name in the cache folder.
        num_words: keep only the ``num_words`` most frequent words; others become ``oov_char``.
        skip_top: the most frequent words to turn into ``oov_char`` too.
        maxlen: drop sequences of ``maxlen`` words or more (counting ``start_char``).
        test_split: fraction of the (shuffled) newswires kept for test.
        seed: seed of the shuffle (``np.random.RandomState``).
        start_char: index put at the start of each sequence (None: none).
        oov_char: index of the words cut by ``num_words``/``skip_top`` (None: drop them).
        index_from: word indices start here (0, 1, 2 are padding, start, out-of-vocabulary).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: 1-D object arrays of lists of ints, and int
        label arrays (topics 0-45, named by :func:`get_label_names`).

    Raises:
        FileNotFoundError: the file is not in the cache; the message says where to put it.

    >>> (x_train, y_train), _ = load_data(num_words=10000)  # doctest: +SKIP
    """
    arrays = load_npz(find_file(path, origin=f"{ORIGIN_FOLDER}reuters.npz"))
    xs, labels = arrays["x"], arrays["y"]
    indices = np.arange(len(xs))
    np.random.RandomState(seed).shuffle(indices)
    xs, labels = xs[indices], labels[indices]

    xs = shift(xs, start_char, index_from)
    if maxlen:
        xs, labels = remove_long(maxlen, xs, labels)
    xs = limit_words(xs, num_words, skip_top, oov_char)

    idx = int(len(xs) * (1 - test_split))
    return ((object_array(xs[:idx]), np.array(labels[:idx])),
            (object_array(xs[idx:]), np.array(labels[idx:])))


def get_word_index(path="reuters_word_index.json"):
    """The ``{word: index}`` dict of Reuters (cached ``reuters_word_index.json``); add
    ``index_from`` to an index to find the word in ``load_data``'s sequences.

    >>> index = get_word_index()  # doctest: +SKIP
    """
    return word_index(path, "reuters_word_index.json")


def get_label_names():
    """The 46 topic names, indexed like ``load_data``'s labels.

    >>> get_label_names()[3]
    'earn'
    """
    return _LABEL_NAMES
