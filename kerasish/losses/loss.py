"""The Loss base class and Keras 3's reduction rules (``keras/src/losses/loss.py``).

A loss's ``call`` returns per-sample values (an engine Tensor, differentiable w.r.t. ``y_pred``);
``Loss.__call__`` weights them by ``sample_weight`` and a mask, then reduces them.
"""
from __future__ import annotations

import numpy as np

from engine import Tensor, backend, ops

from .. import config, utils

REDUCTIONS = ("sum_over_batch_size", "sum", None, "none", "mean", "mean_with_sample_weight")


def standardize_reduction(reduction):
    if reduction not in REDUCTIONS:
        allowed = "{" + ", ".join(repr(r) for r in REDUCTIONS) + "}"
        raise ValueError(
            "Invalid value for argument `reduction`. "
            f"Expected one of {allowed}. Received: reduction={reduction}"
        )
    return reduction


def to_array(x, device=None, dtype=None):
    """The raw xp array of ``x`` (a Tensor, an array, a list or a number), on ``device``.

    Python floats and lists of them become floatx, not float64 (Keras's convert_to_tensor).
    """
    if isinstance(x, Tensor):
        x = x.data
    elif not hasattr(x, "dtype"):
        x = np.asarray(x)
        if x.dtype == np.float64:
            x = x.astype(config.floatx())
    if device is not None and backend.device_of(x) != device:
        x = backend.to_device(x, device)
    if dtype is not None and x.dtype != np.dtype(dtype):
        x = x.astype(dtype)
    return x


def as_tensor(x, dtype=None, device=None):
    """An engine Tensor of ``x``: Tensors pass through (cast in the graph), the rest is wrapped."""
    if isinstance(x, Tensor):
        if device is not None and x.device != device:
            x = x.to(device)
    else:
        x = Tensor(to_array(x, device))
    if dtype is not None and x.dtype != np.dtype(dtype):
        x = ops.cast(x, dtype)
    return x


def _expand_last(x):
    return ops.expand_dims(x, -1) if isinstance(x, Tensor) else x[..., None]


def _squeeze_last(x):
    return ops.squeeze(x, -1) if isinstance(x, Tensor) else x[..., 0]


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Squeezes or expands the last axis when the ranks differ by exactly one (Keras's rule).

    Works on engine Tensors and raw arrays alike: ``(N,)`` vs ``(N, 1)`` gives ``(N, 1)`` twice.
    """
    r1, r2 = len(x1.shape), len(x2.shape)
    if r1 == r2:
        return x1, x2
    if r1 == r2 + 1 and x1.shape[-1] == 1:
        if r2 == 1 and expand_rank_1:
            x2 = _expand_last(x2)
        else:
            x1 = _squeeze_last(x1)
    if r2 == r1 + 1 and x2.shape[-1] == 1:
        if r1 == 1 and expand_rank_1:
            x1 = _expand_last(x1)
        else:
            x2 = _squeeze_last(x2)
    return x1, x2


def _divide_no_nan(xp, a, b):
    """a / b, and 0 where b == 0 (no warning, no device sync)."""
    zero = b == 0
    return xp.where(zero, 0, a / xp.where(zero, 1, b))


def apply_mask(sample_weight, mask, dtype, reduction):
    """Folds a boolean mask into the sample weights (raw arrays).

    For a mean reduction the kept entries are scaled by total/valid, so that the later division by
    the number of elements becomes a division by the number of unmasked ones.
    """
    if mask is None:
        return sample_weight
    mask = to_array(mask).astype(dtype)
    xp = backend.get_array_module(mask)
    if reduction in ("mean", "sum_over_batch_size"):
        mask = mask * _divide_no_nan(xp, mask.dtype.type(mask.size), mask.sum())
    if sample_weight is None:
        return mask
    mask, sample_weight = squeeze_or_expand_to_same_rank(mask, sample_weight)
    return sample_weight * mask


def reduce_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Reduces weighted per-sample values (an engine Tensor) to a scalar as ``reduction`` says."""
    if reduction in (None, "none") or values.shape in ((), (0,)):
        return values
    loss = ops.sum(values)
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        xp = backend.get_array_module(sample_weight)
        total = xp.asarray(sample_weight.sum(), dtype=values.dtype)
        safe = xp.where(total == 0, 1, total)
        return ops.where(total == 0, 0.0, loss / safe)
    if reduction in ("sum_over_batch_size", "mean", "mean_with_sample_weight"):
        # NOTE: the element count is a Python int, known without a device sync.
        loss = loss / values.size if values.size > 0 else loss * 0.0
    return loss


def reduce_weighted_values(values, sample_weight=None, mask=None,
                           reduction="sum_over_batch_size", dtype=None):
    """``values * sample_weight`` (masked), reduced. Weights and masks are constants."""
    reduction = standardize_reduction(reduction)
    values = as_tensor(values, dtype)
    if sample_weight is not None:
        sample_weight = to_array(sample_weight, values.device, values.dtype)
    sample_weight = apply_mask(sample_weight, mask, values.dtype, reduction)
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        values = values * sample_weight
    return reduce_values(values, sample_weight, reduction)


class Loss:
    """Base class of losses: subclasses implement ``call(y_true, y_pred)`` (per-sample values).

    Args:
        name: the loss's name (default: the class name in snake case).
        reduction: "sum_over_batch_size" (default), "sum", "mean", "mean_with_sample_weight",
            "none" or None.
        dtype: the dtype the inputs are cast to (default: floatx).

    >>> class MeanError(Loss):
    ...     def call(self, y_true, y_pred):
    ...         return ops.mean(y_pred - y_true, axis=-1)
    >>> float(MeanError()([[0.0, 1.0]], [[1.0, 3.0]]))
    1.5
    """

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        self.name = name or utils.unique_name(utils.to_snake_case(type(self).__name__))
        self.reduction = standardize_reduction(reduction)
        self._dtype = str(np.dtype(dtype or config.floatx()))

    @property
    def dtype(self):
        return self._dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        in_mask = y_pred._keras_mask if isinstance(y_pred, Tensor) else None
        y_pred = as_tensor(y_pred, self.dtype)
        y_true = as_tensor(y_true, self.dtype, y_pred.device)
        losses = self.call(y_true, y_pred)
        out_mask = losses._keras_mask if isinstance(losses, Tensor) else None
        if in_mask is not None and out_mask is not None:
            mask = to_array(in_mask).astype(bool) & to_array(out_mask).astype(bool)
        else:
            mask = out_mask if in_mask is None else in_mask
        return reduce_weighted_values(losses, sample_weight=sample_weight, mask=mask,
                                      reduction=self.reduction, dtype=self.dtype)

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
