"""kerasish's tensor engine: tensors and reverse-mode autodiff over NumPy (CPU) or CuPy (GPU).

It stands alone: nothing here imports kerasish, applications or another framework.
"""
from . import backend, gradcheck, jit, ops, random
from .autograd import Function, enable_grad, grad, is_grad_enabled, no_grad
from .tensor import Tensor

__all__ = ["Tensor", "Function", "no_grad", "enable_grad", "is_grad_enabled", "grad", "ops",
           "backend", "gradcheck", "jit", "random"]
