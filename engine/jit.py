"""Compiled steps: one traced call of a step function replayed as a static plan (XLA-like).

``value_and_grad(fn, variables)`` returns a step that, per input signature (shapes and
dtypes), runs ``fn`` eagerly once while recording every kernel it launches, checks the
recorded plan against a second eager run (outputs, gradients, in-place assigns and random
draws must be bitwise equal), then replays the plan: kernels in trace order, the backward in
the eager topological order, no layers, graph walk or Tensor objects in between. Anything the
plan cannot reproduce (a value computed outside the ops from the data, say) fails the check,
and that signature stays eager for good. The tracer and the plan are in ``_plan.py``; a plan
runs a conv and the steps that only read its output as one kernel (``_fuse.py``): bitwise the
same in every plan, and, in plans without gradients, batch norms folded in, kept when their
outputs match the checked plan's to float32 rounding.
"""
from __future__ import annotations

import os

import numpy as np

from . import _fuse, backend
from . import random as engine_random
from ._plan import _CONST, _INPUT, _SLOT, _TENSOR, Plan, Untraceable, _Tracer
from ._plan import record_assign  # noqa: F401  (public: kerasish's Variable.assign calls it)
from .autograd import _state, grad
from .tensor import Tensor

MAX_PLANS = 4  # signatures kept per step (full batches, a last partial batch, validation...)
FUSE_ENV = "KERASISH_FUSE"  # "0": plans keep every kernel as traced (no conv fusion)


def _signature(inputs):
    return tuple(None if t is None else (t.data.shape, t.data.dtype.str, backend.device_of(t.data))
                 for t in inputs)


def _same(a, b):
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if hasattr(a, "dtype") and hasattr(a, "shape"):
        a, b = backend.to_numpy(a), backend.to_numpy(b)
        return a.shape == b.shape and a.dtype == b.dtype and \
            np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    return a == b


def _same_constants(plan, other):
    """Two traces (of different batches) launch the same kernels on the same constants."""
    if len(plan.steps) != len(other.steps):
        return False
    for a, b in zip(plan.steps, other.steps):
        if a[0] is not b[0] or len(a[1]) != len(b[1]) or a[2].keys() != b[2].keys():
            return False
        if not all(_same(v, b[2][k]) for k, v in a[2].items() if not k.endswith("_out")):
            return False
        for (kind, p), (kind_b, q) in zip(a[1], b[1]):
            if kind != kind_b or (kind == _SLOT or kind == _INPUT) and p != q:
                return False
            if kind == _TENSOR and p is not q and not _same(p.data, q.data):
                return False
            if kind == _CONST and not _same(p, q):
                return False
    return True


def _close(outputs, reference):
    """A folded plan's outputs against the checked plan's: float32 rounding apart, no more."""
    for a, b in zip(outputs, reference):
        if a is None or b is None:
            if a is not b:
                return False
            continue
        a, b = backend.to_numpy(a), backend.to_numpy(b)
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype.kind != "f":
            if not np.array_equal(a, b):
                return False
        elif not np.allclose(a, b, rtol=1e-3, atol=1e-4 * max(1.0, float(np.abs(b).max(
                initial=0)))):
            return False
    return True


def _state_of(plan):
    """Everything a step may change besides its results: random streams and assigned arrays."""
    generators = list(engine_random._generators.values()) + plan.generators
    return ([g.bit_generator.state for g in generators],
            [t.data.copy() for _, t, _ in plan.assigns])


def _restore(plan, state):
    generators = list(engine_random._generators.values()) + plan.generators
    for g, s in zip(generators, state[0]):
        g.bit_generator.state = s
    for (_, t, _), data in zip(plan.assigns, state[1]):
        t.data[...] = data


class CompiledStep:
    """``step(inputs) -> (outputs, grads)``; ``outputs[0]`` is the scalar loss."""

    def __init__(self, fn, variables=None):
        self.fn = fn
        self.variables = None if variables is None else list(variables)
        self.plans = {}  # signature -> Plan (checked), "unchecked" Plan, or None (stays eager)
        self.replays = 0

    def _eager(self, inputs):
        outputs = self.fn(inputs)
        grads = grad(outputs[0], self.variables) if self.variables else []
        return outputs, [g.data for g in grads]

    def _trace(self, inputs):
        tracer = _Tracer(inputs)
        _state.tracer = tracer
        try:
            outputs = self.fn(inputs)
        finally:
            _state.tracer = None
        try:
            plan = Plan(tracer, outputs, self.variables)
            if os.environ.get(FUSE_ENV, "1") != "0":
                plan = _fuse.fuse(plan)
        except Untraceable:
            plan = None
        grads = grad(outputs[0], self.variables) if self.variables else []
        return outputs, [g.data for g in grads], plan

    def _check(self, plan, inputs):
        """One eager run and one replay from the same state; the plan is kept if they agree
        (the unfused plan is tried when a fused one does not)."""
        try:
            before = _state_of(plan)
        except (AttributeError, TypeError):  # a generator without a readable state
            return None, self._eager(inputs)
        outputs, grads, again = self._trace(inputs)
        after = _state_of(plan)
        unfused = getattr(plan, "unfused", plan)
        if again is None or not _same_constants(unfused, getattr(again, "unfused", again)):
            return None, (outputs, grads)  # a value in the plan came from the data
        arrays = [None if o is None else o.data for o in outputs]
        for candidate in dict.fromkeys([plan, unfused]):
            _restore(plan, before)
            replayed = candidate.run(inputs, self.variables)
            if _same(arrays, replayed[0]) and _same(grads, replayed[1]) and \
                    _same(after, _state_of(plan)):
                return self._folded(candidate, inputs, replayed[0]), \
                    ([None if o is None else Tensor._wrap(o) for o in replayed[0]], replayed[1])
        _restore(plan, after)
        return None, (outputs, grads)

    def _folded(self, plan, inputs, reference):
        """For a plan without gradients, its folded form when its outputs agree."""
        if self.variables is not None or os.environ.get(FUSE_ENV, "1") == "0":
            return plan
        folded = _fuse.fold(plan)
        if folded is plan or folded is getattr(plan, "unfused", None):
            return plan
        return folded if _close(folded.run(inputs)[0], reference) else plan

    def __call__(self, inputs):
        key = _signature(inputs)
        if key not in self.plans:
            if len(self.plans) >= MAX_PLANS:
                self.plans.pop(next(iter(self.plans)))
            outputs, grads, plan = self._trace(inputs)
            self.plans[key] = ("unchecked", plan) if plan is not None else None
            return outputs, grads
        entry = self.plans[key]
        if entry is None:
            return self._eager(inputs)
        if isinstance(entry, tuple):
            plan, result = self._check(entry[1], inputs)
            self.plans[key] = plan
            return result
        self.replays += 1
        outputs, grads = entry.run(inputs, self.variables)
        return [None if o is None else Tensor._wrap(o) for o in outputs], grads


def function(fn):
    """A compiled ``fn(inputs) -> outputs`` (a list of Tensors) with no gradients: what
    ``predict`` runs. Called as ``outputs, _ = compiled(inputs)``."""
    return CompiledStep(fn)


def value_and_grad(fn, variables):
    """A compiled ``fn(inputs) -> [loss, *outputs]`` that also returns d loss / d variables
    (arrays, aligned with ``variables``); see the module docstring."""
    return CompiledStep(fn, variables)
