"""Loss classes: each wraps one loss function with its keyword arguments (Keras 3's classes)."""
from __future__ import annotations

from . import functions as F
from .loss import Loss, squeeze_or_expand_to_same_rank

_SUM = "sum_over_batch_size"


def serialize_function(fn):
    """A loss function's config, as Keras writes it."""
    return {"module": "keras.losses", "class_name": "function", "config": fn.__name__,
            "registered_name": fn.__name__}


def deserialize_function(config):
    name = config["config"] if isinstance(config, dict) else config
    from .functions_extra import FUNCTIONS as EXTRA

    fn = F.ALIASES.get(name) or \
        next((f for f in F.FUNCTIONS + EXTRA if f.__name__ == name), None)
    if fn is None:
        raise ValueError(f"Could not interpret loss function identifier: {name}")
    return fn


class LossFunctionWrapper(Loss):
    """A Loss from a function ``fn(y_true, y_pred, **kwargs)`` of per-sample values.

    >>> loss = LossFunctionWrapper(F.mean_absolute_error, name="mae")
    >>> float(loss([[0.0, 1.0]], [[1.0, 1.0]]))
    0.5
    """

    def __init__(self, fn, reduction=_SUM, name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        return {**super().get_config(), "fn": serialize_function(self.fn), **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            config["fn"] = deserialize_function(config["fn"])
        return cls(**config)

    def __repr__(self):
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._fn_kwargs})>"


class _Wrapped(LossFunctionWrapper):
    """A built-in loss class: its config is Loss's plus the names in ``_config_keys``."""

    _config_keys = ()

    def __init__(self, fn, reduction, name, dtype, **kwargs):
        super().__init__(fn, reduction=reduction, name=name, dtype=dtype, **kwargs)
        for key in self._config_keys:
            setattr(self, key, kwargs[key])

    def get_config(self):
        return {**Loss.get_config(self), **{k: getattr(self, k) for k in self._config_keys}}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class MeanSquaredError(_Wrapped):
    """Mean of squared errors: ``mean(square(y_true - y_pred))``.

    >>> float(MeanSquaredError()([[0.0, 1.0]], [[1.0, 1.0]]))
    0.5
    """

    def __init__(self, reduction=_SUM, name="mean_squared_error", dtype=None):
        super().__init__(F.mean_squared_error, reduction, name, dtype)


class MeanAbsoluteError(_Wrapped):
    """Mean of absolute errors: ``mean(abs(y_true - y_pred))``.

    >>> float(MeanAbsoluteError()([[0.0, 1.0]], [[1.0, 1.0]]))
    0.5
    """

    def __init__(self, reduction=_SUM, name="mean_absolute_error", dtype=None):
        super().__init__(F.mean_absolute_error, reduction, name, dtype)


class MeanAbsolutePercentageError(_Wrapped):
    """``100 * mean(abs((y_true - y_pred) / y_true))``.

    >>> float(MeanAbsolutePercentageError()([[2.0, 4.0]], [[1.0, 4.0]]))
    25.0
    """

    def __init__(self, reduction=_SUM, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(F.mean_absolute_percentage_error, reduction, name, dtype)


class MeanSquaredLogarithmicError(_Wrapped):
    """``mean(square(log(y_true + 1) - log(y_pred + 1)))``.

    >>> loss = MeanSquaredLogarithmicError()
    """

    def __init__(self, reduction=_SUM, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(F.mean_squared_logarithmic_error, reduction, name, dtype)


class CosineSimilarity(_Wrapped):
    """``-sum(l2_norm(y_true) * l2_norm(y_pred), axis)``: -1 for the same direction.

    Unlike Keras (whose config drops it), ``axis`` is in the config so that it round-trips.

    >>> float(CosineSimilarity()([[0.0, 2.0]], [[0.0, 3.0]]))
    -1.0
    """

    _config_keys = ("axis",)

    def __init__(self, axis=-1, reduction=_SUM, name="cosine_similarity", dtype=None):
        super().__init__(F.cosine_similarity, reduction, name, dtype, axis=axis)


class Huber(_Wrapped):
    """Quadratic for ``|error| <= delta``, linear beyond.

    Unlike Keras (whose config drops it), ``delta`` is in the config so that it round-trips.

    >>> float(Huber(delta=1.0)([[0.0]], [[3.0]]))
    2.5
    """

    _config_keys = ("delta",)

    def __init__(self, delta=1.0, reduction=_SUM, name="huber_loss", dtype=None):
        super().__init__(F.huber, reduction, name, dtype, delta=delta)


class LogCosh(_Wrapped):
    """``mean(log(cosh(y_pred - y_true)))``.

    >>> float(LogCosh()([[0.0]], [[0.0]]))
    0.0
    """

    def __init__(self, reduction=_SUM, name="log_cosh", dtype=None):
        super().__init__(F.log_cosh, reduction, name, dtype)


class KLDivergence(_Wrapped):
    """``sum(y_true * log(y_true / y_pred))`` over the last axis.

    >>> float(KLDivergence()([[0.5, 0.5]], [[0.5, 0.5]]))
    0.0
    """

    def __init__(self, reduction=_SUM, name="kl_divergence", dtype=None):
        super().__init__(F.kl_divergence, reduction, name, dtype)


class Poisson(_Wrapped):
    """``mean(y_pred - y_true * log(y_pred))``.

    >>> loss = Poisson()
    """

    def __init__(self, reduction=_SUM, name="poisson", dtype=None):
        super().__init__(F.poisson, reduction, name, dtype)


class Hinge(_Wrapped):
    """``mean(maximum(1 - y_true * y_pred, 0))`` with labels -1/1 (0/1 are converted).

    >>> float(Hinge()([[1.0, 0.0]], [[0.5, -2.0]]))
    0.25
    """

    def __init__(self, reduction=_SUM, name="hinge", dtype=None):
        super().__init__(F.hinge, reduction, name, dtype)


class SquaredHinge(_Wrapped):
    """``mean(square(maximum(1 - y_true * y_pred, 0)))`` with labels -1/1 (or 0/1).

    >>> float(SquaredHinge()([[1.0, 0.0]], [[0.5, -2.0]]))
    0.125
    """

    def __init__(self, reduction=_SUM, name="squared_hinge", dtype=None):
        super().__init__(F.squared_hinge, reduction, name, dtype)


class CategoricalHinge(_Wrapped):
    """``maximum(max((1 - y_true) * y_pred) - sum(y_true * y_pred) + 1, 0)``.

    >>> float(CategoricalHinge()([[0.0, 1.0]], [[0.3, 0.8]]))
    0.5
    """

    def __init__(self, reduction=_SUM, name="categorical_hinge", dtype=None):
        super().__init__(F.categorical_hinge, reduction, name, dtype)


class BinaryCrossentropy(_Wrapped):
    """Binary cross-entropy, averaged over the last axis.

    Args:
        from_logits: whether ``y_pred`` holds logits (recommended) or probabilities.
        label_smoothing: in [0, 1]; labels are squeezed towards 0.5.
        axis: the axis the per-sample mean is taken over.

    >>> loss = BinaryCrossentropy(from_logits=True)
    >>> round(float(loss([[0.0, 1.0]], [[-18.6, 0.51]])), 3)
    0.235
    """

    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=_SUM,
                 name="binary_crossentropy", dtype=None):
        super().__init__(F.binary_crossentropy, reduction, name, dtype, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(_Wrapped):
    """Cross-entropy between one-hot labels and class probabilities (or logits).

    >>> loss = CategoricalCrossentropy()
    >>> round(float(loss([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])), 3)
    1.177
    """

    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1, reduction=_SUM,
                 name="categorical_crossentropy", dtype=None):
        super().__init__(F.categorical_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(_Wrapped):
    """Cross-entropy between integer labels and class probabilities (or logits).

    >>> loss = SparseCategoricalCrossentropy()
    >>> round(float(loss([1, 2], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])), 3)
    1.177
    """

    _config_keys = ("from_logits", "ignore_class")

    def __init__(self, from_logits=False, ignore_class=None, reduction=_SUM,
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(F.sparse_categorical_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, ignore_class=ignore_class)


CLASSES = (LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError,
           MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity, Huber,
           LogCosh, KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge,
           BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy)
