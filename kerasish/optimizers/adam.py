"""The Adam family: Adam (and AMSGrad), AdamW, Adamax, Nadam."""
from __future__ import annotations

import numpy as np

from engine import backend

from ..config import floatx
from ._gradients import cast, in_chunks
from .base_optimizer import Optimizer


def _adam_update(xp, w, g, m, v, alpha, b1, b2, eps):
    # The arithmetic of Adam.update_step's NumPy loop, op for op.
    m += (g - m) * b1
    v += (xp.square(g) - v) * b2
    w -= (m * alpha) / (xp.sqrt(v) + eps)


def _amsgrad_update(xp, w, g, m, v, v_hat, alpha, b1, b2, eps):
    m += (g - m) * b1
    v += (xp.square(g) - v) * b2
    xp.maximum(v_hat, v, out=v_hat)
    w -= (m * alpha) / (xp.sqrt(v_hat) + eps)


_adam_step = backend.fuse(_adam_update)
_amsgrad_step = backend.fuse(_amsgrad_update)


class Adam(Optimizer):
    """Adam (Keras's ``keras.optimizers.Adam``).

    With ``t`` the 1-based step: ``m += (g - m) * (1 - beta_1)``,
    ``v += (g**2 - v) * (1 - beta_2)``, ``lr_t = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)`` and
    ``w -= lr_t * m / (sqrt(v) + epsilon)``. AMSGrad uses ``max`` over all past ``v`` instead.

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` or a callable. Defaults to 0.001.
        beta_1: Decay rate of the first moment. Defaults to 0.9.
        beta_2: Decay rate of the second moment. Defaults to 0.999.
        epsilon: Added to ``sqrt(v)`` ("epsilon hat" of the paper). Defaults to 1e-7.
        amsgrad: Whether to apply the AMSGrad variant.
        **kwargs: The base arguments of ``Optimizer`` (weight_decay, clipnorm, name, ...).

    >>> opt = Adam(learning_rate=1e-3)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        if self.amsgrad:
            self._velocity_hats = self.add_optimizer_variables(var_list, "velocity_hat")

    def update_step(self, gradient, variable, learning_rate):
        xp = backend.get_array_module(variable.data)
        lr = cast(learning_rate, variable)
        t = cast(self._step() + 1, variable)
        beta_1_power = cast(self.beta_1, variable) ** t
        beta_2_power = cast(self.beta_2, variable) ** t
        alpha = lr * np.sqrt(1 - beta_2_power) / (1 - beta_1_power)
        i = self._get_variable_index(variable)
        arrays = [variable.data, gradient, self._momentums[i].data, self._velocities[i].data]
        if self.amsgrad:
            arrays.append(self._velocity_hats[i].data)
        b1, b2, eps = 1 - self.beta_1, 1 - self.beta_2, self.epsilon
        if xp is not np:  # one fused kernel instead of ~11 launches (scalars in w's dtype)
            step = _amsgrad_step if self.amsgrad else _adam_step
            f = variable.dtype.type
            step(*arrays, alpha, f(b1), f(b2), f(eps))
            return
        # NOTE: in place and in chunks (in_chunks), the same arithmetic as
        # m += (g - m) * b1; v += (g**2 - v) * b2; w -= (m * alpha) / (sqrt(v) + eps).
        for (w, g, m, v, *v_hat), (t, t2) in in_chunks(*arrays, scratch=2):
            xp.subtract(g, m, out=t)
            t *= b1
            m += t
            xp.square(g, out=t)
            t -= v
            t *= b2
            v += t
            if v_hat:
                xp.maximum(v_hat[0], v, out=v_hat[0])
                v = v_hat[0]
            xp.sqrt(v, out=t)
            t += eps
            xp.multiply(m, alpha, out=t2)
            t2 /= t
            w -= t2

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "amsgrad": self.amsgrad})
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras's ``keras.optimizers.AdamW``).

    Before each Adam step, ``w -= w * weight_decay * lr`` for every variable not excluded with
    ``exclude_from_weight_decay``.

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` or a callable. Defaults to 0.001.
        weight_decay: Float. Defaults to 0.004.
        **kwargs: Adam's arguments and the base arguments of ``Optimizer``.

    >>> opt = AdamW(weight_decay=0.01)
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)
        if self.weight_decay is None:
            raise ValueError(
                "Argument `weight_decay` must be a float. Received: weight_decay=None")


class Adamax(Optimizer):
    """Adamax, Adam with the infinity norm (Keras's ``keras.optimizers.Adamax``).

    ``m += (g - m) * (1 - beta_1)``, ``u = max(beta_2 * u, |g|)`` and
    ``w -= lr * m / ((1 - beta_1**t) * (u + epsilon))``.

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` or a callable. Defaults to 0.001.
        beta_1: Decay rate of the first moment. Defaults to 0.9.
        beta_2: Decay rate of the infinity norm. Defaults to 0.999.
        epsilon: Added to ``u``. Defaults to 1e-7.
        **kwargs: The base arguments of ``Optimizer``.

    >>> opt = Adamax(learning_rate=2e-3)
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
        self._m, self._u = self.add_optimizer_variables(var_list, ["momentum", "norm"])

    def update_step(self, gradient, variable, learning_rate):
        xp = backend.get_array_module(variable.data)
        lr = cast(learning_rate, variable)
        beta_1_power = cast(self.beta_1, variable) ** cast(self._step() + 1, variable)
        i = self._get_variable_index(variable)
        m, u = self._m[i].data, self._u[i].data
        m += (gradient - m) * (1 - self.beta_1)
        xp.maximum(self.beta_2 * u, xp.abs(gradient), out=u)
        variable.data -= (lr * m) / ((1 - beta_1_power) * (u + self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config


class Nadam(Optimizer):
    """Nadam, Adam with Nesterov momentum (Keras's ``keras.optimizers.Nadam``).

    Keeps Keras's momentum schedule ``u_t = beta_1 * (1 - 0.5 * 0.96**t)`` and its running
    product in one extra scalar variable, created after the slots.

    Args:
        learning_rate: A float, a ``LearningRateSchedule`` or a callable. Defaults to 0.001.
        beta_1: Decay rate of the first moment. Defaults to 0.9.
        beta_2: Decay rate of the second moment. Defaults to 0.999.
        epsilon: Added to ``sqrt(v_hat)``. Defaults to 1e-7.
        **kwargs: The base arguments of ``Optimizer``.

    >>> opt = Nadam()
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        var_list = list(var_list)
        dtype = var_list[0].dtype if var_list else np.dtype(floatx())
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"])
        # NOTE: a host scalar like `iteration`: it only enters Python-side scalar math.
        self._u_product = self._track(np.ones((), dtype), "u_product")

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        u = self._u_product
        f = u.dtype.type
        u.data[...] = f(u.data) * f(self.beta_1) * (1 - f(0.5) * f(0.96) ** f(self._step() + 1))
        super()._backend_update_step(grads, trainable_variables, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        xp = backend.get_array_module(variable.data)
        f = variable.dtype.type
        lr = f(learning_rate)
        beta_1, beta_2 = f(self.beta_1), f(self.beta_2)
        t = f(self._step() + 1)
        u_t = beta_1 * (1 - f(0.5) * f(0.96) ** t)
        u_t_1 = beta_1 * (1 - f(0.5) * f(0.96) ** (t + 1))
        u_product_t = f(self._u_product.data)
        u_product_t_1 = u_product_t * u_t_1
        beta_2_power = beta_2 ** t
        i = self._get_variable_index(variable)
        m, v = self._momentums[i].data, self._velocities[i].data
        m += (gradient - m) * (1 - beta_1)
        v += (xp.square(gradient) - v) * (1 - beta_2)
        m_hat = u_t_1 * m / (1 - u_product_t_1) + (1 - u_t) * gradient / (1 - u_product_t)
        v_hat = v / (1 - beta_2_power)
        variable.data -= (m_hat * lr) / (xp.sqrt(v_hat) + self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
