"""CIFAR-10 small images, read from the archive Keras downloads (never downloaded here)."""
from __future__ import annotations

import numpy as np

from ._cifar import load_batches

ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_MEMBERS = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5",
            "test_batch")


def load_data():
    """Loads CIFAR-10 from the Keras cache (``$KERAS_HOME/datasets``, default ``~/.keras``).

    Reads ``cifar-10-batches-py_archive`` (the ``cifar-10-python.tar.gz`` Keras downloads) or
    its extracted ``cifar-10-batches-py`` folder. Labels: 0 airplane, 1 automobile, 2 bird,
    3 cat, 4 deer, 5 dog, 6 frog, 7 horse, 8 ship, 9 truck.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape (50000, 32, 32, 3) and
        (10000, 32, 32, 3), uint8 labels of shape (50000, 1) and (10000, 1).

    Raises:
        FileNotFoundError: the data is not in the cache; the message says where to put it.

    >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
    """
    batches = load_batches("cifar-10-batches-py", "cifar-10-python.tar.gz", ORIGIN, _MEMBERS,
                           "labels")
    train, (x_test, y_test) = batches[:-1], batches[-1]
    x_train = np.concatenate([x for x, _ in train]).astype("uint8", copy=False)
    y_train = np.concatenate([np.asarray(y, "uint8") for _, y in train]).reshape(-1, 1)
    x_test = np.asarray(x_test).astype("uint8", copy=False)
    y_test = np.asarray(y_test).reshape(-1, 1).astype("uint8")
    # channels_last, as a transposed view, like Keras.
    return (x_train.transpose(0, 2, 3, 1), y_train), (x_test.transpose(0, 2, 3, 1), y_test)
