"""Tensor: an xp array with an optional gradient and the node that produced it."""
from __future__ import annotations

import numbers

import numpy as np

from . import autograd, backend


def _as_array(data, dtype):
    """Array for ``Tensor(data)``: arrays keep their dtype; lists and numbers become float32."""
    if isinstance(data, Tensor):
        data = data.data
    if hasattr(data, "shape") and hasattr(data, "dtype") and not isinstance(data, np.generic):
        return data if dtype is None else data.astype(dtype, copy=False)
    if isinstance(data, np.generic):
        return np.asarray(data, dtype=dtype)
    if dtype is None:
        dtype = np.float32
        if isinstance(data, (bool, np.bool_)):
            dtype = bool
    try:
        return np.asarray(data, dtype=dtype)
    except (TypeError, ValueError) as e:
        raise TypeError(
            f"Tensor() takes an array, a list or a number. Received: type={type(data).__name__}"
        ) from e


class Tensor:
    """A NumPy or CuPy array that records the ops applied to it for reverse-mode autodiff.

    >>> x = Tensor([1.0, 2.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad.numpy()
    array([2., 4.], dtype=float32)
    """

    # ``_keras_mask`` lets a layer API attach a mask to the tensor it returns (Keras's name);
    # ``_keras_logits`` is the input of the softmax/sigmoid that made this tensor, which the
    # cross-entropy ops use instead of the probabilities (Keras's TensorFlow backend).
    __slots__ = ("data", "grad", "_requires_grad", "_node", "name", "_keras_mask", "_keras_logits",
                 "__weakref__")
    __array_ufunc__ = None  # NumPy defers to our reflected dunders (np.float32(2) * t)

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        self.data = _as_array(data, dtype)
        self.grad = None
        self._node = None
        self.name = name
        self._keras_mask = self._keras_logits = None
        self._requires_grad = False
        self.requires_grad = requires_grad

    @classmethod
    def _wrap(cls, array):
        t = cls.__new__(cls)
        t.data, t.grad, t._node, t.name, t._requires_grad = array, None, None, None, False
        t._keras_mask = t._keras_logits = None
        return t

    # -- gradient bookkeeping -------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        if value and self.data.dtype.kind not in "fc":
            raise TypeError(
                "Only floating-point tensors can require gradients. "
                f"Received: dtype={self.data.dtype}"
            )
        self._requires_grad = bool(value)

    def backward(self, grad=None):
        """Accumulates d(self)/d(leaf) into ``leaf.grad`` for every leaf needing a grad."""
        seeds = autograd._seed_grads([self], None if grad is None else [grad])
        for leaf, g in autograd.backprop([self], seeds).values():
            if leaf.grad is None:
                leaf.grad = Tensor._wrap(g.copy())
            else:
                leaf.grad.data += g

    def detach(self) -> "Tensor":
        return Tensor._wrap(self.data)

    # -- array facts ----------------------------------------------------------------------
    @property
    def shape(self):
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self) -> int:
        return int(self.data.size)

    @property
    def device(self) -> str:
        return backend.device_of(self.data)

    def numpy(self) -> np.ndarray:
        return backend.to_numpy(self.data)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor of one element. Received: shape={self.shape}")
        return self.data.reshape(()).item()

    def to(self, device: str) -> "Tensor":
        """A copy on ``device`` ("cpu" or "gpu"); gradients flow back to this tensor."""
        from .ops.shape import to_device

        return to_device(self, device)

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.data.shape[0]

    def __repr__(self):
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.numpy(), separator=", ", threshold=20)
        return f"Tensor({body}, dtype={self.dtype}{grad}, device={self.device!r})"

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        return a if dtype is None else a.astype(dtype)

    def __bool__(self):
        if self.data.size != 1:
            raise ValueError("The truth value of a tensor with more than one element is ambiguous")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    __hash__ = object.__hash__

    # -- methods that call ops ------------------------------------------------------------
    @property
    def T(self):
        from .ops.shape import transpose

        return transpose(self)

    def reshape(self, *shape):
        from .ops.shape import reshape

        if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
            shape = tuple(shape[0])
        return reshape(self, shape)

    def sum(self, axis=None, keepdims=False):
        from .ops.reduction import sum as _sum

        return _sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        from .ops.reduction import mean

        return mean(self, axis=axis, keepdims=keepdims)

    def astype(self, dtype):
        from .ops.shape import cast

        return cast(self, dtype)

    def __getitem__(self, key):
        from .ops.shape import getitem

        return getitem(self, key)


autograd.Tensor = Tensor  # Function.apply's isinstance checks, without an import per call


def _binary(name, reflected=False):
    def method(self, other):
        from . import ops

        fn = getattr(ops, name)
        return fn(other, self) if reflected else fn(self, other)

    method.__name__ = name
    return method


for _dunder, _op in [("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                     ("truediv", "divide"), ("pow", "power"), ("matmul", "matmul")]:
    setattr(Tensor, f"__{_dunder}__", _binary(_op))
    setattr(Tensor, f"__r{_dunder}__", _binary(_op, reflected=True))
for _dunder, _op in [("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
                     ("ge", "greater_equal"), ("eq", "equal"), ("ne", "not_equal")]:
    setattr(Tensor, f"__{_dunder}__", _binary(_op))


def _neg(self):
    from .ops.elementwise import negative

    return negative(self)


def _abs(self):
    from .ops.elementwise import absolute

    return absolute(self)


Tensor.__neg__ = _neg
Tensor.__abs__ = _abs
Tensor.__pos__ = lambda self: self
