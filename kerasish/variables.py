"""Variable: a named engine Tensor with a trainable flag (Keras's ``keras.Variable``)."""
from __future__ import annotations

import numpy as np

import engine
from engine import Tensor, backend

from . import config


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
        self.path = path or name
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
        xp = backend.get_array_module(self.data)
        self.data[...] = xp.asarray(backend.to_device(value, self.device), dtype=self.dtype)

    def value(self):
        return self.data

    def __repr__(self):
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"
