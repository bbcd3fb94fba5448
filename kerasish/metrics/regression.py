"""Regression metrics: the mean of a loss function's per-sample values, and RMSE."""
from __future__ import annotations

from engine import backend

from ..losses import functions as F
from ..losses.loss import squeeze_or_expand_to_same_rank, to_array
from .base import Mean, MeanMetricWrapper, divide_no_nan, to_result


class _LossMean(MeanMetricWrapper):
    """The running mean of a loss function; its config is name, dtype and ``_config_keys``."""

    _direction = "down"
    _config_keys = ()

    def __init__(self, fn, name, dtype, **kwargs):
        super().__init__(fn, name=name, dtype=dtype, **kwargs)
        for key in self._config_keys:
            setattr(self, key, kwargs[key])

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype,
                **{k: getattr(self, k) for k in self._config_keys}}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MeanSquaredError(_LossMean):
    """The mean of ``square(y_true - y_pred)``.

    >>> MeanSquaredError()([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    0.25
    """

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(F.mean_squared_error, name, dtype)


class MeanAbsoluteError(_LossMean):
    """The mean of ``abs(y_true - y_pred)``.

    >>> MeanAbsoluteError()([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    0.25
    """

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(F.mean_absolute_error, name, dtype)


class MeanAbsolutePercentageError(_LossMean):
    """The mean of ``100 * abs((y_true - y_pred) / y_true)``.

    >>> MeanAbsolutePercentageError()([[2.0, 4.0]], [[1.0, 4.0]])
    25.0
    """

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(F.mean_absolute_percentage_error, name, dtype)


class MeanSquaredLogarithmicError(_LossMean):
    """The mean of ``square(log(y_true + 1) - log(y_pred + 1))``.

    >>> m = MeanSquaredLogarithmicError()
    """

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(F.mean_squared_logarithmic_error, name, dtype)


class LogCoshError(_LossMean):
    """The mean of ``log(cosh(y_pred - y_true))``.

    >>> LogCoshError()([[0.0]], [[0.0]])
    0.0
    """

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(F.log_cosh, name, dtype)


def _cosine_similarity(y_true, y_pred, axis=-1):
    return -F.cosine_similarity(y_true, y_pred, axis=axis)


class CosineSimilarity(_LossMean):
    """The mean cosine similarity of labels and predictions along ``axis`` (1 = same direction).

    >>> m = CosineSimilarity(axis=1)
    >>> round(m([[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]]), 6)
    0.5
    """

    _direction = "up"
    _config_keys = ("axis",)

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(_cosine_similarity, name, dtype, axis=axis)


class RootMeanSquaredError(Mean):
    """``sqrt(mean(square(y_pred - y_true)))`` over everything seen.

    >>> RootMeanSquaredError()([[0, 1], [0, 0]], [[1, 1], [0, 0]])
    0.5
    """

    _direction = "down"

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = to_array(y_true, self._device, self.dtype)
        y_pred = to_array(y_pred, self._device, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        super().update_state((y_pred - y_true) ** 2, sample_weight=sample_weight)

    def result(self):
        xp = backend.get_array_module(self.total.data)
        return to_result(xp.sqrt(divide_no_nan(xp, self.total.data, self.count.data)))
