"""LossScaleOptimizer (Keras's ``keras.optimizers.LossScaleOptimizer``): dynamic loss scaling
for float16 training."""
from __future__ import annotations

import numpy as np

from engine import backend

from ._gradients import raw
from .base_optimizer import Optimizer

_BASE_DEFAULTS = {"weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                  "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
                  "ema_overwrite_frequency": None, "loss_scale_factor": None,
                  "gradient_accumulation_steps": None}


class LossScaleOptimizer(Optimizer):
    """Wraps an optimizer: the loss is multiplied by a dynamic scale before the backward pass
    (so small float16 gradients do not underflow), the gradients are divided by it again, and
    the inner optimizer steps. A step with an inf or NaN gradient is skipped and halves the
    scale; ``dynamic_growth_steps`` finite steps in a row double it.

    Args:
        inner_optimizer: The optimizer that updates the weights.
        initial_scale: The first scale. Defaults to ``2**15``.
        dynamic_growth_steps: Finite steps between two doublings. Defaults to 2000.
        name: The optimizer's name.

    >>> opt = LossScaleOptimizer(kerasish.optimizers.SGD(0.1))
    """

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000,
                 name=None, **kwargs):
        if not kwargs.pop("dynamic", True):
            raise ValueError("LossScaleOptimizer no longer supports `dynamic=False`. Instead, "
                             "simply set `loss_scale_factor` directly on the "
                             "`inner_optimizer`.")
        for arg, default in _BASE_DEFAULTS.items():
            if arg in kwargs and kwargs.pop(arg) != default:
                raise ValueError(f"LossScaleOptimizer does not support `{arg}`. Instead, set "
                                 f"`{arg}` on the `inner_optimizer`.")
        if kwargs:
            raise ValueError("LossScaleOptimizer does not support arguments: "
                             f"`{'`, `'.join(kwargs.keys())}`.")
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = initial_scale
        self.dynamic_growth_steps = dynamic_growth_steps
        self.inner_optimizer.loss_scale_factor = None

    def build(self, var_list):
        # NOTE: Keras's order: its own iteration and learning_rate (unused), step_counter,
        # dynamic_scale, then the inner optimizer's variables.
        self.step_counter = self._track(np.zeros((), np.int64), "step_counter")
        self.dynamic_scale = self._track(np.asarray(self.initial_scale, np.float32),
                                         "dynamic_scale")
        self.inner_optimizer.build(var_list)
        super().build(var_list)

    @property
    def variables(self):
        return self._variables + self.inner_optimizer.variables

    def apply(self, grads, trainable_variables=None):
        grads = list(grads)
        if not self.built:
            self.build(trainable_variables if trainable_variables is not None
                       else self.inner_optimizer._trainable_variables)
        if self.check_finite(grads):
            scale = float(self.dynamic_scale.data)
            self.inner_optimizer.apply([None if g is None else raw(g) / scale for g in grads],
                                       trainable_variables)
            if int(self.step_counter.data) == self.dynamic_growth_steps - 1:
                self.step_counter.data[...] = 0
                self.dynamic_scale.data[...] = scale * 2.0
            else:
                self.step_counter.data += 1
        else:
            self.step_counter.data[...] = 0
            self.dynamic_scale.data[...] = float(self.dynamic_scale.data) * 0.5

    def check_finite(self, grads):
        """Whether every gradient (None skipped) is finite."""
        for g in grads:
            if g is None:
                continue
            g = raw(g)
            xp = backend.get_array_module(g)
            if not bool(xp.all(xp.isfinite(g))):
                return False
        return True

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        if hasattr(self, "inner_optimizer"):
            self.inner_optimizer.learning_rate = learning_rate

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    def scale_loss(self, loss):
        """The loss times the current scale (the initial one before the first step)."""
        from engine import ops

        scale = float(self.dynamic_scale.data) if self.built else self.initial_scale
        return ops.multiply(loss, scale)

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        from . import serialize

        return {"name": self.name, "inner_optimizer": serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from . import deserialize

        config = dict(config)
        inner = deserialize(config.pop("inner_optimizer"), custom_objects=custom_objects)
        return cls(inner, **config)
