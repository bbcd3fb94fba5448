"""One rate at a constraint on another (Keras 3's ``SensitivitySpecificityBase`` family):
confusion counts at ``num_thresholds`` evenly spaced thresholds, then the best value of one rate
over the thresholds where the other meets its target."""
from __future__ import annotations

from engine import backend

from .. import config
from .base import Metric, divide_no_nan, to_result
from .confusion import update_confusion_matrix


def _rates(xp, tp, fp, tn, fn):
    return {"recall": divide_no_nan(xp, tp, tp + fn), "specificity": divide_no_nan(xp, tn, tn + fp),
            "precision": divide_no_nan(xp, tp, tp + fp)}


class _AtConstraint(Metric):
    """Base: ``_constrained`` must reach ``value``; the best ``_dependent`` is the result."""

    _direction = "up"
    _constrained = _dependent = _arg = None

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        if value < 0 or value > 1:
            raise ValueError(f"Argument `{self._arg}` must be in the range [0, 1]. "
                             f"Received: {self._arg}={value}")
        if num_thresholds <= 0:
            raise ValueError("Argument `num_thresholds` must be an integer > 0. "
                             f"Received: num_thresholds={num_thresholds}")
        super().__init__(name=name, dtype=dtype)
        setattr(self, self._arg, value)
        self.value = value
        self.num_thresholds = num_thresholds
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds, evenly = [0.5], False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds, evenly = [0.0] + inner + [1.0], True
        self._evenly = evenly
        # NOTE: Keras's bucketed update (evenly spaced thresholds) counts a prediction of
        # exactly 0 as positive at threshold 0; a threshold just below 0 does the same here.
        self._compare_at = list(self.thresholds)
        if evenly:
            self._compare_at[0] = -config.epsilon()
        n = len(self.thresholds)
        for var in ("true_positives", "false_positives", "true_negatives", "false_negatives"):
            setattr(self, var, self.add_variable((n,), "zeros", name=var))

    def update_state(self, y_true, y_pred, sample_weight=None):
        variables = {"tp": self.true_positives, "fp": self.false_positives,
                     "tn": self.true_negatives, "fn": self.false_negatives}
        update_confusion_matrix(variables, y_true, y_pred, self._compare_at,
                                class_id=self.class_id, sample_weight=sample_weight,
                                evenly_distributed=self._evenly)

    def result(self):
        tp = self.true_positives.data
        xp = backend.get_array_module(tp)
        rates = _rates(xp, tp, self.false_positives.data, self.true_negatives.data,
                       self.false_negatives.data)
        feasible = rates[self._constrained] >= self.value
        best = xp.maximum(xp.where(feasible, rates[self._dependent], 0).max(), 0)
        return to_result(xp.asarray(best, dtype=self.dtype))

    def get_config(self):
        return {**super().get_config(), "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self._arg: self.value}


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity (recall) at a specificity of at least ``specificity``.

    Args:
        specificity: in [0, 1].
        num_thresholds: thresholds evenly spaced over [0, 1] (default 200; 1 means 0.5).
        class_id: score only this class (last axis).

    >>> m = SensitivityAtSpecificity(0.5)
    >>> m([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    0.5
    """

    _constrained, _dependent, _arg = "specificity", "recall", "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity at a sensitivity (recall) of at least ``sensitivity``.

    >>> m = SpecificityAtSensitivity(0.5)
    >>> round(m([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8]), 4)
    0.6667
    """

    _constrained, _dependent, _arg = "recall", "specificity", "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)


class PrecisionAtRecall(_AtConstraint):
    """The best precision at a recall of at least ``recall``.

    >>> m = PrecisionAtRecall(0.5)
    >>> m([0, 0, 0, 1, 1], [0, 0.3, 0.8, 0.3, 0.8])
    0.5
    """

    _constrained, _dependent, _arg = "recall", "precision", "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)


class RecallAtPrecision(_AtConstraint):
    """The best recall at a precision of at least ``precision``.

    >>> m = RecallAtPrecision(0.8)
    >>> m([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    0.5
    """

    _constrained, _dependent, _arg = "precision", "recall", "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)
