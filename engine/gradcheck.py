"""Gradient checks: analytic gradients against central finite differences, in float64.

Along random directions (JAX's ``check_grads``, Chainer's ``gradient_check``): one directional
derivative per input costs two forward passes, cheap enough for conv on two cores.
"""
from __future__ import annotations

import numpy as np

from . import autograd, backend
from .tensor import Tensor


class GradientCheckError(AssertionError):
    """Raised when an analytic gradient disagrees with finite differences."""


def _name(fn):
    return getattr(fn, "__name__", None) or type(fn).__name__


def check_grad(fn, *inputs, eps=1e-6, atol=1e-6, rtol=1e-4, n_directions=2, seed=0):
    """Checks the gradients of ``fn`` at ``inputs`` along random directions.

    Args:
        fn: takes one Tensor per input and returns a Tensor.
        *inputs: arrays (NumPy or CuPy). Floating inputs are cast to float64 and checked;
            integer or boolean inputs are passed through as constants.
        eps: finite-difference step.
        atol, rtol: tolerance on each directional derivative.
        n_directions: random directions per input.
        seed: seed of the directions and of the output weighting.

    Raises:
        GradientCheckError: naming the op, the input index and the error, when they differ.
    """
    xp = backend.get_array_module(*[a for a in inputs if hasattr(a, "dtype")])
    arrays = [xp.asarray(a) for a in inputs]
    arrays = [a.astype(np.float64) if a.dtype.kind == "f" else a for a in arrays]
    diff = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    rng = np.random.default_rng(seed)

    def run(values, requires_grad=False):
        ts = [Tensor(v, requires_grad=requires_grad and i in diff) for i, v in enumerate(values)]
        return ts, fn(*ts)

    tensors, y = run(arrays, requires_grad=True)
    if y.data.dtype != np.float64:
        raise GradientCheckError(f"{_name(fn)}: float64 inputs gave a {y.data.dtype} output")
    # A random weighting of the outputs turns the check into one of a scalar.
    w = xp.asarray(rng.standard_normal(y.shape))
    grads = autograd.grad(y, [tensors[i] for i in diff], grad_outputs=w)

    def weighted(values):
        with autograd.no_grad():
            return float((run(values)[1].data * w).sum())

    worst = []
    for g, i in zip(grads, diff):
        for _ in range(n_directions):
            d = xp.asarray(rng.standard_normal(arrays[i].shape))
            plus, minus = list(arrays), list(arrays)
            plus[i], minus[i] = arrays[i] + eps * d, arrays[i] - eps * d
            numeric = (weighted(plus) - weighted(minus)) / (2 * eps)
            analytic = float((g.data * d).sum())
            err = abs(numeric - analytic)
            worst.append(err)
            if err > atol + rtol * abs(numeric):
                raise GradientCheckError(
                    f"{_name(fn)}: gradient of input {i} (shape {arrays[i].shape}) disagrees "
                    f"with finite differences: analytic {analytic:.8g}, numeric {numeric:.8g}, "
                    f"max error {err:.3g} (atol={atol}, rtol={rtol})"
                )
    return max(worst, default=0.0)
