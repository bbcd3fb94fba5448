"""Keras 3's ``keras.Operation`` (a stateless computation usable in functional graphs) and
``keras.Function`` (a graph of operations from inputs to outputs, called like a function)."""
from __future__ import annotations

from . import utils
from .symbolic import KerasTensor


class Operation:
    """Base class of a stateless computation: subclass it with ``call`` (on real tensors) and
    ``compute_output_spec`` (the output ``KerasTensor``(s) from the input ones, by arithmetic).

    Called with a ``KerasTensor`` among its arguments, it computes nothing and records a node of
    the functional graph; otherwise it runs ``call``.

    >>> class Double(Operation):
    ...     def call(self, x):
    ...         return x * 2
    ...     def compute_output_spec(self, x):
    ...         return KerasTensor(x.shape, x.dtype)
    >>> y = Double()(keras.Input((3,)))   # a KerasTensor of shape (None, 3)
    """

    def __init__(self, name=None):
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError("Argument `name` must be a string and cannot contain character "
                             f"`/`. Received: name={name} (of type {type(name)})")
        self.name = name or utils.unique_name(utils.to_snake_case(type(self).__name__))

    def __call__(self, *args, **kwargs):
        from .ops._symbolic import OpLayer, _template

        template, tensors = _template(args, kwargs)
        if not tensors:
            return self.call(*args, **kwargs)
        node = OpLayer(self.call, self.compute_output_spec, template, _tensors=tensors,
                       name=utils.unique_name(self.name))
        return node(tensors)

    def call(self, *args, **kwargs):
        raise NotImplementedError(f"Operation {type(self).__name__} must implement `call()`.")

    def compute_output_spec(self, *args, **kwargs):
        raise NotImplementedError(
            f"Operation {type(self).__name__} must implement `compute_output_spec()` to be "
            "called on KerasTensors (kerasish infers shapes by arithmetic, never by running "
            "`call` on placeholder data).")

    def symbolic_call(self, *args, **kwargs):
        """``compute_output_spec`` recorded as a graph node (what ``__call__`` does on
        KerasTensors)."""
        return self(*args, **kwargs)

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<Operation name={self.name}>"


class Function:
    """A graph of layers and operations from ``inputs`` to ``outputs`` (KerasTensors), run as a
    function on real tensors; the graph half of a functional ``Model``, without weights
    tracking or training.

    Args:
        inputs: KerasTensor(s) (from ``keras.Input``), nested as the call will pass them.
        outputs: KerasTensor(s) computed from ``inputs``.
        name: Optional name.

    >>> x = keras.Input((2,))
    >>> fn = Function(x, keras.layers.ReLU()(x))
    >>> fn(np.array([[-1.0, 2.0]], "float32"))   # [[0., 2.]]
    """

    def __init__(self, inputs, outputs, name=None):
        from .models import Functional

        self._model = Functional(inputs, outputs, name=name or utils.unique_name("function"))
        self.name = self._model.name
        self._inputs_struct = inputs
        self._outputs_struct = outputs

    @property
    def inputs(self):
        return utils.flatten(self._inputs_struct)

    @property
    def outputs(self):
        return utils.flatten(self._outputs_struct)

    @property
    def operations(self):
        return list(self._model.layers)

    def __call__(self, inputs, training=None, mask=None):
        return self.call(inputs, training=training, mask=mask)

    def call(self, inputs, training=None, mask=None):
        kwargs = {} if mask is None else {"mask": mask}
        return self._model(inputs, training=training, **kwargs)

    def compute_output_spec(self, inputs):
        return self._model.compute_output_spec(inputs)

    def __repr__(self):
        return f"<Function name={self.name}>"


__all__ = ["Function", "KerasTensor", "Operation"]
