"""Keras's ``keras.datasets`` loaders, reading the files Keras downloads from its cache
(``$KERAS_HOME/datasets``, default ``~/.keras/datasets``); kerasish never downloads. A missing
file raises a FileNotFoundError saying where to put it and where Keras fetches it from. Loading
never runs code from a file (see ``_cache.RestrictedUnpickler``).

``digits`` is a kerasish extra: scikit-learn's bundled UCI digits, no download.

>>> from kerasish import datasets
>>> (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data()  # doctest: +SKIP
"""
from . import (boston_housing, california_housing, cifar10, cifar100, digits, fashion_mnist,
               imdb, mnist, reuters)

__all__ = ["boston_housing", "california_housing", "cifar10", "cifar100", "digits",
           "fashion_mnist", "imdb", "mnist", "reuters"]
