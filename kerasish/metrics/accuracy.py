"""Accuracy metrics: functions of per-sample matches (0/1) and their Mean classes.

The functions take engine Tensors or xp arrays and return a constant engine Tensor (no graph).
"""
from __future__ import annotations

import numpy as np

from engine import Tensor, backend
from engine.ops import indexing as index_ops

from .. import config
from ..losses.loss import squeeze_or_expand_to_same_rank, to_array
from .base import MeanMetricWrapper


def _wrap(array):
    return Tensor(array.astype(config.floatx(), copy=False))


def accuracy(y_true, y_pred):
    """How often ``y_pred`` equals ``y_true``, averaged over the last axis."""
    y_pred = to_array(y_pred)
    y_true = to_array(y_true, backend.device_of(y_pred), y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _wrap((y_true == y_pred).astype(config.floatx()).mean(axis=-1))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """How often ``y_pred > threshold`` equals the 0/1 label, averaged over the last axis."""
    y_pred = to_array(y_pred)
    y_true = to_array(y_true, backend.device_of(y_pred))
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = (y_pred > threshold).astype(y_true.dtype)
    return _wrap((y_true == y_pred).astype(config.floatx()).mean(axis=-1))


def categorical_accuracy(y_true, y_pred):
    """How often the arg max of ``y_pred`` is the arg max of the one-hot ``y_true``."""
    y_pred = to_array(y_pred)
    y_true = to_array(y_true, backend.device_of(y_pred))
    return _wrap(y_true.argmax(axis=-1) == y_pred.argmax(axis=-1))


def sparse_categorical_accuracy(y_true, y_pred):
    """How often the arg max of ``y_pred`` is the integer label ``y_true`` ((N,) or (N, 1))."""
    y_pred = to_array(y_pred)
    y_true = to_array(y_true, backend.device_of(y_pred))
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    matches = y_true == y_pred.argmax(axis=-1).astype(y_true.dtype)
    return _wrap(matches)


def _in_top_k(xp, targets, predictions, k):
    """Whether each target's score is among the k largest (ties at the boundary count)."""
    target_scores = xp.take_along_axis(predictions, targets[:, None], axis=-1)
    return (predictions > target_scores).sum(axis=-1) < k


class LabelOutOfRangeError(ValueError):
    """A class id outside ``[0, num_classes)``; the metric classes put their name in front."""

    def __init__(self, where, detail):
        super().__init__(f"{where}: {detail}")
        self.detail = detail


def _check_label_range(ids, num_classes, fn_name):
    """Raises on an id outside [0, num_classes); on a GPU returns the mask of bad ids instead,
    flagged on the device (``engine.ops.indexing.raise_index_errors`` reads it at the end of
    the epoch), so a step makes no host read; else None."""
    if ids.size and backend.get_array_module(ids) is not np:
        return index_ops.flag_invalid((ids < 0) | (ids >= num_classes))
    # NOTE: one cheap reduction; an id past the last class would otherwise index out of
    # bounds (or silently wrap, for a negative one).
    if ids.size and bool(((ids < 0) | (ids >= num_classes)).any()):
        bad = ids[(ids < 0) | (ids >= num_classes)]
        raise LabelOutOfRangeError(
            fn_name, f"label {int(bad[0])} is out of range for {num_classes} classes "
            f"(y_pred's last axis): labels must lie in [0, {num_classes}). Received: "
            f"y_true.min()={int(ids.min())}, y_true.max()={int(ids.max())}")
    return None


def _top_k_matches(y_true_ids, y_pred, k, fn_name):
    xp = backend.get_array_module(y_pred)
    shape = y_true_ids.shape
    ids = y_true_ids.reshape(-1).astype("int64")
    bad = _check_label_range(ids, y_pred.shape[-1], fn_name)
    scores = y_pred.reshape(-1, y_pred.shape[-1])
    if bad is None:
        return _wrap(_in_top_k(xp, ids, scores, k).reshape(shape))
    matches = _in_top_k(xp, xp.where(bad, 0, ids), scores, k) & ~bad  # a bad id never matches
    return _wrap(matches.reshape(shape))


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """How often the one-hot label's class is among the ``k`` highest scores."""
    y_pred = to_array(y_pred)
    y_true = to_array(y_true, backend.device_of(y_pred))
    return _top_k_matches(y_true.argmax(axis=-1), y_pred, k, "top_k_categorical_accuracy")


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """How often the integer label is among the ``k`` highest scores.

    With ``from_sorted_ids``, ``y_pred`` holds class ids sorted from the highest score down,
    and a label matches when it is one of the first ``k``.
    """
    y_pred = to_array(y_pred)
    y_true = to_array(y_true, backend.device_of(y_pred))
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    if from_sorted_ids:
        ids = y_pred.reshape(-1, y_pred.shape[-1])[:, :k]
        matches = (ids == y_true.reshape(-1, 1).astype(ids.dtype)).any(axis=-1)
        return _wrap(matches.reshape(y_true.shape))
    return _top_k_matches(y_true, y_pred, k, "sparse_top_k_categorical_accuracy")


class _NamesLabelErrors:
    """Names the metric in a label-range error (a bare IndexError in array indexing)."""

    def update_state(self, y_true, y_pred, sample_weight=None):
        try:
            return super().update_state(y_true, y_pred, sample_weight=sample_weight)
        except LabelOutOfRangeError as e:
            raise LabelOutOfRangeError(f"Metric '{self.name}' ({type(self).__name__})",
                                       e.detail) from None


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels.

    >>> m = Accuracy()
    >>> m([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    0.75
    """

    _direction = "up"

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often ``y_pred > threshold`` matches the binary label.

    >>> m = BinaryAccuracy()
    >>> m([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    0.75
    """

    _direction = "up"

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        if threshold is not None and (threshold <= 0 or threshold >= 1):
            raise ValueError("Invalid value for argument `threshold`. Expected a value in "
                             f"interval (0, 1). Received: threshold={threshold}")
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the top prediction is the one-hot label's class.

    >>> m = CategoricalAccuracy()
    >>> m([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    0.5
    """

    _direction = "up"

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the top prediction is the integer label.

    >>> m = SparseCategoricalAccuracy()
    >>> m([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    0.5
    """

    _direction = "up"

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(_NamesLabelErrors, MeanMetricWrapper):
    """How often the one-hot label's class is among the top ``k`` predictions.

    >>> m = TopKCategoricalAccuracy(k=1)
    >>> m([[0, 0, 1], [0, 1, 0]], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    0.5
    """

    _direction = "up"

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(_NamesLabelErrors, MeanMetricWrapper):
    """How often the integer label is among the top ``k`` predictions.

    >>> m = SparseTopKCategoricalAccuracy(k=1)
    >>> m([2, 1], [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    0.5
    """

    _direction = "up"

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:  # as Keras: written only when set
            config["from_sorted_ids"] = True
        return config
