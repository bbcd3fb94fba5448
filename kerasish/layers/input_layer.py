"""InputLayer and Input(): the entry points of a functional graph."""
from __future__ import annotations


from ..symbolic import KerasTensor, Node, is_string_dtype
from .layer import Layer


class InputLayer(Layer):
    """The layer behind ``Input()``: owns the graph's input KerasTensor."""

    _accepts_strings = True

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, optional=False, name=None, ragged=False, **kwargs):
        kwargs.pop("input_shape", None)
        if ragged:
            raise ValueError(f"Ragged inputs are not supported by kerasish. Received: "
                             f"ragged={ragged}")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        # NOTE: a string input has no dtype policy; its batches stay NumPy object arrays.
        self._string_input = is_string_dtype(dtype)
        super().__init__(name=name, dtype=None if self._string_input else dtype, **kwargs)
        if shape is not None and batch_shape is not None:
            raise ValueError("You cannot pass both `shape` and `batch_shape` at the same time. "
                             f"Received: shape={shape}, batch_shape={batch_shape}")
        if batch_shape is None:
            if shape is None:
                raise ValueError("You must pass a `shape` argument to Input.")
            shape = (shape,) if isinstance(shape, int) else tuple(shape)
            batch_shape = (batch_size,) + shape
        self.batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self.sparse = bool(sparse)
        self.optional = optional
        self.built = True
        if input_tensor is None:
            input_tensor = KerasTensor(self.batch_shape, dtype=self.dtype, name=self.name)
        self._input_tensor = input_tensor
        Node(self, (), {}, input_tensor)

    @property
    def dtype(self):
        return "string" if self._string_input else self.dtype_policy.variable_dtype

    @dtype.setter
    def dtype(self, value):
        self.dtype_policy = value

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return self.batch_shape

    @property
    def output(self):
        return self._input_tensor

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": self.dtype, "sparse": self.sparse,
                "ragged": False, "name": self.name, "optional": self.optional}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False):
    """A symbolic input of a functional model.

    >>> x = Input(shape=(16,))
    >>> x.shape
    (None, 16)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, name=name, input_tensor=tensor,
                       optional=optional)
    return layer.output
