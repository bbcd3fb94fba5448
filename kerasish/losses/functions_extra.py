"""More loss functions of Keras 3: focal and generalized cross-entropies, Dice, Tversky, Circle
and CTC. Per-sample values as differentiable engine Tensors, like ``functions.py``."""
from __future__ import annotations

import warnings

import numpy as np

from engine import backend, ops

from .. import config
from .functions import _check_axis, _prepare
from .loss import to_array


def _constant(value, like):
    """A list/tuple hyper-parameter (e.g. per-class alpha) as an array of ``like``'s dtype."""
    if isinstance(value, (list, tuple)) or hasattr(value, "dtype"):
        return to_array(value, like.device, like.dtype)
    return value


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy scaled by ``(1 - p_t) ** gamma`` (Lin et al., 2018), mean over
    ``axis``.

    Args:
        y_true: labels in [0, 1], the shape of ``y_pred``.
        y_pred: probabilities, or logits with ``from_logits=True``.
        apply_class_balancing: also weight class 1 by ``alpha`` and class 0 by ``1 - alpha``.
        alpha: the balancing weight of class 1.
        gamma: the focusing parameter (0 gives plain binary cross-entropy).
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]: labels are squeezed towards 0.5.
        axis: the axis the mean is taken over.
    """
    y_true, y_pred = _prepare(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = ops.sigmoid(y_pred)
    bce = ops.binary_crossentropy(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal_bce = ops.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal_bce = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal_bce
    return ops.mean(focal_bce, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Categorical cross-entropy of each class scaled by ``alpha * (1 - p) ** gamma``.

    Args:
        y_true: one-hot (or soft) labels, the shape of ``y_pred``.
        y_pred: probabilities (renormalised along ``axis``, then clipped), or logits.
        alpha: a float, or a list of one weight per class.
        gamma: the focusing parameter.
        from_logits: whether ``y_pred`` holds logits (a softmax is applied first).
        label_smoothing: in [0, 1]: labels become ``y * (1 - s) + s / num_classes``.
        axis: the class axis.
    """
    _check_axis(axis)
    y_true, y_pred = _prepare(y_true, y_pred)
    if y_pred.shape[-1] == 1:
        warnings.warn(
            "In loss categorical_focal_crossentropy, expected y_pred.shape to be "
            "(batch_size, num_classes) with num_classes > 1. Received: y_pred.shape="
            f"{y_pred.shape}. Consider using 'binary_crossentropy' if you only have 2 classes.",
            SyntaxWarning, stacklevel=2)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        y_pred = ops.softmax(y_pred, axis=axis)
    eps = config.epsilon()
    output = ops.clip(y_pred / ops.sum(y_pred, axis=axis, keepdims=True), eps, 1.0 - eps)
    cce = -y_true * ops.log(output)
    weight = ops.power(1.0 - output, gamma) * _constant(alpha, output)
    return ops.sum(weight * cce, axis=axis)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Generalized cross-entropy ``(1 - p ** q) / q`` of the true class's probability ``p``
    (Zhang & Sabuncu, 2018): near cross-entropy as q -> 0, near MAE as q -> 1.

    Args:
        y_true: integer class ids, shape ``(batch,)`` or ``(batch, 1)``.
        y_pred: class probabilities, shape ``(batch, num_classes)``.
        q: the noise parameter, in (0, 1).
    """
    y_pred = _prepare(0.0, y_pred)[1]
    ids = to_array(y_true, y_pred.device)
    if ids.ndim == y_pred.ndim and ids.ndim > 1 and ids.shape[-1] == 1:
        ids = ids[..., 0]
    one_hot = ops.one_hot(ids.astype("int64"), y_pred.shape[-1], dtype=y_pred.dtype)
    p = ops.sum(y_pred * one_hot, axis=-1)
    return (1.0 - ops.power(p, q)) / q


def dice(y_true, y_pred, axis=None):
    """Dice loss ``1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred))`` over ``axis``
    (everything by default, which gives one scalar)."""
    y_true, y_pred = _prepare(y_true, y_pred)
    intersection = ops.sum(y_true * y_pred, axis=axis)
    total = ops.sum(y_true, axis=axis) + ops.sum(y_pred, axis=axis) + config.epsilon()
    return 1.0 - 2.0 * intersection / total


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """Tversky loss ``1 - tp / (tp + alpha * fp + beta * fn)`` with soft counts over ``axis``
    (Salehi et al., 2017); ``alpha = beta = 0.5`` is the Dice loss."""
    y_true, y_pred = _prepare(y_true, y_pred)
    tp = ops.sum(y_true * y_pred, axis=axis)
    fp = ops.sum((1.0 - y_pred) * y_true, axis=axis)  # NOTE: Keras's naming, kept as is
    fn = ops.sum(y_pred * (1.0 - y_true), axis=axis)
    return 1.0 - tp / (tp + fp * alpha + fn * beta + config.epsilon())


def _masked_logsumexp(x, mask):
    """Row-wise log-sum-exp of ``x`` over ``mask`` (a constant bool array), stable for large
    values. Returns the sum of exps (shifted) and the shift: empty rows give a zero sum."""
    xp = backend.get_array_module(x.data)
    shift = xp.where(mask, x.data, -np.inf).max(axis=1, keepdims=True)
    shift = xp.where(xp.isfinite(shift), shift, 0).astype(x.dtype)
    # NOTE: masked-out entries are replaced *before* exp so that no inf reaches the backward.
    terms = ops.exp(ops.where(mask, x, shift) - shift) * mask.astype(x.dtype)
    return ops.sum(terms, axis=1), shift[:, 0]


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True,
           gamma=80, margin=0.4):
    """Circle loss (Sun et al., 2020) on L2-normalised embeddings, one value per query.

    Args:
        y_true: integer labels of the queries, shape ``(batch,)``.
        y_pred: L2-normalised embeddings of the queries, shape ``(batch, dim)``.
        ref_labels: labels of the reference embeddings (default ``y_true``).
        ref_embeddings: reference embeddings (default ``y_pred``).
        remove_diagonal: leave each query out of its own positives.
        gamma: the scale.
        margin: the relaxation margin.

    Returns:
        The per-query loss; queries without a positive or a negative give 0 and are masked out
        of the mean (``_keras_mask``), as Keras does.
    """
    y_pred = _prepare(0.0, y_pred)[1]
    xp = backend.get_array_module(y_pred.data)
    labels = to_array(y_true, y_pred.device).reshape(-1).astype("int64")
    refs = y_pred if ref_embeddings is None else _prepare(0.0, ref_embeddings)[1]
    ref_ids = labels if ref_labels is None else \
        to_array(ref_labels, y_pred.device).reshape(-1).astype("int64")
    positive = labels[:, None] == ref_ids[None, :]
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~xp.eye(labels.size, ref_ids.size, dtype=bool)
    distances = ops.maximum(1.0 - ops.matmul(y_pred, ops.transpose(refs)), 0.0)
    pos_weights = ops.maximum((margin + distances) * positive.astype(y_pred.dtype), 0.0)
    neg_weights = ops.maximum((1.0 + margin - distances) * negative.astype(y_pred.dtype), 0.0)
    pos_logits = -gamma * pos_weights * (margin - distances)
    neg_logits = gamma * neg_weights * ((1.0 - margin) - distances)
    pos_sum, pos_shift = _masked_logsumexp(pos_logits, positive)
    neg_sum, neg_shift = _masked_logsumexp(neg_logits, negative)
    # softplus(logsumexp(pos) + logsumexp(neg)); a row with no pair gives softplus(-inf) = 0.
    valid = (positive.any(axis=1) & negative.any(axis=1))
    one = xp.ones((), dtype=y_pred.dtype)
    z = ops.log(ops.where(valid, pos_sum, one)) + ops.log(ops.where(valid, neg_sum, one)) + \
        (pos_shift + neg_shift)
    loss = ops.where(valid, ops.softplus(z), 0.0)
    loss._keras_mask = loss.data > 0
    return loss


def ctc(y_true, y_pred):
    """CTC loss per sample: labels padded with 0 (the blank), logits over every frame.

    Args:
        y_true: integer labels, shape ``(batch, max_length)``; 0 is the blank/padding.
        y_pred: logits (not softmaxed), shape ``(batch, frames, num_classes)``.
    """
    y_pred = _prepare(0.0, y_pred)[1]
    labels = to_array(y_true, y_pred.device)
    if labels.ndim != 2:
        raise ValueError("Targets `y_true` are expected to be a tensor of shape "
                         "`(batch_size, max_length)` in integer format. "
                         f"Received: y_true.shape={labels.shape}")
    if y_pred.ndim != 3:
        raise ValueError("Logits `y_pred` are expected to be a tensor of shape "
                         "`(batch_size, max_length, num_classes)`. "
                         f"Received: y_pred.shape={y_pred.shape}")
    xp = backend.get_array_module(labels)
    labels = labels.astype("int64")
    batch, frames = y_pred.shape[0], y_pred.shape[1]
    label_length = (labels != 0).sum(axis=-1)
    return ops.ctc_loss(labels, y_pred, label_length, xp.full((batch,), frames, "int64"),
                        mask_index=0)


FUNCTIONS = (binary_focal_crossentropy, categorical_focal_crossentropy,
             categorical_generalized_cross_entropy, dice, tversky, circle, ctc)
__all__ = [fn.__name__ for fn in FUNCTIONS]
