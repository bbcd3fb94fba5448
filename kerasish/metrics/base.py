"""Metric base class and the reductions Mean, Sum and MeanMetricWrapper (Keras 3's metrics).

A metric's state lives in non-trainable kerasish Variables (so checkpoints save and restore it
with ``assign``); updates are plain xp array math on ``variable.data``, outside autodiff.
"""
from __future__ import annotations

import numpy as np

from engine import Tensor, backend, no_grad

from .. import config, initializers, losses, utils
from ..losses.loss import apply_mask, squeeze_or_expand_to_same_rank, to_array
from ..variables import Variable


def divide_no_nan(xp, a, b):
    """a / b, and 0 where b == 0, without warnings."""
    zero = b == 0
    return xp.where(zero, 0, a / xp.where(zero, 1, b))


def to_result(array):
    """A Python float for a scalar result, a NumPy array otherwise."""
    array = backend.to_numpy(array)
    return float(array) if array.ndim == 0 else array


class Metric:
    """Base class of stateful metrics: ``update_state`` accumulates, ``result`` reads.

    Subclasses create their state with ``add_variable`` in ``__init__``.

    Args:
        dtype: the dtype of the state and result (default: floatx).
        name: the metric's name (default: the class name in snake case).

    >>> class Count(Metric):
    ...     def __init__(self, name="count"):
    ...         super().__init__(name=name)
    ...         self.n = self.add_variable((), "zeros", name="n")
    ...     def update_state(self, values):
    ...         self.n.data += len(values)
    ...     def result(self):
    ...         return float(self.n.data)
    """

    def __init__(self, dtype=None, name=None):
        self.name = name or utils.unique_name(utils.to_snake_case(type(self).__name__))
        self._dtype = str(np.dtype(dtype or config.floatx()))
        self._variables = []
        self._metrics = []  # metrics held as attributes: their state is part of this one's

    @property
    def dtype(self):
        return self._dtype

    @property
    def variables(self):
        """The state, as non-trainable Variables (what a checkpoint saves and restores): this
        metric's own, then those of the metrics it holds as attributes (Keras's tracking)."""
        variables = list(self._variables)
        for metric in self._metrics:
            variables.extend(metric.variables)
        return variables

    def __setattr__(self, name, value):
        # NOTE: like Keras's Tracker: a Metric or a Variable set as an attribute after
        # super().__init__() becomes part of the state (once, however many names it has).
        tracked = self.__dict__.get("_metrics") if isinstance(value, Metric) else \
            self.__dict__.get("_variables") if isinstance(value, Variable) else None
        if tracked is not None and not any(value is t for t in tracked):
            tracked.append(value)
        super().__setattr__(name, value)

    @property
    def _device(self):
        return self._variables[0].device if self._variables else config.device()

    def add_variable(self, shape, initializer, dtype=None, aggregation="sum", name=None):
        if not hasattr(self, "_variables"):
            raise RuntimeError("You forgot to call `super().__init__()` in the `__init__()` "
                               "method. Go add it!")
        dtype = dtype or self.dtype
        value = initializers.get(initializer)(tuple(shape), dtype=dtype)
        variable = Variable(value, name=name, trainable=False, dtype=dtype,
                            path=f"{self.name}/{name}")
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer=None, dtype=None, name=None):
        return self.add_variable(shape, initializer or "zeros", dtype=dtype, name=name)

    def reset_state(self):
        """Sets every state variable back to zero (called between epochs)."""
        for v in self.variables:
            v.data[...] = 0

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def _device_result(self):
        """The scalar result as an array on the device, where ``result`` is the base class's
        (so the trainer reads every metric in one host copy); None: call ``result``."""
        return None

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def reduce_to_samplewise_values(xp, values, sample_weight, reduce):
    """Keras's rule: values reduced to the weights' rank, weighted, then to one per sample.

    Returns the per-sample (weighted) values and the per-sample weights (or None).
    """
    if sample_weight is not None:
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        w_ndim, v_ndim = sample_weight.ndim, values.ndim
        if v_ndim > w_ndim:
            values = reduce(values, axis=tuple(range(w_ndim, v_ndim)))
        sample_weight = xp.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if w_ndim > 1:
            sample_weight = reduce(sample_weight, axis=tuple(range(1, w_ndim)))
    if values.ndim > 1:
        values = reduce(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values seen.

    >>> m = Sum()
    >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> m.result()
    4.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", name="total")

    def update_state(self, values, sample_weight=None):
        values = to_array(values, self._device, self.dtype)
        if sample_weight is not None:
            sample_weight = to_array(sample_weight, self._device, self.dtype)
        xp = backend.get_array_module(values)
        values, _ = reduce_to_samplewise_values(xp, values, sample_weight, xp.sum)
        self.total.data += values.sum()

    def result(self):
        return to_result(self.total.data)

    def _device_result(self):
        return self.total.data if type(self).result is Sum.result else None


class Mean(Metric):
    """The (weighted) mean of the values seen: ``total / count``.

    >>> m = Mean()
    >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    >>> m.result()
    2.0
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable((), "zeros", name="total")
        self.count = self.add_variable((), "zeros", name="count")

    def update_state(self, values, sample_weight=None):
        values = to_array(values, self._device, self.dtype)
        xp = backend.get_array_module(values)
        if values.ndim == 0 and isinstance(sample_weight, (int, float)):
            # The fast path the trainer takes for a batch loss weighted by the batch size.
            self.total.data += values * sample_weight
            self.count.data += sample_weight
            return
        if sample_weight is not None:
            sample_weight = to_array(sample_weight, self._device, self.dtype)
        values, sample_weight = reduce_to_samplewise_values(xp, values, sample_weight, xp.mean)
        self.total.data += values.sum()
        if sample_weight is not None:
            self.count.data += sample_weight.sum()
        else:
            self.count.data += values.shape[0] if values.ndim >= 1 else 1

    def result(self):
        return to_result(self._mean())

    def _mean(self):
        xp = backend.get_array_module(self.total.data)
        return divide_no_nan(xp, self.total.data, self.count.data)

    def _device_result(self):
        return self._mean() if type(self).result is Mean.result else None


class MeanMetricWrapper(Mean):
    """The mean of a function's per-sample values, ``fn(y_true, y_pred, **kwargs)``.

    ``fn`` receives raw xp arrays (or may use engine ops on them) and runs without autodiff.

    >>> def abs_error(y_true, y_pred):
    ...     return abs(y_true - y_pred)
    >>> m = MeanMetricWrapper(abs_error, name="abs_error")
    >>> m([1.0, 2.0], [1.5, 2.5])
    0.5
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if fn in losses.ALL_OBJECTS or type(fn) in losses.ALL_OBJECTS:
            self._direction = "down"  # a loss, to be minimised

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = y_pred._keras_mask if isinstance(y_pred, Tensor) else None
        logits = y_pred._keras_logits if isinstance(y_pred, Tensor) else None
        y_true, y_pred = to_array(y_true, self._device), to_array(y_pred, self._device)
        if logits is not None:  # a softmax/sigmoid output: cross-entropies use its logits
            y_pred = Tensor._wrap(y_pred)
            y_pred._keras_logits = Tensor._wrap(to_array(logits, self._device))
        with no_grad():
            values = to_array(self._fn(y_true, y_pred, **self._fn_kwargs), self._device)
        if sample_weight is not None:
            sample_weight = to_array(sample_weight, self._device, self.dtype)
        sample_weight = apply_mask(sample_weight, mask, self.dtype, reduction="sum")
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        fn = losses.serialize_function(self._fn) if callable(self._fn) else self._fn
        return {**super().get_config(), "fn": fn, **self._fn_kwargs}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("fn"), (dict, str)):
            from . import get_function

            config["fn"] = get_function(config["fn"])
        return cls(**config)
