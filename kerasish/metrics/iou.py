"""Intersection-over-union metrics (Keras 3's ``iou_metrics``): a running confusion matrix of
class ids, ``iou = tp / (tp + fp + fn)`` per class, averaged over the target classes.

As in Keras, the state is an ``int32`` matrix by default: float sample weights are truncated
(with a warning when they come as a float array); pass ``dtype="float32"`` to keep them.
"""
from __future__ import annotations

import warnings

import numpy as np

from engine import backend

from .. import config
from ..losses.loss import to_array
from .base import Metric, to_result


class _IoUBase(Metric):
    """The confusion matrix ``total_cm[true_class, predicted_class]`` and its update."""

    _direction = "up"

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype or "int32")
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable((num_classes, num_classes), "zeros",
                                          name="total_confusion_matrix")

    def _ids(self, y, sparse):
        y = to_array(y, self._device)
        if not sparse:
            y = y.argmax(axis=self.axis)
        return y.astype(self.dtype).reshape(-1)  # NOTE: float ids are truncated, as Keras casts

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = self._ids(y_true, self.sparse_y_true)
        y_pred = self._ids(y_pred, self.sparse_y_pred)
        xp = backend.get_array_module(y_true)
        if sample_weight is None:
            weights = xp.ones(y_true.shape, self.dtype)
        else:
            if getattr(sample_weight, "dtype", None) is not None and \
                    np.dtype(sample_weight.dtype).kind == "f" and np.dtype(self.dtype).kind in "iu":
                warnings.warn("You are passing weight as `float`, but dtype is `int`. This may "
                              "result in an incorrect weight due to type casting Consider using "
                              "integer weights.", stacklevel=2)
            weights = to_array(sample_weight, self._device).astype(self.dtype).reshape(-1)
            weights = xp.broadcast_to(weights, y_true.shape)
        n = self.num_classes
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid &= y_true != self.ignore_class
        cells = xp.where(valid, y_true * n + y_pred, 0).astype(np.int64)
        counts = xp.bincount(cells, weights=xp.where(valid, weights, 0).astype(np.float64),
                             minlength=n * n)
        self.total_cm.data += counts.reshape(n, n).astype(self.dtype)


class IoU(_IoUBase):
    """The mean IoU of the classes in ``target_class_ids``.

    Args:
        num_classes: the number of classes (the confusion matrix is ``num_classes`` square).
        target_class_ids: the class ids whose IoUs are averaged.
        ignore_class: a class id left out (e.g. a "void" class).
        sparse_y_true: whether labels are ids (else one-hot/probabilities, argmax on ``axis``).
        sparse_y_pred: whether predictions are ids (else scores, argmax on ``axis``).
        axis: the class axis of dense labels or predictions.

    >>> m = IoU(num_classes=2, target_class_ids=[0])
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> round(m.result(), 4)
    0.3333
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which "
                             f"is [0, {num_classes}).")
        self.target_class_ids = list(target_class_ids)

    def result(self):
        cm = self.total_cm.data
        xp = backend.get_array_module(cm)
        tp = xp.diagonal(cm).astype(np.float32)
        denominator = cm.sum(axis=0).astype(np.float32) + cm.sum(axis=1) - tp
        ids = xp.asarray(self.target_class_ids)
        tp, denominator = tp[ids], denominator[ids]
        valid = denominator > 1e-9
        eps = np.float32(config.epsilon())
        iou = xp.where(valid, tp / (denominator + eps), np.float32(0))
        return to_result(iou.sum(axis=self.axis) / (valid.sum(dtype=np.float32) + eps))

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of binary predictions: scores ``>= threshold`` are class 1, the rest class 0.

    Args:
        target_class_ids: ``[0]``, ``[1]`` or ``[0, 1]`` (their mean).
        threshold: the score from which a prediction is class 1.

    >>> m = BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
    >>> m.update_state([0, 1, 0, 1], [0.1, 0.2, 0.4, 0.7])
    >>> round(m.result(), 4)
    0.3333
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name,
                         dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = to_array(y_pred, self._device, "float32") >= self.threshold
        super().update_state(y_true, y_pred.astype(self.dtype), sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """The IoU averaged over every class.

    >>> m = MeanIoU(num_classes=2)
    >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
    >>> round(m.result(), 4)
    0.3333
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """``IoU`` with one-hot labels (and, by default, score predictions): argmax on ``axis``.

    >>> m = OneHotIoU(num_classes=3, target_class_ids=[0, 2])
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """``MeanIoU`` with one-hot labels (and, by default, score predictions).

    >>> m = OneHotMeanIoU(num_classes=3)
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}
