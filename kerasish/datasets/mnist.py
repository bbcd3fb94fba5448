"""MNIST handwritten digits, read from the ``mnist.npz`` Keras downloads (never downloaded here)."""
from __future__ import annotations

from ._cache import ORIGIN_FOLDER, find_file, load_npz


def load_data(path="mnist.npz"):
    """Loads MNIST from the Keras cache (``$KERAS_HOME/datasets``, default ``~/.keras/datasets``).

    Args:
        path: the file's name in the cache folder.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape (60000, 28, 28) and
        (10000, 28, 28), uint8 labels 0-9 of shape (60000,) and (10000,).

    Raises:
        FileNotFoundError: the file is not in the cache; the message says where to put it.

    >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
    """
    arrays = load_npz(find_file(path, origin=f"{ORIGIN_FOLDER}mnist.npz"))
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])
