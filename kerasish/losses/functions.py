"""Loss functions (``keras.losses.<name>``): per-sample values as differentiable engine Tensors.

Each takes ``(y_true, y_pred)`` as engine Tensors, xp arrays or lists and reduces only the last
axis (or the class axis), exactly as Keras 3's functions do; batch reduction belongs to ``Loss``.
"""
from __future__ import annotations

import math
import warnings

from engine import ops

from .. import config
from .loss import as_tensor, squeeze_or_expand_to_same_rank, to_array

_LOG2 = math.log(2.0)


def _prepare(y_true, y_pred):
    """y_pred as a floating Tensor; y_true cast to its dtype and moved to its device."""
    y_pred = as_tensor(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = ops.cast(y_pred, config.floatx())
    return as_tensor(y_true, y_pred.dtype, y_pred.device), y_pred


def _check_same_shape(y_true, y_pred):
    """Keras's checks (and texts) before categorical and binary cross-entropy."""
    received = f"Received: target.shape={y_true.shape}, output.shape={y_pred.shape}"
    if y_true.ndim != y_pred.ndim:
        raise ValueError("Arguments `target` and `output` must have the same rank (ndim). "
                         + received)
    if y_true.shape != y_pred.shape:
        raise ValueError("Arguments `target` and `output` must have the same shape. " + received)


def mean_squared_error(y_true, y_pred):
    """``mean(square(y_true - y_pred), axis=-1)``."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_prepare(y_true, y_pred))
    return ops.mean(ops.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """``mean(abs(y_true - y_pred), axis=-1)``."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_prepare(y_true, y_pred))
    return ops.mean(ops.absolute(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_prepare(y_true, y_pred))
    diff = ops.absolute((y_true - y_pred) / ops.maximum(ops.absolute(y_true), config.epsilon()))
    return ops.mean(diff, axis=-1) * 100.0


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)``."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_prepare(y_true, y_pred))
    eps = config.epsilon()
    first = ops.log(ops.maximum(y_pred, eps) + 1.0)
    second = ops.log(ops.maximum(y_true, eps) + 1.0)
    return ops.mean(ops.square(first - second), axis=-1)


def _l2_normalize(x, axis):
    # NOTE: x / max(norm, epsilon), as keras.ops.normalize: a zero vector stays zero.
    eps = config.epsilon()
    return x / ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=axis, keepdims=True), eps * eps))


def cosine_similarity(y_true, y_pred, axis=-1):
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``: -1 means the same direction."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_prepare(y_true, y_pred))
    return -ops.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


def huber(y_true, y_pred, delta=1.0):
    """Mean over the last axis of ``0.5 * e**2`` where ``|e| <= delta``, else
    ``delta * |e| - 0.5 * delta**2``, with ``e = y_pred - y_true``."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_prepare(y_true, y_pred))
    error = y_pred - y_true
    abs_error = ops.absolute(error)
    quadratic = ops.square(error) * 0.5
    linear = abs_error * delta - 0.5 * delta * delta
    return ops.mean(ops.where(abs_error.data <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed without overflow."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(*_prepare(y_true, y_pred))
    x = y_pred - y_true
    # log(cosh(x)) = x + softplus(-2x) - log(2): finite for any x.
    return ops.mean(x + ops.softplus(x * -2.0) - _LOG2, axis=-1)


def kl_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred), axis=-1)``, both clipped to ``[epsilon, 1]``."""
    y_true, y_pred = _prepare(y_true, y_pred)
    y_true = ops.clip(y_true, config.epsilon(), 1.0)
    y_pred = ops.clip(y_pred, config.epsilon(), 1.0)
    return ops.sum(y_true * ops.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return ops.mean(y_pred - y_true * ops.log(y_pred + config.epsilon()), axis=-1)


def _hinge_labels(y_true):
    """Labels in {0, 1} become {-1, 1}; other labels are kept (a 0-d condition: no sync)."""
    t = y_true.data
    is_binary = ((t == 0) | (t == 1)).all()
    return ops.where(is_binary, y_true * 2.0 - 1.0, y_true)


def hinge(y_true, y_pred):
    """``mean(maximum(1 - y_true * y_pred, 0), axis=-1)``, labels -1/1 (0/1 are converted)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return ops.mean(ops.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """``mean(square(maximum(1 - y_true * y_pred, 0)), axis=-1)``, labels -1/1 (or 0/1)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    y_true = _hinge_labels(y_true)
    return ops.mean(ops.square(ops.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """``maximum(neg - pos + 1, 0)`` with ``pos = sum(y_true * y_pred)`` and
    ``neg = max((1 - y_true) * y_pred)`` over the last axis."""
    y_true, y_pred = _prepare(y_true, y_pred)
    pos = ops.sum(y_true * y_pred, axis=-1)
    neg = ops.max((1.0 - y_true) * y_pred, axis=-1)
    return ops.maximum(neg - pos + 1.0, 0.0)


def _check_axis(axis):
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type "
                         f"{type(axis)}")


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Cross-entropy between one-hot (or soft) labels and predictions, per sample.

    Args:
        y_true: one-hot labels, the shape of ``y_pred``.
        y_pred: probabilities (renormalised along ``axis``, then clipped), or logits.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]: labels become ``y * (1 - s) + s / num_classes``.
        axis: the class axis.
    """
    _check_axis(axis)
    y_true, y_pred = _prepare(y_true, y_pred)
    if y_pred.shape[-1] == 1:
        warnings.warn(
            "In loss categorical_crossentropy, expected y_pred.shape to be "
            f"(batch_size, num_classes) with num_classes > 1. Received: y_pred.shape="
            f"{y_pred.shape}. Consider using 'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning, stacklevel=2)
    if label_smoothing:
        # NOTE: Keras counts the classes on the last axis whatever `axis` is.
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    _check_same_shape(y_true, y_pred)
    return ops.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Cross-entropy with integer class ids as labels, per sample.

    Args:
        y_true: class ids, ``y_pred``'s shape without the class axis (a trailing 1 is allowed).
        y_pred: probabilities (renormalised along ``axis``, then clipped), or logits.
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a class id whose samples give 0 and are masked out of the mean.
        axis: the class axis.
    """
    y_pred = as_tensor(y_pred)
    labels = to_array(y_true, y_pred.device)  # ids carry no gradient
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    valid = None
    if ignore_class is not None:
        # NOTE: ignored ids are replaced by 0 rather than zeroing y_pred as Keras does; the
        # values are the same, and no 0/0 appears in the gradient.
        valid = labels != ignore_class
        labels = labels * valid
    res = ops.sparse_categorical_crossentropy(labels, y_pred, from_logits=from_logits, axis=axis)
    if valid is not None:
        valid = valid.reshape(res.shape)
        res = ops.where(valid, res, 0.0)
        res._keras_mask = valid
    return res


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy averaged over ``axis`` (the last by default).

    Args:
        y_true: labels in [0, 1], the shape of ``y_pred``.
        y_pred: probabilities (clipped to [epsilon, 1 - epsilon]), or logits.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]: labels are squeezed towards 0.5.
        axis: the axis the mean is taken over.
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    _check_same_shape(y_true, y_pred)
    return ops.mean(ops.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis=axis)


# Short names Keras accepts as identifiers (and keeps as legacy aliases).
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
bce = BCE = binary_crossentropy

FUNCTIONS = (mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
             mean_squared_logarithmic_error, cosine_similarity, huber, log_cosh, kl_divergence,
             poisson, hinge, squared_hinge, categorical_hinge, categorical_crossentropy,
             sparse_categorical_crossentropy, binary_crossentropy)
ALIASES = {"mse": mse, "MSE": mse, "mae": mae, "MAE": mae, "mape": mape, "MAPE": mape,
           "msle": msle, "MSLE": msle, "kld": kld, "KLD": kld, "bce": bce, "BCE": bce}
