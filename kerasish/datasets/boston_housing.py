"""Boston housing prices, read from the ``boston_housing.npz`` Keras downloads (never downloaded).

The data has an ethical problem (its "B" attribute); Keras discourages using it except to
illustrate such issues. ``california_housing`` is the suggested replacement.
"""
from __future__ import annotations

from ._cache import ORIGIN_FOLDER, check_test_split, find_file, load_npz, shuffle_split


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Loads Boston housing from the Keras cache (``$KERAS_HOME/datasets``, default
    ``~/.keras``): 506 samples of 13 attributes, targets in k$.

    Args:
        path: the file's name in the cache folder.
        test_split: fraction of the (shuffled) samples kept for test, in [0, 1).
        seed: seed of the shuffle (``np.random.RandomState``).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x of shape (n, 13), y of shape (n,).

    Raises:
        FileNotFoundError: the file is not in the cache; the message says where to put it.

    >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
    """
    check_test_split(test_split)
    arrays = load_npz(find_file(path, origin=f"{ORIGIN_FOLDER}boston_housing.npz"))
    return shuffle_split(arrays["x"], arrays["y"], test_split, seed)
