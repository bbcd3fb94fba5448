"""Pearson and concordance correlation (Keras 3's ``correlation_metrics``): per-sample values
along ``axis``, averaged over batches by ``MeanMetricWrapper``."""
from __future__ import annotations

from engine import ops

from .. import config
from ..losses.functions import _prepare
from ..losses.loss import squeeze_or_expand_to_same_rank
from .base import MeanMetricWrapper


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson's correlation coefficient of ``y_true`` and ``y_pred`` along ``axis``
    (differentiable w.r.t. ``y_pred``)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_prepare(y_true, y_pred))
    t = y_true - ops.mean(y_true, axis=axis, keepdims=True)
    p = y_pred - ops.mean(y_pred, axis=axis, keepdims=True)
    t = t / ops.std(t, axis=axis, keepdims=True)
    p = p / ops.std(p, axis=axis, keepdims=True)
    return ops.mean(t * p, axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation coefficient along ``axis``, computed as Keras 3 does
    (differentiable w.r.t. ``y_pred``)."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_prepare(y_true, y_pred))
    true_mean = ops.mean(y_true, axis=axis, keepdims=True)
    pred_mean = ops.mean(y_pred, axis=axis, keepdims=True)
    true_var = ops.var(y_true - true_mean, axis=axis, keepdims=True)
    pred_var = ops.var(y_pred - pred_mean, axis=axis, keepdims=True)
    # NOTE: Keras centres y_true on y_pred's mean here; kept for identical numbers.
    covar = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + ops.square(true_mean - pred_mean)
    return ops.mean(covar * 2.0 / (norm + config.epsilon()), axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """The mean Pearson correlation of labels and predictions along ``axis``.

    >>> m = PearsonCorrelation()
    >>> round(m([[0.0, 1.0, 2.0]], [[1.0, 3.0, 5.0]]), 4)
    1.0
    """

    _direction = "up"

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """The mean concordance correlation of labels and predictions along ``axis``.

    >>> m = ConcordanceCorrelation()
    >>> round(m([[0.0, 1.0, 2.0]], [[0.0, 1.0, 2.0]]), 4)
    1.0
    """

    _direction = "up"

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}
