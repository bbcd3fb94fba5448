"""AUC: the area under the ROC or precision-recall curve, from confusion counts at fixed
thresholds (Keras 3's ``keras.metrics.AUC``, its Riemann sums and its PR interpolation)."""
from __future__ import annotations

import numpy as np

from engine import backend

from .. import config
from ..losses.loss import to_array
from .base import Metric, divide_no_nan, to_result
from .confusion import is_evenly_distributed, update_confusion_matrix

_CURVES = {"roc": "ROC", "ROC": "ROC", "pr": "PR", "PR": "PR"}
_SUMMATIONS = {"interpolation": "interpolation", "Interpolation": "interpolation",
               "majoring": "majoring", "Majoring": "majoring",
               "minoring": "minoring", "Minoring": "minoring"}
_STATE = (("tp", "true_positives"), ("fp", "false_positives"), ("tn", "true_negatives"),
          ("fn", "false_negatives"))


def _sigmoid(xp, x):
    e = xp.exp(-xp.abs(x))  # never overflows
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


class AUC(Metric):
    """Approximates the AUC of the ROC (default) or PR curve with ``num_thresholds`` buckets.

    Thresholds are ``[-eps, 1/(n-1), ..., (n-2)/(n-1), 1+eps]`` (or ``[-eps] + thresholds +
    [1+eps]``); ``summation_method`` is "interpolation" (trapezoids for ROC, Davis & Goadrich's
    interpolation for PR), "minoring" or "majoring".

    Args:
        num_thresholds: number of thresholds (> 1), default 200.
        curve: "ROC" or "PR".
        summation_method: "interpolation", "minoring" or "majoring".
        thresholds: explicit thresholds in [0, 1] (then num_thresholds is len + 2).
        multi_label: one AUC per label (last axis), averaged (weighted by ``label_weights``).
        num_labels: the number of labels when multi_label (else found on the first update).
        label_weights: per-label weights.
        from_logits: whether predictions are logits (a sigmoid is applied).

    >>> m = AUC(num_thresholds=3)
    >>> m([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    0.75
    """

    _direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        if curve not in _CURVES:
            raise ValueError(f'Invalid AUC curve value: "{curve}". '
                             'Expected values are ["PR", "ROC"]')
        if summation_method not in _SUMMATIONS:
            raise ValueError(f'Invalid AUC summation method value: "{summation_method}". '
                             'Expected values are ["interpolation", "majoring", "minoring"]')
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            inner = sorted(thresholds)
            self._evenly = is_evenly_distributed(np.array([0.0] + inner + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        # The end points sit just outside [0, 1] so that predictions of exactly 0 or 1 count.
        eps = config.epsilon()
        self._thresholds = np.array([0.0 - eps] + inner + [1.0 + eps])
        self.curve = _CURVES[curve]
        self.summation_method = _SUMMATIONS[summation_method]
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else \
            to_array(label_weights, config.device(), self.dtype)
        self._from_logits = from_logits
        self._built = False
        if multi_label:
            if num_labels:
                self._build((None, num_labels))
        elif num_labels:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        else:
            self._build(None)

    @property
    def thresholds(self):
        return [float(t) for t in self._thresholds]

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError("`y_pred` must have rank 2 when `multi_label=True`. Found rank "
                                 f"{len(shape)}. Full shape received for `y_pred`: {shape}")
            self._num_labels = shape[1]
            state_shape = (self.num_thresholds, self._num_labels)
        else:
            state_shape = (self.num_thresholds,)
        for _, name in _STATE:
            setattr(self, name, self.add_variable(state_shape, "zeros", name=name))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = to_array(y_pred, self._device, self.dtype)
        if not self._built:
            self._build(tuple(y_pred.shape))
        if self._from_logits:
            y_pred = _sigmoid(backend.get_array_module(y_pred), y_pred)
        update_confusion_matrix({key: getattr(self, name) for key, name in _STATE}, y_true,
                                y_pred, self._thresholds, sample_weight=sample_weight,
                                multi_label=self.multi_label,
                                label_weights=None if self.multi_label else self.label_weights,
                                evenly_distributed=self._evenly)

    def _average(self, xp, terms):
        """Sums the terms over thresholds; multi-label AUCs are then (weighted) averaged."""
        if not self.multi_label:
            return terms.sum()
        by_label = terms.sum(axis=0)
        if self.label_weights is None:
            return by_label.mean()
        return divide_no_nan(xp, (by_label * self.label_weights).sum(), self.label_weights.sum())

    def interpolate_pr_auc(self, xp, tp, fp, fn):
        """PR-AUC with TP and FP linear between thresholds (Davis & Goadrich 2006, section 4):
        per interval, ``slope * (dTP + intercept * log(P_A / P_B)) / (TP_B + FN_B)``."""
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = divide_no_nan(xp, dtp, xp.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = xp.where(both, divide_no_nan(xp, p[:-1], xp.maximum(p[1:], 0)), 1)
        terms = divide_no_nan(xp, slope * (dtp + intercept * xp.log(ratio)),
                              xp.maximum(tp[1:] + fn[1:], 0))
        return self._average(xp, terms)

    def result(self):
        tp, fp, tn, fn = (getattr(self, name).data for _, name in _STATE)
        xp = backend.get_array_module(tp)
        if self.curve == "PR" and self.summation_method == "interpolation":
            return to_result(self.interpolate_pr_auc(xp, tp, fp, fn))
        recall = divide_no_nan(xp, tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(xp, fp, fp + tn), recall
        else:
            x, y = recall, divide_no_nan(xp, tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = xp.minimum(y[:-1], y[1:])
        else:
            heights = xp.maximum(y[:-1], y[1:])
        return to_result(self._average(xp, (x[:-1] - x[1:]) * heights))

    def reset_state(self):
        if self._built:
            super().reset_state()

    def get_config(self):
        label_weights = self.label_weights
        if label_weights is not None:
            label_weights = backend.to_numpy(label_weights).tolist()
        config_ = {"num_thresholds": self.num_thresholds, "curve": self.curve,
                   "summation_method": self.summation_method, "multi_label": self.multi_label,
                   "num_labels": self.num_labels, "label_weights": label_weights,
                   "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config_["thresholds"] = self.thresholds[1:-1]
        return {**super().get_config(), **config_}
