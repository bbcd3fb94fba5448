"""Muon (Keras's ``keras.optimizers.Muon``): orthogonalized momentum for 2-D weights, AdamW for
the rest."""
from __future__ import annotations

import re

import numpy as np

from engine import backend

from ._gradients import cast
from .base_optimizer import Optimizer


class Muon(Optimizer):
    """Muon (Jordan et al., 2024): a 2-D weight steps along its momentum made (nearly)
    orthogonal by a quintic Newton-Schulz iteration, scaled by ``sqrt(max(n, m)) * rms_rate``
    (Moonlight); other weights (not 2-D, embeddings, ``exclude_layers`` matches) use AdamW.

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` or a callable. Defaults to 0.001.
        adam_beta_1, adam_beta_2: AdamW's moment decay rates.
        adam_weight_decay: The decoupled weight decay of the AdamW weights.
        epsilon: AdamW's epsilon.
        weight_decay: The decoupled weight decay of the Muon weights.
        exclude_layers: Regular expressions; a weight whose path matches one uses AdamW.
        exclude_embeddings: Whether weights with "embedding" in their path use AdamW.
        muon_a, muon_b, muon_c: The Newton-Schulz coefficients.
        adam_lr_ratio: AdamW's learning rate relative to ``learning_rate``.
        momentum: Muon's momentum.
        ns_steps: Newton-Schulz iterations.
        nesterov: Whether to use Nesterov momentum.
        rms_rate: The update-RMS matching factor (None: no scaling).
        **kwargs: The base arguments of ``Optimizer``.

    >>> opt = Muon(learning_rate=0.02)
    """

    def __init__(self, learning_rate=0.001, adam_beta_1=0.9, adam_beta_2=0.999,
                 adam_weight_decay=0.004, epsilon=1e-7, weight_decay=0.004, clipnorm=None,
                 clipvalue=None, global_clipnorm=None, name=None, exclude_layers=None,
                 exclude_embeddings=True, muon_a=3.4445, muon_b=-4.7750, muon_c=2.0315,
                 adam_lr_ratio=1, momentum=0.95, ns_steps=5, nesterov=True, rms_rate=0.2,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, weight_decay=weight_decay,
                         clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm, **kwargs)
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.epsilon = epsilon
        self.muon_a, self.muon_b, self.muon_c = muon_a, muon_b, muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.exclude_embeddings = exclude_embeddings
        self.exclude_layers = exclude_layers or []
        self.adam_weight_decay = adam_weight_decay
        self.rms_rate = rms_rate

    def _should_use_adamw(self, variable):
        if len(variable.shape) != 2:
            return True
        path = variable.path or variable.name or ""
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.momentums = [None] * len(var_list)
        self.adam_velocities = [None] * len(var_list)
        for var in var_list:
            i = self._get_variable_index(var)
            self.momentums[i] = self.add_variable_from_reference(var, "momentum")
            if self._should_use_adamw(var):
                self.adam_velocities[i] = self.add_variable_from_reference(var, "velocity")

    def update_step(self, gradient, variable, learning_rate):
        i = self._get_variable_index(variable)
        m, v = self.momentums[i], self.adam_velocities[i]
        if v is not None:
            self._adamw_update_step(gradient, variable, learning_rate * self.adam_lr_ratio,
                                    m.data, v.data)
        else:
            self._muon_update_step(gradient, variable, learning_rate, m.data)

    def _muon_update_step(self, gradient, variable, lr, m):
        m += gradient + m * cast(self.momentum - 1, variable)
        g = gradient + cast(self.momentum, variable) * m if self.nesterov else m
        update = self.zeropower_via_newtonschulz5(g, self.ns_steps)
        variable.data -= self.lr_adjust(cast(lr, variable) * update).astype(variable.dtype,
                                                                            copy=False)

    def _adamw_update_step(self, gradient, variable, learning_rate, m, v):
        xp = backend.get_array_module(variable.data)
        lr = cast(learning_rate, variable)
        t = cast(self._step() + 1, variable)
        alpha = lr * np.sqrt(1 - cast(self.adam_beta_2, variable) ** t) / (
            1 - cast(self.adam_beta_1, variable) ** t)
        m += (gradient - m) * cast(1 - self.adam_beta_1, variable)
        v += (gradient * gradient - v) * cast(1 - self.adam_beta_2, variable)
        variable.data -= (m * alpha) / (xp.sqrt(v) + cast(self.epsilon, variable))

    @staticmethod
    def transpose_last_axis(x):
        return x.swapaxes(-1, -2)

    def lr_adjust(self, x):
        """Scales a 2-D update by ``sqrt(max(n, m)) * rms_rate`` (none with ``rms_rate=None``)."""
        if self.rms_rate is None:
            return x
        return x * np.sqrt(max(x.shape[0], x.shape[1])) * self.rms_rate

    def zeropower_via_newtonschulz5(self, x, steps):
        """The quintic Newton-Schulz iteration towards the orthogonal factor of ``x``."""
        if x.ndim < 2:
            raise ValueError("Expected gradient or momentum to have at least 2 dimensions. "
                             f"Received: shape={tuple(x.shape)}")
        xp = backend.get_array_module(x)
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = self.transpose_last_axis(x)
        norm = xp.sqrt(xp.sum(x * x, axis=(-2, -1), keepdims=True))
        x = x / (norm + x.dtype.type(1e-7))
        for _ in range(steps):
            temp_a = x @ self.transpose_last_axis(x)
            temp_b = b * temp_a + c * temp_a @ temp_a
            x = a * x + temp_b @ x
        if tall:
            x = self.transpose_last_axis(x)
        return x.astype(x.dtype, copy=False)

    def _apply_weight_decay(self, variables):
        for variable in variables:
            if not self._use_weight_decay(variable):
                continue
            decay = self.adam_weight_decay if self._should_use_adamw(variable) \
                else self.weight_decay
            if decay is None:
                continue
            wd, lr = cast(decay, variable), cast(self.learning_rate, variable)
            variable.data -= variable.data * wd * lr

    def get_config(self):
        return {**super().get_config(), "adam_beta_1": self.adam_beta_1,
                "adam_beta_2": self.adam_beta_2, "epsilon": self.epsilon,
                "exclude_layers": self.exclude_layers, "muon_a": self.muon_a,
                "muon_b": self.muon_b, "muon_c": self.muon_c,
                "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum,
                "ns_steps": self.ns_steps, "nesterov": self.nesterov,
                "exclude_embeddings": self.exclude_embeddings,
                "adam_weight_decay": self.adam_weight_decay, "rms_rate": self.rms_rate}
