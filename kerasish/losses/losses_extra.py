"""Loss classes over ``functions_extra``: focal and generalized cross-entropies, Dice, Tversky,
Circle and CTC (Keras 3's classes, configs and defaults)."""
from __future__ import annotations

from . import functions_extra as F
from .losses import _SUM, _Wrapped


class BinaryFocalCrossentropy(_Wrapped):
    """Binary cross-entropy that down-weights easy examples by ``(1 - p_t) ** gamma``.

    Args:
        apply_class_balancing: weight class 1 by ``alpha`` and class 0 by ``1 - alpha``.
        alpha: the balancing weight of class 1 (default 0.25).
        gamma: the focusing parameter (default 2.0).
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1]; labels are squeezed towards 0.5.
        axis: the axis the per-sample mean is taken over.

    >>> loss = BinaryFocalCrossentropy(gamma=2.0)
    >>> round(float(loss([[0, 1], [0, 0]], [[0.6, 0.4], [0.4, 0.6]])), 4)
    0.2678
    """

    _config_keys = ("from_logits", "label_smoothing", "axis", "apply_class_balancing", "alpha",
                    "gamma")

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction=_SUM, name="binary_focal_crossentropy",
                 dtype=None):
        super().__init__(F.binary_focal_crossentropy, reduction, name, dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(_Wrapped):
    """Categorical cross-entropy of each class scaled by ``alpha * (1 - p) ** gamma``.

    Args:
        alpha: a float or one weight per class (default 0.25).
        gamma: the focusing parameter (default 2.0).
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: in [0, 1].
        axis: the class axis.

    >>> loss = CategoricalFocalCrossentropy()
    >>> round(float(loss([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])), 4)
    0.2332
    """

    _config_keys = ("from_logits", "label_smoothing", "axis", "alpha", "gamma")

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction=_SUM, name="categorical_focal_crossentropy", dtype=None):
        super().__init__(F.categorical_focal_crossentropy, reduction, name, dtype, alpha=alpha,
                         gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing,
                         axis=axis)


class CategoricalGeneralizedCrossEntropy(_Wrapped):
    """Noise-robust ``(1 - p ** q) / q`` of the true class's probability (integer labels).

    Args:
        q: in (0, 1): near cross-entropy as q -> 0, near mean absolute error as q -> 1.

    >>> loss = CategoricalGeneralizedCrossEntropy(q=0.5)
    >>> round(float(loss([0, 1], [[0.64, 0.36], [0.19, 0.81]])), 4)
    0.3
    """

    _config_keys = ("q",)

    def __init__(self, q=0.5, reduction=_SUM, name="categorical_generalized_cross_entropy",
                 dtype=None):
        if not 0 < q < 1:
            raise ValueError(f"q must be in the interval (0, 1). Received: q={q}")
        super().__init__(F.categorical_generalized_cross_entropy, reduction, name, dtype, q=q)


class Dice(_Wrapped):
    """Dice loss ``1 - 2 * |y_true * y_pred| / (|y_true| + |y_pred|)`` over ``axis``.

    Args:
        axis: the axes summed over (default: all, one value for the batch).

    >>> float(Dice()([[1.0, 0.0]], [[1.0, 0.0]])) < 1e-6
    True
    """

    _config_keys = ("axis",)

    def __init__(self, reduction=_SUM, name="dice", axis=None, dtype=None):
        super().__init__(F.dice, reduction, name, dtype, axis=axis)


class Tversky(_Wrapped):
    """Tversky loss ``1 - tp / (tp + alpha * fp + beta * fn)`` with soft counts.

    Args:
        alpha: weight of the false positives (default 0.5).
        beta: weight of the false negatives (default 0.5).
        axis: the axes summed over (default: all).

    >>> round(float(Tversky()([[1.0, 0.0]], [[0.5, 0.5]])), 4)
    0.5
    """

    _config_keys = ("alpha", "beta", "axis")

    def __init__(self, alpha=0.5, beta=0.5, reduction=_SUM, name="tversky", axis=None,
                 dtype=None):
        super().__init__(F.tversky, reduction, name, dtype, alpha=alpha, beta=beta, axis=axis)


class Circle(_Wrapped):
    """Circle loss on L2-normalised embeddings with integer labels (Sun et al., 2020).

    Args:
        gamma: the scale (default 80.0).
        margin: the relaxation margin (default 0.4).
        remove_diagonal: leave each sample out of its own positives.

    >>> loss = Circle()
    """

    _config_keys = ("gamma", "margin", "remove_diagonal")

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True, reduction=_SUM,
                 name="circle", dtype=None):
        super().__init__(F.circle, reduction, name, dtype, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)


class CTC(_Wrapped):
    """Connectionist Temporal Classification loss: labels padded with 0 (the blank), logits
    of shape ``(batch, frames, num_classes)``.

    >>> loss = CTC()
    """

    def __init__(self, reduction=_SUM, name="ctc", dtype=None):
        super().__init__(F.ctc, reduction, name, dtype)


CLASSES = (BinaryFocalCrossentropy, CategoricalFocalCrossentropy,
           CategoricalGeneralizedCrossEntropy, Dice, Tversky, Circle, CTC)
