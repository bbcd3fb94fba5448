"""The functional graph's pieces: KerasTensor (a symbolic shape + dtype) and Node."""
from __future__ import annotations

import numpy as np

from . import utils


class KerasTensor:
    """A placeholder for a tensor in a functional graph: shape (None = unknown) and dtype.

    ``_keras_history`` is ``(layer, node_index, tensor_index)``: which call of which layer
    produced it.
    """

    def __init__(self, shape, dtype="float32", name=None, history=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype).name
        self.name = name or utils.unique_name("keras_tensor")
        self._keras_history = history

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def _unsupported(self, *args, **kwargs):
        raise TypeError(
            "A KerasTensor is a symbolic placeholder of a functional model and holds no value; "
            "use a layer (e.g. layers.Add(), layers.Lambda) to combine it. "
            f"Received: {self!r}"
        )

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _unsupported
    __truediv__ = __matmul__ = __getitem__ = __array__ = _unsupported
    __bool__ = _unsupported

    __hash__ = object.__hash__


class Node:
    """One call of a layer inside a functional graph.

    Attributes:
        layer: the layer that was called.
        args, kwargs: the call's arguments, KerasTensors kept in place.
        input_tensors: the KerasTensors among ``args``/``kwargs`` (flattened, in order).
        outputs: the KerasTensors the call returned (flattened).
    """

    def __init__(self, layer, args, kwargs, outputs):
        self.layer = layer
        self.args = args
        self.kwargs = kwargs
        self.input_tensors = [t for t in utils.flatten((args, kwargs)) if is_keras_tensor(t)]
        self.outputs = list(utils.flatten(outputs))
        self.is_input = not self.input_tensors and layer.__class__.__name__ == "InputLayer"
        index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for i, t in enumerate(self.outputs):
            t._keras_history = (layer, index, i)

    @property
    def parent_nodes(self):
        parents = []
        for t in self.input_tensors:
            layer, node_index, _ = t._keras_history
            parents.append(layer._inbound_nodes[node_index])
        return parents

    def fill_in(self, values):
        """The call's args and kwargs with each KerasTensor replaced by ``values[id(t)]``."""

        def swap(x):
            return values[id(x)] if is_keras_tensor(x) else x

        return utils.map_structure(swap, self.args), utils.map_structure(swap, self.kwargs)


def is_keras_tensor(x) -> bool:
    return isinstance(x, KerasTensor)
