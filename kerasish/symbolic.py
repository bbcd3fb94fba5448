"""The functional graph's pieces: KerasTensor (a symbolic shape + dtype) and Node."""
from __future__ import annotations

import numpy as np

from . import utils


class KerasTensor:
    """A placeholder for a tensor in a functional graph: shape (None = unknown) and dtype.

    ``_keras_history`` is ``(layer, node_index, tensor_index)``: which call of which layer
    produced it. Python operators (``+ - * / // % ** @``, comparisons but ``==``, ``& | ^ ~``,
    ``abs``, ``round``, indexing) record the matching ``keras.ops`` call, as in Keras 3:

    >>> x = Input((3,))
    >>> (x[:, :1] * 2 + 1).shape
    (None, 1)
    """

    def __init__(self, shape, dtype="float32", name=None, history=None, sparse=False):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        # NOTE: strings are not NumPy dtypes of a fixed width; Keras calls them all "string".
        self.dtype = "string" if is_string_dtype(dtype) else np.dtype(dtype).name
        self.sparse = bool(sparse)  # a SparseBatch at run time (docs/sparse.md)
        self.name = name or utils.unique_name("keras_tensor")
        self._keras_history = history

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def reshape(self, newshape):
        return _ops().reshape(self, newshape)

    def squeeze(self, axis=None):
        return _ops().squeeze(self, axis)

    # NOTE: a KerasTensor has no value, so conversions refuse as Keras's do. `==` stays
    # identity (Keras defines no __eq__), so `x in list_of_tensors` and dict keys keep working;
    # the other comparisons and arithmetic record `keras.ops` nodes in the functional graph.
    def _no_value(self, *args, **kwargs):
        raise ValueError(
            "A KerasTensor is symbolic: it's a placeholder for a shape and a dtype. It doesn't "
            "have any actual numerical value; use it as input to a layer or a `keras.ops` "
            f"function. Received: {self!r}"
        )

    __int__ = __float__ = __array__ = _no_value
    __array_ufunc__ = None  # NumPy defers to our reflected operators (np_array + x)

    def __bool__(self):
        raise TypeError(f"A symbolic KerasTensor cannot be used as a boolean. Received: {self!r}")

    def __iter__(self):
        raise NotImplementedError("Iterating over a symbolic KerasTensor is not supported.")

    def __getitem__(self, key):
        return _ops().get_item(self, key)

    def __round__(self, ndigits=None):
        return _ops().round(self, decimals=ndigits or 0)

    __hash__ = object.__hash__


def is_string_dtype(dtype) -> bool:
    """Whether ``dtype`` names strings: "string", ``str``/``bytes``, or a NumPy str, bytes or
    object dtype (string batches are NumPy object arrays, docs/sparse.md)."""
    if isinstance(dtype, str) and dtype == "string":
        return True
    try:
        return np.dtype(dtype).kind in "USO"
    except TypeError:
        return False


def _ops():
    from . import ops  # NOTE: lazy: kerasish.ops builds on this module

    return ops


def _operator(op_name, reflected=False):
    def method(self, other):
        op = getattr(_ops(), op_name)
        return op(other, self) if reflected else op(self, other)

    method.__name__ = op_name
    return method


for _dunder, _op_name in [("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                          ("matmul", "matmul"), ("truediv", "true_divide"), ("div", "divide"),
                          ("pow", "power"), ("floordiv", "floor_divide"), ("mod", "mod"),
                          ("and", "logical_and"), ("or", "logical_or"),
                          ("xor", "logical_xor")]:
    setattr(KerasTensor, f"__{_dunder}__", _operator(_op_name))
    setattr(KerasTensor, f"__r{_dunder}__", _operator(_op_name, reflected=True))
for _dunder, _op_name in [("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
                          ("ge", "greater_equal"), ("ne", "not_equal")]:
    setattr(KerasTensor, f"__{_dunder}__", _operator(_op_name))
KerasTensor.__neg__ = lambda self: _ops().negative(self)
KerasTensor.__abs__ = lambda self: _ops().absolute(self)
KerasTensor.__invert__ = lambda self: _ops().logical_not(self)


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
