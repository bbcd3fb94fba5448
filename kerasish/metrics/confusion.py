"""Confusion-matrix metrics: TruePositives & co., Precision, Recall and AUC (Keras 3's).

Every one counts, per threshold ``t``, the (weighted) samples with ``y_pred > t`` against the
boolean label, in float32 state variables of shape ``(num_thresholds,)``.
"""
from __future__ import annotations

import numpy as np

from engine import backend

from .. import config
from ..losses.loss import squeeze_or_expand_to_same_rank, to_array
from .base import Metric, divide_no_nan, to_result

NEG_INF = -1e10
_CONDITIONS = ("tp", "fp", "tn", "fn")


def parse_thresholds(thresholds, default):
    if thresholds is None:
        return [default]
    values = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) else \
        [thresholds]
    invalid = [t for t in values if t is None or t < 0 or t > 1]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return values


def is_evenly_distributed(thresholds):
    """Whether the thresholds are ``i / (n - 1)``, the case where Keras clips predictions."""
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=config.epsilon()))


def _filter_top_k(xp, x, k):
    """Keeps the k largest values on the last axis (first index wins ties), others NEG_INF."""
    ranks = xp.argsort(xp.argsort(-x, axis=-1, kind="stable"), axis=-1, kind="stable")
    keep = ranks < k
    return xp.where(keep, x, x.dtype.type(NEG_INF))


def update_confusion_matrix(variables, y_true, y_pred, thresholds, top_k=None, class_id=None,
                            sample_weight=None, multi_label=False, label_weights=None,
                            evenly_distributed=False):
    """Adds this batch's weighted tp/fp/tn/fn per threshold to ``variables`` (keys "tp", ...).

    Positives are ``y_pred > threshold``. With ``multi_label`` the last axis keeps its labels
    (state of shape ``(num_thresholds, num_labels)``); otherwise everything is flattened.
    """
    any_var = next(iter(variables.values()))
    device, dtype = any_var.device, any_var.dtype
    y_true = to_array(y_true, device, dtype)
    y_pred = to_array(y_pred, device, dtype)
    xp = backend.get_array_module(y_pred)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = to_array(sample_weight, device, dtype)[..., None]
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight,
                                                          expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(xp, y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError("When class_id is provided, y_pred must be a 2D array with shape "
                             f"(num_samples, num_classes), found shape: {y_pred.shape}")
        y_true, y_pred = y_true[..., class_id, None], y_pred[..., class_id, None]
    if evenly_distributed:
        # NOTE: Keras's bucketed update for evenly spaced thresholds clips predictions first.
        y_pred = xp.clip(y_pred, 0, 1)
    weights = xp.ones(y_pred.shape, dtype) if sample_weight is None else \
        xp.broadcast_to(sample_weight, y_pred.shape)
    if label_weights is not None and not multi_label:
        weights = weights * xp.broadcast_to(to_array(label_weights, device, dtype), y_pred.shape)
    keep = (-1, y_pred.shape[-1]) if multi_label else (-1,)
    y_pred, weights = y_pred.reshape(keep), weights.reshape(keep)
    is_pos = y_true.reshape(keep).astype(bool)
    thr = xp.asarray(np.asarray(thresholds, dtype=dtype)).reshape((-1,) + (1,) * y_pred.ndim)
    pred_pos = y_pred[None] > thr  # (thresholds, samples[, labels])
    pos_w, neg_w = weights * is_pos, weights * ~is_pos
    counts = {"tp": (pred_pos, pos_w), "fp": (pred_pos, neg_w),
              "fn": (~pred_pos, pos_w), "tn": (~pred_pos, neg_w)}
    for key, variable in variables.items():
        mask, w = counts[key]
        variable.data += (mask * w).sum(axis=1).astype(dtype, copy=False)


class _ConfusionCount(Metric):
    """The weighted count of one confusion-matrix condition, per threshold (default 0.5)."""

    _condition = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = parse_thresholds(thresholds, 0.5)
        self._evenly = is_evenly_distributed(self.thresholds)
        self.accumulator = self.add_variable((len(self.thresholds),), "zeros",
                                             name="accumulator")

    def update_state(self, y_true, y_pred, sample_weight=None):
        update_confusion_matrix({self._condition: self.accumulator}, y_true, y_pred,
                                self.thresholds, sample_weight=sample_weight,
                                evenly_distributed=self._evenly)

    def result(self):
        data = self.accumulator.data
        return to_result(data[0] if len(self.thresholds) == 1 else data)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionCount):
    """The (weighted) number of true positives.

    >>> TruePositives()([0, 1, 1, 1], [1, 0, 1, 1])
    2.0
    """

    _condition = "tp"


class FalsePositives(_ConfusionCount):
    """The (weighted) number of false positives.

    >>> FalsePositives()([0, 1, 0, 0], [0, 0, 1, 1])
    2.0
    """

    _condition = "fp"


class TrueNegatives(_ConfusionCount):
    """The (weighted) number of true negatives.

    >>> TrueNegatives()([0, 1, 0, 0], [1, 1, 0, 0])
    2.0
    """

    _condition = "tn"


class FalseNegatives(_ConfusionCount):
    """The (weighted) number of false negatives.

    >>> FalseNegatives()([0, 1, 1, 1], [0, 1, 0, 0])
    2.0
    """

    _condition = "fn"


class _PrecisionRecall(Metric):
    """``tp / (tp + other)`` per threshold; ``other`` is "fp" (precision) or "fn" (recall)."""

    _direction = "up"
    _other = None

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        self.thresholds = parse_thresholds(thresholds, 0.5 if top_k is None else NEG_INF)
        self._evenly = is_evenly_distributed(self.thresholds)
        n = len(self.thresholds)
        self.true_positives = self.add_variable((n,), "zeros", name="true_positives")
        other_name = {"fp": "false_positives", "fn": "false_negatives"}[self._other]
        self._other_variable = self.add_variable((n,), "zeros", name=other_name)
        setattr(self, other_name, self._other_variable)

    def update_state(self, y_true, y_pred, sample_weight=None):
        update_confusion_matrix({"tp": self.true_positives, self._other: self._other_variable},
                                y_true, y_pred, self.thresholds, top_k=self.top_k,
                                class_id=self.class_id, sample_weight=sample_weight,
                                evenly_distributed=self._evenly)

    def result(self):
        tp = self.true_positives.data
        xp = backend.get_array_module(tp)
        value = divide_no_nan(xp, tp, tp + self._other_variable.data)
        return to_result(value[0] if len(self.thresholds) == 1 else value)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecall):
    """``tp / (tp + fp)``: how many predicted positives are real.

    Args:
        thresholds: a float or a list of floats in [0, 1] (default 0.5; with ``top_k``, none):
            a prediction above it counts as positive. A list gives one result per threshold.
        top_k: only the k highest predictions of each sample count as positive.
        class_id: only this class (last axis) is scored.

    >>> Precision()([0, 1, 1, 1], [1, 0, 1, 1])
    0.6666666865348816
    """

    _other = "fp"


class Recall(_PrecisionRecall):
    """``tp / (tp + fn)``: how many real positives are found. Arguments as ``Precision``.

    >>> Recall()([0, 1, 1, 1], [1, 0, 1, 1])
    0.6666666865348816
    """

    _other = "fn"
