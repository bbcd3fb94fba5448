"""Learning-rate schedules (Keras's ``keras.optimizers.schedules``).

A schedule maps the optimizer's step (``iterations``, 0-based) to a learning rate. The math runs
in float32 NumPy scalars, as Keras computes it in float32 tensors; ``__call__`` returns a float.
"""
from __future__ import annotations

import math

import numpy as np

_f = np.float32


def _step_value(step):
    """The step as a float32 scalar (ints, NumPy scalars and 0-d Tensors/Variables)."""
    return _f(float(step))


def _check_decay_steps(value, name="decay_steps"):
    if value <= 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value}")


class LearningRateSchedule:
    """Base class: subclasses define ``__call__(step)`` and ``get_config()``.

    >>> class Halving(LearningRateSchedule):
    ...     def __call__(self, step):
    ...         return 0.1 * 0.5 ** (step // 100)
    ...     def get_config(self):
    ...         return {}
    """

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  "override `__call__(self, step)`.")

    def get_config(self):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must override "
                                  "`get_config()` in order to be serializable.")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class _RateDecay(LearningRateSchedule):
    """What ExponentialDecay and InverseTimeDecay share: arguments, config, the progress."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name or type(self).__name__
        _check_decay_steps(decay_steps)

    def _progress(self, step):
        p = _step_value(step) / _f(self.decay_steps)
        return np.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_RateDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (floored with staircase).

    >>> ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)(20)
    0.02500000037252903
    """

    def __call__(self, step):
        return float(_f(self.initial_learning_rate) * _f(self.decay_rate) ** self._progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` on
    ``(boundaries[i-1], boundaries[i]]``, and ``values[-1]`` after the last boundary.

    >>> PiecewiseConstantDecay([100, 200], [1.0, 0.5, 0.1])(150)
    0.5
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}.")
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        step = float(step)
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(_f(value))
        return float(_f(self.values[-1]))

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end``, the step capped at
    ``decay_steps`` (with ``cycle``, ``decay_steps`` grows to the next multiple instead).

    >>> PolynomialDecay(1.0, decay_steps=10, end_learning_rate=0.0)(5)
    0.5
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name
        _check_decay_steps(decay_steps)

    def __call__(self, step):
        step, decay_steps = _step_value(step), _f(self.decay_steps)
        if self.cycle:
            multiplier = _f(1.0) if step == 0 else np.ceil(step / decay_steps)
            decay_steps = decay_steps * multiplier
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        initial, end = _f(self.initial_learning_rate), _f(self.end_learning_rate)
        return float((initial - end) * (1 - p) ** _f(self.power) + end)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(_RateDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (floored with staircase).

    >>> InverseTimeDecay(1.0, decay_steps=1, decay_rate=1.0)(3)
    0.25
    """

    def __call__(self, step):
        p = self._progress(step)
        return float(_f(self.initial_learning_rate) / (_f(1) + _f(self.decay_rate) * p))


def _cosine(step, decay_steps, alpha, m_fac=1.0):
    cosine = _f(0.5) * _f(m_fac) * (1 + np.cos(_f(math.pi) * (step / decay_steps)))
    return (1 - _f(alpha)) * cosine + _f(alpha)


class CosineDecay(LearningRateSchedule):
    """Cosine decay from ``initial_learning_rate`` (or, after a linear warmup to
    ``warmup_target`` over ``warmup_steps``, from ``warmup_target``) down to ``alpha`` times it.

    >>> round(CosineDecay(1.0, decay_steps=10)(5), 6)
    0.5
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target
        _check_decay_steps(decay_steps)

    def __call__(self, step):
        initial, decay_steps = _f(self.initial_learning_rate), _f(self.decay_steps)
        step = _step_value(step)
        if self.warmup_target is None:
            step = min(step, decay_steps)
            return float(initial * _cosine(step, decay_steps, self.alpha))
        target, warmup_steps = _f(self.warmup_target), _f(self.warmup_steps)
        step = min(step, decay_steps + warmup_steps)
        if step < warmup_steps:
            return float((target - initial) * (step / warmup_steps) + initial)
        return float(target * _cosine(step - warmup_steps, decay_steps, self.alpha))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR): period ``first_decay_steps``, each next period
    ``t_mul`` times longer and its peak ``m_mul`` times lower.

    >>> round(CosineDecayRestarts(1.0, first_decay_steps=10, t_mul=1.0)(15), 6)
    0.5
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name
        _check_decay_steps(first_decay_steps, "first_decay_steps")

    def __call__(self, step):
        fraction = _step_value(step) / _f(self.first_decay_steps)
        t_mul = _f(self._t_mul)
        if t_mul == 1:
            restart = np.floor(fraction)
            fraction = fraction - restart
        else:
            restart = np.floor(np.log(1 - fraction * (1 - t_mul)) / np.log(t_mul))
            sum_r = (1 - t_mul ** restart) / (1 - t_mul)
            fraction = (fraction - sum_r) / t_mul ** restart
        m_fac = _f(self._m_mul) ** restart
        return float(_f(self.initial_learning_rate) * _cosine(fraction, 1, self.alpha, m_fac))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


_SCHEDULES = {cls.__name__: cls for cls in (
    ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay, CosineDecay,
    CosineDecayRestarts)}


def serialize(learning_rate_schedule):
    """A schedule as Keras's ``{"module", "class_name", "config", "registered_name"}`` dict."""
    return {"module": "keras.optimizers.schedules",
            "class_name": type(learning_rate_schedule).__name__,
            "config": learning_rate_schedule.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """A schedule from its ``serialize`` dict (``custom_objects`` maps names to classes)."""
    class_name = config["class_name"]
    cls = (custom_objects or {}).get(class_name) or _SCHEDULES.get(class_name)
    if cls is None:
        raise ValueError(f"Could not interpret decay identifier: {class_name}. "
                         f"Received: config={config}")
    return cls.from_config(dict(config.get("config") or {}))
