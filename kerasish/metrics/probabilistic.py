"""Probabilistic and hinge metrics: running means of the matching loss functions."""
from __future__ import annotations

from ..losses import functions as F
from .regression import _LossMean


class BinaryCrossentropy(_LossMean):
    """The mean binary cross-entropy.

    >>> m = BinaryCrossentropy(from_logits=True)
    """

    _config_keys = ("from_logits", "label_smoothing")

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        super().__init__(F.binary_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing)


class CategoricalCrossentropy(_LossMean):
    """The mean categorical cross-entropy (one-hot labels).

    >>> m = CategoricalCrossentropy()
    """

    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        super().__init__(F.categorical_crossentropy, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(_LossMean):
    """The mean sparse categorical cross-entropy (integer labels).

    >>> m = SparseCategoricalCrossentropy(from_logits=True)
    """

    _config_keys = ("from_logits", "ignore_class", "axis")

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        super().__init__(F.sparse_categorical_crossentropy, name, dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)


class KLDivergence(_LossMean):
    """The mean Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred))``.

    >>> m = KLDivergence()
    """

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(F.kl_divergence, name, dtype)


class Poisson(_LossMean):
    """The mean Poisson loss ``y_pred - y_true * log(y_pred)``.

    >>> m = Poisson()
    """

    def __init__(self, name="poisson", dtype=None):
        super().__init__(F.poisson, name, dtype)


class Hinge(_LossMean):
    """The mean hinge loss.

    >>> m = Hinge()
    """

    def __init__(self, name="hinge", dtype=None):
        super().__init__(F.hinge, name, dtype)


class SquaredHinge(_LossMean):
    """The mean squared hinge loss.

    >>> m = SquaredHinge()
    """

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(F.squared_hinge, name, dtype)


class CategoricalHinge(_LossMean):
    """The mean categorical hinge loss.

    >>> m = CategoricalHinge()
    """

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(F.categorical_hinge, name, dtype)
