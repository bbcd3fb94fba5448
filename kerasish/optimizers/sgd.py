"""Gradient descent with optional (Nesterov) momentum."""
from __future__ import annotations

import numpy as np

from engine import backend

from ._gradients import cast, in_chunks
from .base_optimizer import Optimizer


def _sgd_update(xp, w, g, lr):
    # The arithmetic of SGD.update_step's NumPy loops, op for op.
    w -= g * lr


def _momentum_update(xp, w, g, m, lr, momentum):
    m *= momentum
    m -= g * lr
    w += m


def _nesterov_update(xp, w, g, m, lr, momentum):
    m *= momentum
    step = g * lr
    m -= step
    w += m * momentum - step


_sgd_step = backend.fuse(_sgd_update)
_momentum_step = backend.fuse(_momentum_update)
_nesterov_step = backend.fuse(_nesterov_update)


class SGD(Optimizer):
    """Gradient descent (with momentum) optimizer (Keras's ``keras.optimizers.SGD``).

    ``w -= lr * g`` without momentum; otherwise ``velocity = momentum * velocity - lr * g`` and
    ``w += velocity`` (Nesterov: ``w += momentum * velocity - lr * g``).

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` or a callable. Defaults to 0.01.
        momentum: Float in [0, 1]. Defaults to 0.0 (no momentum slots are created).
        nesterov: Whether to apply Nesterov momentum.
        **kwargs: The base arguments of ``Optimizer`` (weight_decay, clipnorm, name, ...).

    >>> import numpy as np
    >>> from kerasish.variables import Variable
    >>> w = Variable(np.ones(2), name="w")
    >>> SGD(learning_rate=0.5).apply([np.ones(2)], [w])
    >>> w.numpy()
    array([0.5, 0.5], dtype=float32)
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        if not isinstance(momentum, float) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = momentum
        self.nesterov = nesterov

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = []
        if self.momentum != 0:
            self.momentums = self.add_optimizer_variables(variables, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        xp = backend.get_array_module(variable.data)
        lr = cast(learning_rate, variable)
        if xp is not np:  # one fused kernel per variable (scalars in its dtype)
            self._fused_update_step(gradient, variable, lr)
            return
        if self.momentum == 0:
            for (w, g), (t,) in in_chunks(variable.data, gradient):
                w -= xp.multiply(g, lr, out=t)
            return
        m = self.momentums[self._get_variable_index(variable)].data
        momentum = cast(self.momentum, variable)
        for (w, g, m_), (t, t2) in in_chunks(variable.data, gradient, m, scratch=2):
            m_ *= momentum  # m = m * momentum - g * lr
            m_ -= xp.multiply(g, lr, out=t)
            if self.nesterov:  # w += m * momentum - g * lr
                w += xp.subtract(xp.multiply(m_, momentum, out=t2), t, out=t2)
            else:
                w += m_

    def _fused_update_step(self, gradient, variable, lr):
        if self.momentum == 0:
            _sgd_step(variable.data, gradient, lr)
            return
        m = self.momentums[self._get_variable_index(variable)].data
        step = _nesterov_step if self.nesterov else _momentum_step
        step(variable.data, gradient, m, lr, cast(self.momentum, variable))

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
