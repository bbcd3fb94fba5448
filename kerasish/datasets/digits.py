"""scikit-learn's bundled UCI digits (1,797 8x8 images), Keras-style: a kerasish extra that needs
no download, only scikit-learn (``pip install kerasish[demo]``)."""
from __future__ import annotations

import numpy as np

from ._cache import check_test_split, shuffle_split


def load_data(test_split=0.25, seed=0):
    """Loads the UCI handwritten digits that ship with scikit-learn.

    Args:
        test_split: fraction of the (shuffled) images kept for test, in [0, 1).
        seed: seed of the shuffle (``np.random.RandomState``, as the Keras loaders use).

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: float32 images of shape (n, 8, 8) holding the
        whole numbers 0-16, and int64 labels 0-9 of shape (n,); 1,347 train and 450 test images
        with the defaults.

    Raises:
        ImportError: scikit-learn is not installed.

    >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
    >>> x_train.shape, x_test.shape  # doctest: +SKIP
    ((1347, 8, 8), (450, 8, 8))
    """
    check_test_split(test_split)
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:
        raise ImportError("kerasish.datasets.digits needs scikit-learn: "
                          "pip install kerasish[demo]") from error
    digits = load_digits()
    x = np.asarray(digits.images, dtype="float32")
    y = np.asarray(digits.target, dtype="int64")
    return shuffle_split(x, y, test_split, seed)
