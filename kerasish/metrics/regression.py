"""Regression metrics: the mean of a loss function's per-sample values, RMSE and R2."""
from __future__ import annotations

import warnings

import numpy as np

from engine import backend

from ..losses import functions as F
from ..losses.loss import squeeze_or_expand_to_same_rank, to_array
from .base import Mean, MeanMetricWrapper, Metric, divide_no_nan, to_result


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


_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


class R2Score(Metric):
    """The coefficient of determination ``1 - SS_res / SS_tot`` per output column, over every
    batch seen, aggregated as ``class_aggregation`` says (optionally adjusted for
    ``num_regressors``).

    Args:
        class_aggregation: "uniform_average" (default), "variance_weighted_average" or None
            (one score per column).
        num_regressors: the number of independent regressors, for the adjusted R2 (0: plain).

    >>> m = R2Score()
    >>> round(m([[1.0], [4.0], [3.0]], [[2.0], [4.0], [4.0]]), 4)
    0.5714
    """

    _direction = "up"

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in _AGGREGATIONS:
            raise ValueError("Invalid value for argument `class_aggregation`. Expected one of "
                             f"{_AGGREGATIONS}. Received: class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError("Invalid value for argument `num_regressors`. Expected a value "
                             f">= 0. Received: num_regressors={num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable((), "zeros", name="num_samples")
        self._built = False

    def _build(self, true_shape, pred_shape):
        if len(pred_shape) != 2 or len(true_shape) != 2:
            raise ValueError("R2Score expects 2D inputs with shape (batch_size, output_dim). "
                             f"Received input shapes: y_pred.shape={pred_shape} and "
                             f"y_true.shape={true_shape}.")
        n = (pred_shape[-1],)
        self.squared_sum = self.add_variable(n, "zeros", name="squared_sum")
        self.sum = self.add_variable(n, "zeros", name="sum")
        self.total_mse = self.add_variable(n, "zeros", name="residual")
        self.count = self.add_variable(n, "zeros", name="count")
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = to_array(y_true, self._device, self.dtype)
        y_pred = to_array(y_pred, self._device, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        xp = backend.get_array_module(y_true)
        weight = xp.ones((), self.dtype) if sample_weight is None else \
            to_array(sample_weight, self._device, self.dtype)
        if weight.ndim == 1:
            weight = weight[:, None]
        weight = xp.broadcast_to(weight, y_true.shape)
        weighted_true = y_true * weight
        self.sum.data += weighted_true.sum(axis=0)
        self.squared_sum.data += (y_true * weighted_true).sum(axis=0)
        self.total_mse.data += ((y_true - y_pred) ** 2 * weight).sum(axis=0)
        self.count.data += weight.sum(axis=0)
        self.num_samples.data += y_true.size

    def result(self):
        if not self._built:
            return 0.0
        xp = backend.get_array_module(self.sum.data)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = self.sum.data / self.count.data
            total = self.squared_sum.data - self.sum.data * mean
            raw = 1 - self.total_mse.data / total
        raw = xp.where(xp.isinf(raw), 0.0, raw).astype(self.dtype)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw).sum() / total.sum()
        else:
            score = raw
        if self.num_regressors:
            n, p = float(self.num_samples.data), float(self.num_regressors)
            if p > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 "
                              "score. Falling back to standard R2 score.", stacklevel=2)
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard "
                              "R2 score.", stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return to_result(xp.asarray(score, dtype=self.dtype))

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
