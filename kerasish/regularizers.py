"""Weight regularizers (l1, l2, l1_l2): penalties added to the loss."""
from __future__ import annotations

import math

import numpy as np

from engine import ops

from . import config


class Regularizer:
    def __call__(self, x):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        penalty = 0.0
        if self.l1:
            penalty = ops.multiply(ops.sum(ops.absolute(x)), self.l1)
        if self.l2:
            penalty = ops.add(penalty, ops.multiply(ops.sum(ops.square(x)), self.l2))
        return penalty

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a rank-2 weight towards orthogonality: the penalty is
    ``factor * 0.5 * mean |cos(angle)|`` over the distinct pairs of L2-normalized rows.

    Args:
        factor: Non-negative float, the weight of the penalty.
        mode: ``"rows"`` or ``"columns"``: which vectors should be orthogonal.

    >>> Dense(4, kernel_regularizer=OrthogonalRegularizer(0.1, mode="columns"))
    """

    def __init__(self, factor=0.01, mode="rows"):
        if not isinstance(factor, (float, int)) or math.isinf(factor) or math.isnan(factor) \
                or factor < 0:
            raise ValueError("Invalid value for argument factor: expected a non-negative "
                             f"float.Received: factor={factor}")
        if mode not in ("rows", "columns"):
            raise ValueError("Invalid value for argument `mode`. Expected one of "
                             f'{{"rows", "columns"}}. Received: mode={mode}')
        self.factor, self.mode = float(factor), mode

    def __call__(self, inputs):
        if len(inputs.shape) != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. Received: "
                             f"inputs.shape={tuple(inputs.shape)}")
        axis = 1 if self.mode == "rows" else 0
        norms = ops.sqrt(ops.sum(ops.square(inputs), axis=axis, keepdims=True))
        x = ops.divide(inputs, ops.maximum(norms, config.epsilon()))
        if self.mode == "rows":
            product = ops.matmul(x, ops.transpose(x))
        else:
            product = ops.matmul(ops.transpose(x), x)
        size = inputs.shape[1 - axis]
        off_diagonal = ops.multiply(product, 1.0 - np.eye(size, dtype=product.dtype))
        num_pairs = size * (size - 1.0) / 2.0
        return ops.multiply(ops.sum(ops.absolute(off_diagonal)), self.factor * 0.5 / num_pairs)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


def l1_l2(l1=0.01, l2=0.01):
    return L1L2(l1, l2)


l1, l2, orthogonal_regularizer = L1, L2, OrthogonalRegularizer
_ALIASES = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2,
            "OrthogonalRegularizer": OrthogonalRegularizer,
            "orthogonal_regularizer": OrthogonalRegularizer, "Regularizer": Regularizer,
            "regularizer": Regularizer}


def get(identifier):
    if identifier is None or isinstance(identifier, Regularizer) or callable(identifier) and \
            not isinstance(identifier, type):
        return identifier
    if isinstance(identifier, dict):
        cls = _ALIASES.get(identifier.get("class_name"))
        if cls is not None:
            return cls.from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return identifier()
    if isinstance(identifier, str) and identifier in _ALIASES:
        return _ALIASES[identifier]()
    raise ValueError(f"Could not interpret regularizer identifier: {identifier}")


def deserialize(config, custom_objects=None):
    """A regularizer from its ``serialize`` dict (``{"class_name": "L2", "config": ...}``)."""
    if isinstance(config, str):
        config = {"class_name": config, "config": {}}
    class_name = config.get("class_name")
    cls = (custom_objects or {}).get(class_name) or _ALIASES.get(class_name)
    if cls is None:
        raise ValueError(f"Could not interpret regularizer identifier: {config}")
    return cls.from_config(dict(config.get("config") or {}))


def serialize(regularizer):
    if regularizer is None:
        return None
    return {"module": "keras.regularizers", "class_name": type(regularizer).__name__,
            "config": regularizer.get_config(), "registered_name": None}
