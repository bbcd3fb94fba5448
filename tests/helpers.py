"""Test harnesses shared by the test modules.

``OpCase`` drives the op tests: a table of cases per family, each run forward against a
plain-NumPy (or closed-form) reference in float32 and gradient-checked in float64. The tables
are also what ``test_ops_coverage`` reads to prove that every public op has a gradient test.
"""
from __future__ import annotations

import dataclasses
from typing import Callable, Optional, Sequence

import numpy as np

from engine import Tensor, backend
from engine.gradcheck import check_grad


@dataclasses.dataclass
class OpCase:
    """One op under one set of inputs.

    Attributes:
        name: the public name in ``engine.ops`` this case covers.
        fn: takes one Tensor per input and returns a Tensor (may close over parameters).
        inputs: NumPy arrays; floating ones are differentiated, integer/bool ones are not.
        expected: the reference, a function of the float64 NumPy inputs.
        grad: False for ops without a gradient (comparisons, argmax, one_hot).
        label: distinguishes several cases of one op (e.g. "broadcast", "keepdims").
        atol, rtol: forward tolerances in float32.
        grad_atol, grad_rtol: gradient-check tolerances in float64.
        grad_inputs: indices of the inputs to check (default: all floating ones).
    """

    name: str
    fn: Callable
    inputs: Sequence[np.ndarray]
    expected: Optional[Callable] = None
    grad: bool = True
    label: str = ""
    atol: float = 1e-5
    rtol: float = 1e-5
    grad_atol: float = 1e-6
    grad_rtol: float = 1e-4
    eps: float = 1e-6

    @property
    def id(self):
        return f"{self.name}-{self.label}" if self.label else self.name


def case_ids(cases):
    return [c.id for c in cases]


def _to_xp(xp, a, float_dtype):
    a = np.asarray(a)
    if a.dtype.kind == "f":
        a = a.astype(float_dtype)
    return xp.asarray(a)


def run_forward(case: OpCase, xp):
    """Runs ``case.fn`` on float32 inputs and compares with ``case.expected`` (float64 NumPy)."""
    inputs = [Tensor(_to_xp(xp, a, np.float32)) for a in case.inputs]
    y = case.fn(*inputs)
    assert isinstance(y, Tensor), f"{case.id}: returned {type(y).__name__}, not a Tensor"
    assert backend.get_array_module(y.data) is xp, f"{case.id}: output left the device"
    has_float = any(np.asarray(a).dtype.kind == "f" for a in case.inputs)
    if has_float and y.dtype.kind == "f":
        assert y.dtype == np.float32, f"{case.id}: float32 inputs gave a {y.dtype} output"
    if case.expected is not None:
        ref_inputs = [np.asarray(a, dtype=np.float64) if np.asarray(a).dtype.kind == "f"
                      else np.asarray(a) for a in case.inputs]
        expected = np.asarray(case.expected(*ref_inputs))
        got = y.numpy()
        assert got.shape == expected.shape, f"{case.id}: shape {got.shape} != {expected.shape}"
        np.testing.assert_allclose(got, expected, atol=case.atol, rtol=case.rtol,
                                   err_msg=case.id)
    return y


def run_grad(case: OpCase, xp):
    """Gradient-checks ``case.fn`` in float64 along random directions."""
    inputs = [_to_xp(xp, a, np.float64) for a in case.inputs]
    check_grad(case.fn, *inputs, eps=case.eps, atol=case.grad_atol, rtol=case.grad_rtol)


def run_grad_dtype(case: OpCase, xp):
    """In float32 the gradients come back float32 with the inputs' shapes."""
    import engine

    inputs = [Tensor(_to_xp(xp, a, np.float32), requires_grad=np.asarray(a).dtype.kind == "f")
              for a in case.inputs]
    y = case.fn(*inputs)
    diff = [t for t in inputs if t.requires_grad]
    grads = engine.grad(y, diff, grad_outputs=xp.ones(y.shape, dtype=y.dtype))
    for t, g in zip(diff, grads):
        assert g.dtype == np.float32 and g.shape == t.shape, case.id


def rng(seed=0):
    return np.random.default_rng(seed)


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def positive(*shape, seed=0, low=0.5, high=2.0):
    return np.random.default_rng(seed).uniform(low, high, shape)
