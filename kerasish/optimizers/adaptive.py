"""Per-coordinate adaptive optimizers: RMSprop, Adagrad, Adadelta."""
from __future__ import annotations

import numpy as np

from engine import backend

from .. import initializers
from ._gradients import cast
from .base_optimizer import Optimizer


def _rmsprop_update(xp, w, g, velocity, average, momentum, lr, rho, one_minus_rho, epsilon,
                    momentum_rate):
    # RMSprop.update_step's NumPy arithmetic, op for op; `average` and `momentum` are None when
    # not centered / without momentum (each case is its own fused kernel).
    xp.add(rho * velocity, one_minus_rho * xp.square(g), out=velocity)
    if average is not None:
        xp.add(rho * average, one_minus_rho * g, out=average)
        denominator = velocity - xp.square(average) + epsilon
    else:
        denominator = velocity + epsilon
    increment = lr * g / xp.sqrt(denominator)
    if momentum is not None:
        xp.add(momentum_rate * momentum, increment, out=momentum)
        w -= momentum
    else:
        w -= increment


_rmsprop_step = backend.fuse(_rmsprop_update)


class RMSprop(Optimizer):
    """RMSprop (Keras's ``keras.optimizers.RMSprop``).

    ``v = rho * v + (1 - rho) * g**2``; the step is ``lr * g / sqrt(v + epsilon)`` (centered:
    ``sqrt(v - mean_g**2 + epsilon)`` with ``mean_g = rho * mean_g + (1 - rho) * g``), applied
    directly or through plain momentum ``mom = momentum * mom + step; w -= mom``.

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` or a callable. Defaults to 0.001.
        rho: Discounting factor of the squared-gradient average. Defaults to 0.9.
        momentum: Defaults to 0.0 (no momentum slots).
        epsilon: Defaults to 1e-7.
        centered: Normalize by the estimated variance instead of the second moment.
        **kwargs: The base arguments of ``Optimizer``.

    >>> opt = RMSprop(learning_rate=0.01, momentum=0.9)
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        # NOTE: Keras creates each kind for all weights before the next kind (not interleaved).
        self._velocities = self.add_optimizer_variables(var_list, "velocity")
        self._momentums = []
        if self.momentum > 0:
            self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._average_gradients = []
        if self.centered:
            self._average_gradients = self.add_optimizer_variables(var_list, "average_gradient")

    def update_step(self, gradient, variable, learning_rate):
        xp = backend.get_array_module(variable.data)
        lr = cast(learning_rate, variable)
        i = self._get_variable_index(variable)
        rho = self.rho
        velocity = self._velocities[i].data
        if xp is not np:  # one fused kernel per variable (scalars in its dtype)
            f = variable.dtype.type
            average = self._average_gradients[i].data if self.centered else None
            momentum = self._momentums[i].data if self.momentum > 0 else None
            _rmsprop_step(variable.data, gradient, velocity, average, momentum, lr, f(rho),
                          f(1 - rho), f(self.epsilon), f(self.momentum))
            return
        velocity[...] = rho * velocity + (1 - rho) * xp.square(gradient)
        if self.centered:
            average = self._average_gradients[i].data
            average[...] = rho * average + (1 - rho) * gradient
            denominator = velocity - xp.square(average) + self.epsilon
        else:
            denominator = velocity + self.epsilon
        increment = lr * gradient / xp.sqrt(denominator)
        if self.momentum > 0:
            momentum = self._momentums[i].data
            momentum[...] = self.momentum * momentum + increment
            variable.data -= momentum
        else:
            variable.data -= increment

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                       "centered": self.centered})
        return config


class Adagrad(Optimizer):
    """Adagrad (Keras's ``keras.optimizers.Adagrad``).

    ``acc += g**2`` (``acc`` starts at ``initial_accumulator_value``) and
    ``w -= lr * g / sqrt(acc + epsilon)``.

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` or a callable. Defaults to 0.001.
        initial_accumulator_value: Starting value of the accumulators. Defaults to 0.1.
        epsilon: Defaults to 1e-7.
        **kwargs: The base arguments of ``Optimizer``.

    >>> opt = Adagrad(learning_rate=0.1)
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators = self.add_optimizer_variables(
            var_list, "accumulator",
            initializer=initializers.Constant(self.initial_accumulator_value))

    def update_step(self, gradient, variable, learning_rate):
        xp = backend.get_array_module(variable.data)
        lr = cast(learning_rate, variable)
        accumulator = self._accumulators[self._get_variable_index(variable)].data
        accumulator += xp.square(gradient)
        variable.data -= lr * gradient / xp.sqrt(accumulator + self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value,
                       "epsilon": self.epsilon})
        return config


class Adadelta(Optimizer):
    """Adadelta (Keras's ``keras.optimizers.Adadelta``).

    ``acc_g = rho * acc_g + (1 - rho) * g**2``,
    ``delta = -sqrt(acc_d + epsilon) * g / sqrt(acc_g + epsilon)``,
    ``acc_d = rho * acc_d + (1 - rho) * delta**2`` and ``w += lr * delta``.

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` or a callable. Defaults to 0.001.
        rho: The decay rate. Defaults to 0.95.
        epsilon: Defaults to 1e-7.
        **kwargs: The base arguments of ``Optimizer``.

    >>> opt = Adadelta(learning_rate=1.0)
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulated_grads, self._accumulated_delta_vars = self.add_optimizer_variables(
            var_list, ["accumulated_grad", "accumulated_delta_var"])

    def update_step(self, gradient, variable, learning_rate):
        xp = backend.get_array_module(variable.data)
        lr = cast(learning_rate, variable)
        i = self._get_variable_index(variable)
        rho = self.rho
        acc_grad = self._accumulated_grads[i].data
        acc_delta = self._accumulated_delta_vars[i].data
        acc_grad[...] = rho * acc_grad + (1 - rho) * xp.square(gradient)
        delta = -(xp.sqrt(acc_delta + self.epsilon) * gradient) / xp.sqrt(acc_grad + self.epsilon)
        acc_delta[...] = rho * acc_delta + (1 - rho) * xp.square(delta)
        variable.data += lr * delta

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
