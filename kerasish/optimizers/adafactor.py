"""Adafactor and ScheduleFreeAdamW (Keras's ``keras.optimizers.Adafactor``,
``ScheduleFreeAdamW``)."""
from __future__ import annotations

import numpy as np

from engine import backend

from ._gradients import cast
from .base_optimizer import Optimizer


class Adafactor(Optimizer):
    """Adafactor (Shazeer & Stern, 2018): the second moment of a matrix is kept as its row and
    column means only (``r``, ``c``), and the step is relative to the weight's RMS.

    With ``t`` the 1-based step: ``rho = min(lr, 1 / sqrt(t))``,
    ``alpha = max(epsilon_2, rms(w)) * rho``, ``beta_2 = 1 - t**beta_2_decay``; for a weight of
    rank >= 2, ``r`` and ``c`` average ``g**2 + epsilon_1`` over the last and second-to-last axes
    and ``v = (r / mean(r))[..., None] * c[..., None, :]``; otherwise ``v`` averages it whole.
    Then ``u = g / sqrt(v)``, ``w -= alpha * u / max(1, rms(u) / clip_threshold)``.

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` or a callable. Defaults to 0.001.
        beta_2_decay: Defaults to -0.8.
        epsilon_1: Added to the squared gradient. Defaults to 1e-30.
        epsilon_2: The smallest weight RMS the step scales with. Defaults to 1e-3.
        clip_threshold: Bound on the RMS of the update. Defaults to 1.0.
        relative_step: Whether the step is capped by ``1 / sqrt(t)`` (always so, as in Keras).
        **kwargs: The base arguments of ``Optimizer``.

    >>> opt = Adafactor(learning_rate=1e-2)
    """

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30, epsilon_2=1e-3,
                 clip_threshold=1.0, relative_step=True, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        # NOTE: Keras's order, weight by weight: r, c (named as the weight; unused scalars for a
        # weight of rank < 2), then the velocity.
        self._r, self._c, self._v = [], [], []
        for var in var_list:
            shape = tuple(var.shape)
            factored = len(shape) >= 2
            r_shape = shape[:-1] if factored else ()
            c_shape = shape[:-2] + shape[-1:] if factored else ()
            self._r.append(self._factored_slot(var, r_shape))
            self._c.append(self._factored_slot(var, c_shape))
            self._v.append(self.add_variable_from_reference(var, "velocity"))

    def _factored_slot(self, var, shape):
        """A row or column statistic, on the weight's device (as the reference slots are)."""
        slot = self.add_variable(shape, dtype=var.dtype, name=var.name)
        slot.data = backend.to_device(slot.data, var.device)
        return slot

    def update_step(self, gradient, variable, learning_rate):
        xp = backend.get_array_module(variable.data)
        t = float(self._step() + 1)
        rho = cast(min(float(learning_rate), 1 / np.sqrt(t)), variable)
        w = variable.data
        alpha = xp.maximum(cast(self.epsilon_2, variable), xp.sqrt(xp.mean(w * w))) * rho
        grad_square = gradient * gradient + cast(self.epsilon_1, variable)
        # NOTE: a Python float holding the float32 value: CuPy takes no NumPy scalar operand
        beta_2 = float(cast(1 - t ** self.beta_2_decay, variable))
        i = self._get_variable_index(variable)
        v = self._v[i].data
        if w.ndim >= 2:
            r, c = self._r[i].data, self._c[i].data
            r[...] = beta_2 * r + (1 - beta_2) * xp.mean(grad_square, axis=-1)
            c[...] = beta_2 * c + (1 - beta_2) * xp.mean(grad_square, axis=-2)
            v[...] = (r / xp.mean(r, axis=-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v[...] = beta_2 * v + (1 - beta_2) * grad_square
        u = gradient / xp.sqrt(v)
        u_hat = u / xp.maximum(cast(1.0, variable),
                               xp.sqrt(xp.mean(u * u)) / cast(self.clip_threshold, variable))
        w -= (alpha * u_hat).astype(w.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "beta_2_decay": self.beta_2_decay,
                "epsilon_1": self.epsilon_1, "epsilon_2": self.epsilon_2,
                "clip_threshold": self.clip_threshold, "relative_step": self.relative_step}


class ScheduleFreeAdamW(Optimizer):
    """Schedule-free AdamW (Defazio et al., 2024): no learning-rate schedule; the weights hold
    ``y = (1 - beta_1) * z + beta_1 * x``, where ``z`` (the ``momentum`` slot) takes Adam-scaled
    gradient steps and ``x`` is the running average of the ``z``s.

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` or a callable. Defaults to 0.0025.
        beta_1: Interpolation between ``z`` and ``x``. Defaults to 0.9.
        beta_2: Decay rate of the second moment. Defaults to 0.999.
        epsilon: Added to the root of the second moment. Defaults to 1e-8.
        warmup_steps: Steps over which the learning rate rises linearly. Defaults to 0.
        **kwargs: The base arguments of ``Optimizer``.

    >>> opt = ScheduleFreeAdamW(learning_rate=1e-3, warmup_steps=100)
    """

    def __init__(self, learning_rate=0.0025, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 warmup_steps=0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.warmup_steps = warmup_steps

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        for momentum, var in zip(self._momentums, var_list):
            momentum.data[...] = var.data

    def update_step(self, gradient, variable, learning_rate):
        xp = backend.get_array_module(variable.data)
        t = cast(self._step() + 1, variable)
        lr = cast(learning_rate, variable)
        if self.warmup_steps > 0:
            lr = lr * min(t / cast(self.warmup_steps, variable), cast(1.0, variable))
        b1, b2 = cast(self.beta_1, variable), cast(self.beta_2, variable)
        i = self._get_variable_index(variable)
        z, v = self._momentums[i].data, self._velocities[i].data
        z_old = z.copy()
        v += (gradient * gradient - v) * (1 - b2)
        z -= lr * gradient / (xp.sqrt(v / (1 - b2 ** t)) + cast(self.epsilon, variable))
        weight = 1 / t
        x_old = (variable.data - (1 - b1) * z_old) / b1
        x_new = (1 - weight) * x_old + weight * z
        variable.data[...] = (1 - b1) * z + b1 * x_new

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "warmup_steps": self.warmup_steps}
