"""Variable: a named engine Tensor with a trainable flag (Keras's ``keras.Variable``)."""
from __future__ import annotations

import numpy as np

import engine
from engine import Tensor, backend

from . import config, scopes


def _array(value, like):
    """``value`` as an array on ``like``'s device, broadcastable to it."""
    value = value.data if isinstance(value, Tensor) else value
    xp = backend.get_array_module(like)
    return xp.asarray(backend.to_device(value, backend.device_of(like)), dtype=like.dtype)


class Variable(Tensor):
    """A weight: an engine Tensor that optimizers update in place.

    >>> v = Variable(np.zeros((2, 3)), name="kernel")
    >>> v.assign(np.ones((2, 3)))
    """

    __slots__ = ("_trainable", "path", "regularizer", "constraint")

    def __init__(self, initial_value, name=None, trainable=True, dtype=None, path=None):
        array = backend.to_device(initial_value, config.device())
        array = array.astype(dtype or config.floatx(), copy=False)
        super().__init__(array, requires_grad=trainable, name=name)
        self._trainable = bool(trainable)
        prefix = scopes.current_path()  # keras.name_scope
        self.path = path or (f"{prefix}/{name}" if prefix and name else name)
        self.regularizer = None
        self.constraint = None

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        # NOTE: a frozen weight records no graph, so backward skips it entirely.
        self._trainable = bool(value)
        self.requires_grad = self._trainable

    def assign(self, value):
        """Replaces the value in place; the shape must match."""
        engine.jit.record_assign(self, value)
        value = value.data if isinstance(value, Tensor) else value
        shape = tuple(np.shape(value))
        if shape != self.shape:
            raise ValueError(
                "The shape of the target variable and the shape of the target value in "
                "`variable.assign(value)` must match. "
                f"variable.shape={self.shape}, Received: value.shape={shape}. "
                f"Target variable: <Variable path={self.path}, shape={self.shape}>"
            )
        if scopes.in_stateless_scope():  # only the scope's copy changes (keras.StatelessScope)
            scopes.get_stateless_scope().own(self)
        xp = backend.get_array_module(self.data)
        self.data[...] = xp.asarray(backend.to_device(value, self.device), dtype=self.dtype)
        return self

    def assign_add(self, value):
        """Adds ``value`` in place (Keras's ``variable.assign_add``); returns the variable.

        >>> v.assign_add(np.ones(v.shape))
        """
        return self.assign(self.data + _array(value, self.data))

    def assign_sub(self, value):
        """Subtracts ``value`` in place (Keras's ``variable.assign_sub``); returns the variable."""
        return self.assign(self.data - _array(value, self.data))

    @property
    def value(self):
        """The variable as a tensor of the engine (itself: ops on it are differentiable)."""
        return self

    def __repr__(self):
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"
