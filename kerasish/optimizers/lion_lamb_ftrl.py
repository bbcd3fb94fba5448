"""Lion, Lamb and Ftrl (Keras's ``keras.optimizers.Lion``, ``Lamb``, ``Ftrl``)."""
from __future__ import annotations

from engine import backend

from .. import initializers
from ._gradients import cast
from .base_optimizer import Optimizer


class Lion(Optimizer):
    """Lion (Chen et al., 2023): ``w -= lr * sign(beta_1 * m + (1 - beta_1) * g)``, then
    ``m = beta_2 * m + (1 - beta_2) * g``.

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` or a callable. Defaults to 0.001.
        beta_1: Mixes the gradient into the update's sign. Defaults to 0.9.
        beta_2: Decay rate of the momentum. Defaults to 0.99.
        **kwargs: The base arguments of ``Optimizer`` (weight_decay, clipnorm, name, ...).

    >>> opt = Lion(learning_rate=1e-4)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError("Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
                             f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}.")

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")

    def update_step(self, gradient, variable, learning_rate):
        xp = backend.get_array_module(variable.data)
        lr = cast(learning_rate, variable)
        b1, b2 = cast(self.beta_1, variable), cast(self.beta_2, variable)
        m = self._momentums[self._get_variable_index(variable)].data
        variable.data -= lr * xp.sign(m * b1 + gradient * (1 - b1))
        m[...] = m * b2 + gradient * (1 - b2)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


class Lamb(Optimizer):
    """Lamb (You et al., 2019): Adam's bias-corrected direction, rescaled per weight by the
    trust ratio ``||w|| / ||update||`` (1 when either norm is 0).

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` or a callable. Defaults to 0.001.
        beta_1: Decay rate of the first moment. Defaults to 0.9.
        beta_2: Decay rate of the second moment. Defaults to 0.999.
        epsilon: Added to the root of the second moment. Defaults to 1e-7.
        **kwargs: The base arguments of ``Optimizer``.

    >>> opt = Lamb(learning_rate=1e-3)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])

    def update_step(self, gradient, variable, learning_rate):
        xp = backend.get_array_module(variable.data)
        lr = cast(learning_rate, variable)
        t = cast(self._step() + 1, variable)
        beta_1_power = cast(self.beta_1, variable) ** t
        beta_2_power = cast(self.beta_2, variable) ** t
        i = self._get_variable_index(variable)
        m, v = self._momentums[i].data, self._velocities[i].data
        m += (gradient - m) * cast(1 - self.beta_1, variable)
        v += (gradient * gradient - v) * cast(1 - self.beta_2, variable)
        update = (m / (1 - beta_1_power)) / (xp.sqrt(v / (1 - beta_2_power))
                                             + cast(self.epsilon, variable))
        w_norm = xp.sqrt(xp.sum(variable.data * variable.data))
        g_norm = xp.sqrt(xp.sum(update * update))
        ratio = xp.where(w_norm > 0, xp.where(g_norm > 0, w_norm / g_norm, 1.0), 1.0)
        variable.data -= (ratio * lr * update).astype(variable.dtype, copy=False)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class Ftrl(Optimizer):
    """FTRL-Proximal (McMahan et al., 2013), with L1, L2 and L2-shrinkage terms.

    Per weight: ``n' = n + g**2``; ``z += g + 2 * l2_shrinkage * w - (n'**-p - n**-p) / lr * w``
    (``p`` = ``learning_rate_power``); ``w = (clip(z, -l1, l1) - z) / (n'**-p / lr + 2 * l2)``
    with ``l2 = l2_regularization_strength + beta / (2 * lr)``.

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` or a callable. Defaults to 0.001.
        learning_rate_power: <= 0; how the learning rate falls as ``n`` grows.
        initial_accumulator_value: >= 0; the start of ``n``.
        l1_regularization_strength: >= 0.
        l2_regularization_strength: >= 0.
        l2_shrinkage_regularization_strength: >= 0; an L2 penalty on the gradient side.
        beta: Defaults to 0.0.
        **kwargs: The base arguments of ``Optimizer``.

    >>> opt = Ftrl(learning_rate=0.1, l1_regularization_strength=0.01)
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        for arg, value in (("initial_accumulator_value", initial_accumulator_value),
                           ("l1_regularization_strength", l1_regularization_strength),
                           ("l2_regularization_strength", l2_regularization_strength),
                           ("l2_shrinkage_regularization_strength",
                            l2_shrinkage_regularization_strength)):
            if value < 0.0:
                raise ValueError(f"`{arg}` needs to be positive or zero. Received: "
                                 f"{arg}={value}.")
        if learning_rate_power > 0.0:
            raise ValueError("`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._accumulators, self._linears = self.add_optimizer_variables(
            var_list, ["accumulator", "linear"],
            initializer=[initializers.Constant(self.initial_accumulator_value), "zeros"])

    def update_step(self, gradient, variable, learning_rate):
        xp = backend.get_array_module(variable.data)
        lr = cast(learning_rate, variable)
        i = self._get_variable_index(variable)
        accum, linear, w = self._accumulators[i].data, self._linears[i].data, variable.data
        power = cast(-self.learning_rate_power, variable)
        l1 = cast(self.l1_regularization_strength, variable)
        l2 = cast(self.l2_regularization_strength + self.beta / (2.0 * float(lr)), variable)
        shrink = cast(2 * self.l2_shrinkage_regularization_strength, variable)
        new_accum = accum + gradient * gradient
        linear += gradient + shrink * w - (new_accum ** power - accum ** power) / lr * w
        quadratic = new_accum ** power / lr + 2 * l2
        w[...] = (xp.clip(linear, -l1, l1) - linear) / quadratic
        accum[...] = new_accum

    def get_config(self):
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength":
                    self.l2_shrinkage_regularization_strength,
                "beta": self.beta}
