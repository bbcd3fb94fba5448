"""CIFAR-100 small images, read from the archive Keras downloads (never downloaded here)."""
from __future__ import annotations

import numpy as np

from ._cifar import load_batches

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"


def load_data(label_mode="fine"):
    """Loads CIFAR-100 from the Keras cache (``$KERAS_HOME/datasets``, default ``~/.keras``).

    Reads ``cifar-100-python_archive`` (the ``cifar-100-python.tar.gz`` Keras downloads) or its
    extracted ``cifar-100-python`` folder.

    Args:
        label_mode: ``"fine"`` (100 classes) or ``"coarse"`` (20 superclasses).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape (50000, 32, 32, 3) and
        (10000, 32, 32, 3), labels of shape (50000, 1) and (10000, 1) (int64, as Keras returns
        them: they are rebuilt from Python lists).

    Raises:
        FileNotFoundError: the data is not in the cache; the message says where to put it.

    >>> (x_train, y_train), (x_test, y_test) = load_data("coarse")  # doctest: +SKIP
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError('`label_mode` must be one of `"fine"`, `"coarse"`. '
                         f"Received: label_mode={label_mode}.")
    (x_train, y_train), (x_test, y_test) = load_batches(
        "cifar-100-python", "cifar-100-python.tar.gz", ORIGIN, ("train", "test"),
        label_mode + "_labels")
    y_train = np.reshape(np.asarray(y_train, "int64"), (-1, 1))
    y_test = np.reshape(np.asarray(y_test, "int64"), (-1, 1))
    return (x_train.transpose(0, 2, 3, 1), y_train), (x_test.transpose(0, 2, 3, 1), y_test)
