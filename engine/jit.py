"""Compiled steps: one traced call of a step function replayed as a static plan (XLA-like).

``value_and_grad(fn, variables)`` returns a step that, per input signature (shapes and
dtypes), runs ``fn`` eagerly once while recording every kernel it launches, checks the
recorded plan against a second eager run (outputs, gradients, in-place assigns and random
draws must be bitwise equal), then replays the plan: kernels in trace order, the backward in
the eager topological order, no layers, graph walk or Tensor objects in between. Anything the
plan cannot reproduce (a value computed outside the ops from the data, say) fails the check,
and that signature stays eager for good.
"""
from __future__ import annotations

import weakref

import numpy as np

from . import backend
from . import random as engine_random
from .autograd import _state, _topological_order, grad
from .tensor import Tensor

_SLOT, _INPUT, _TENSOR, _CONST = range(4)
MAX_PLANS = 4  # signatures kept per step (full batches, a last partial batch, validation...)


class Untraceable(Exception):
    """The traced call did something a plan cannot replay."""


def record_assign(target, value):
    """Tells a running trace that ``target``'s array was overwritten in place by ``value``
    (a variable update inside the step, e.g. batch-norm statistics)."""
    tracer = getattr(_state, "tracer", None)
    if tracer is not None:
        tracer.assign(target, value)


def _holds(fn, y):
    """Whether an op kept ``y`` (or a view of it) for its backward."""
    for v in vars(fn).values():
        for a in v if isinstance(v, (tuple, list)) else (v,):
            if a is y or getattr(a, "base", None) is y:
                return True
    return False


class _Tracer:
    def __init__(self, inputs):
        self.refs, self.keep, self.steps, self.assigns, self.generators = {}, [], [], [], []
        self.watch = []
        self.num_slots, self.owned, self.inplace = 0, set(), []
        for i, t in enumerate(inputs):
            if t is not None:
                self.refs[id(t)] = self.refs[id(t.data)] = (_INPUT, i)
                self.keep.append(t)

    def ref(self, x, array):
        r = self.refs.get(id(x)) or self.refs.get(id(array))
        if r is not None:
            return r
        if isinstance(x, Tensor):
            return (_TENSOR, x)  # a weight or a constant: its array is read at replay
        return (_CONST, array)

    def record(self, fn, inputs, arrays, params, xp, out):
        for p in params.values():
            if hasattr(p, "bit_generator"):
                self.generators.append(p)
        refs = tuple([self.ref(x, a) for x, a in zip(inputs, arrays)])
        out_lists = []  # extra outputs an op appends to a list parameter (``stats_out``)
        for name, p in params.items():
            if name.endswith("_out") and isinstance(p, list):
                out_lists.append((name, tuple(self._new_slot(a) for a in p)))
        y, slot = out.data, self._new_slot(out)
        # NOTE: CuPy's flags have no `writeable`; its arrays always are.
        if isinstance(y, xp.ndarray) and y.base is None and getattr(y.flags, "writeable", True) \
                and not any(y is a for a in arrays) and not _holds(fn, y):
            self.owned.add(slot)  # a fresh array its producer keeps no reference to
        if hasattr(fn, "forward_") and arrays and getattr(arrays[0], "shape", None) == y.shape \
                and arrays[0].dtype == y.dtype:
            self.inplace.append(len(self.steps))  # could write its result over input 0
        self.steps.append((type(fn), refs, params, fn.needs_input_grad, xp, slot,
                           tuple(out_lists)))

    def _register(self, x, ref):
        """Maps ``id(x)`` to ``ref`` while ``x`` lives: the trace keeps nothing alive, so a
        pass holds no more memory than the eager one (ids of dead objects get reused)."""
        key, refs = id(x), self.refs
        refs[key] = ref
        try:
            self.watch.append(weakref.ref(x, lambda _, k=key, r=ref: refs.get(k) == r and
                                          refs.pop(k)))
        except TypeError:  # a NumPy scalar: no weak references, keep it
            self.keep.append(x)

    def _new_slot(self, x):
        ref = (_SLOT, self.num_slots)
        self._register(x, ref)
        if isinstance(x, Tensor):
            self._register(x.data, ref)
        self.num_slots += 1
        return self.num_slots - 1

    def assign(self, target, value):
        r = self.refs.get(id(value))
        if r is None or r[0] != _SLOT:
            raise Untraceable(f"assign of a value computed outside the ops to {target!r}")
        self.assigns.append((len(self.steps), target, r[1]))


class Plan:
    """Forward kernels in trace order, then the backward in eager order."""

    def __init__(self, tracer, outputs, variables):
        self.steps, self.num_slots = tracer.steps, tracer.num_slots
        self.generators = list({id(g): g for g in tracer.generators}.values())
        self.assigns = tracer.assigns
        self.outputs = [None if o is None else tracer.ref(o, o.data) for o in outputs]
        last_use = {}
        for k, step in enumerate(self.steps):
            for r in step[1]:
                if r[0] == _SLOT:
                    last_use[r[1]] = k
        for _, _, s in self.assigns:
            last_use[s] = len(self.steps)
        keep = {r[1] for r in self.outputs if r is not None and r[0] == _SLOT}
        self.inplace = self._fusable(tracer, keep)
        self.free_after = [[] for _ in self.steps]
        for s, k in last_use.items():
            if s not in keep and k < len(self.steps):
                self.free_after[k].append(s)
        self.order, self.buffers = [], []
        if variables is not None:
            self._plan_backward(tracer, outputs[0], variables)
        self.saves = {k for k, _, _ in self.order}  # steps whose kernels backward needs

    def _fusable(self, tracer, keep):
        """Steps that may write their result over input 0 (``forward_``): the input is a
        fresh array that nothing else reads, keeps or returns, so no buffer is allocated."""
        uses = {}
        for step in self.steps:
            for kind, p in step[1]:
                if kind == _SLOT:
                    uses[p] = uses.get(p, 0) + 1
        for _, _, s in self.assigns:
            uses[s] = uses.get(s, 0) + 1
        fused = set()
        for k in tracer.inplace:
            kind, s = self.steps[k][1][0]
            if kind == _SLOT and s in tracer.owned and uses[s] == 1 and s not in keep:
                fused.add(k)
        return fused

    def _plan_backward(self, tracer, loss, variables):
        var_index = {id(v): i for i, v in enumerate(variables)}
        step_of = {step[5]: k for k, step in enumerate(self.steps)}
        self.loss_slot = tracer.refs[id(loss)][1]
        self.order = []  # (step, its output slot, [(input index, slot or -1 - weight index)])
        for t in _topological_order([loss]):
            r = tracer.refs.get(id(t))
            if r is None or r[0] != _SLOT or r[1] not in step_of:
                raise Untraceable("the loss depends on a graph built before the trace")
            k = step_of[r[1]]
            dest = []
            for i, (parent, ref) in enumerate(zip(t._node.parents, self.steps[k][1])):
                if parent is None or not parent._requires_grad:
                    continue
                if ref[0] == _SLOT:
                    dest.append((i, ref[1]))
                elif id(parent) in var_index:
                    dest.append((i, -1 - var_index[id(parent)]))
            self.order.append((k, r[1], dest))
        self.buffers = [None] * len(variables)  # each weight's gradient sum, allocated once

    def run(self, inputs, variables=None):
        arrays = [None if t is None else t.data for t in inputs]
        values, fns = [None] * self.num_slots, [None] * len(self.steps)
        assigns, a, saves = self.assigns, 0, self.saves
        for k, (cls, refs, params, needs, xp, slot, out_lists) in enumerate(self.steps):
            while a < len(assigns) and assigns[a][0] == k:
                assigns[a][1].data[...] = values[assigns[a][2]]
                a += 1
            args = [values[p] if kind == _SLOT else arrays[p] if kind == _INPUT
                    else p.data if kind == _TENSOR else p for kind, p in refs]
            if out_lists:
                params = {**params, **{name: [] for name, _ in out_lists}}
            fn = cls()
            fn.needs_input_grad = needs
            if k in self.inplace:
                values[slot] = fn.forward_(xp, *args, **params)
            else:
                values[slot] = fn.forward(xp, *args, **params)
            for name, slots in out_lists:
                for s, extra in zip(slots, params[name]):
                    values[s] = extra
            if k in saves:
                fns[k] = fn
            for s in self.free_after[k]:
                values[s] = None
        for _, target, s in assigns[a:]:
            target.data[...] = values[s]
        outputs = [None if r is None else values[r[1]] if r[0] == _SLOT
                   else arrays[r[1]] if r[0] == _INPUT else r[1].data if r[0] == _TENSOR
                   else r[1] for r in self.outputs]
        if variables is None:
            return outputs, []
        return outputs, self._backward(values, fns, variables)

    def _backward(self, values, fns, variables):
        loss = values[self.loss_slot]
        xp = backend.get_array_module(loss)
        grads, owned = {self.loss_slot: xp.ones_like(loss)}, set()
        for k, slot, destinations in self.order:
            gy = grads.pop(slot, None)
            if gy is None:
                continue
            in_grads = fns[k].backward(xp, gy)
            fns[k] = None  # frees what the kernel saved, as the eager backward does
            for i, key in destinations:
                g = in_grads[i]
                if g is None:
                    continue
                if key not in grads:
                    grads[key] = g
                elif key in owned:
                    grads[key] += g
                else:  # the same sum as the eager backward's, into a buffer kept across steps
                    buf = self.buffers[-1 - key] if key < 0 else None
                    if buf is None or buf.shape != g.shape or buf.dtype != g.dtype:
                        buf = xp.empty_like(g)
                        if key < 0:
                            self.buffers[-1 - key] = buf
                    grads[key] = xp.add(grads[key], g, out=buf)
                    owned.add(key)
        out = []
        for i, v in enumerate(variables):
            g = grads.get(-1 - i)
            out.append(g if g is not None else xp.zeros_like(v.data))
        return out


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
        except Untraceable:
            plan = None
        grads = grad(outputs[0], self.variables) if self.variables else []
        return outputs, [g.data for g in grads], plan

    def _check(self, plan, inputs):
        """One eager run and one replay from the same state; the plan is kept if they agree."""
        try:
            before = _state_of(plan)
        except (AttributeError, TypeError):  # a generator without a readable state
            return None, self._eager(inputs)
        outputs, grads, again = self._trace(inputs)
        after = _state_of(plan)
        if again is None or not _same_constants(plan, again):
            return None, (outputs, grads)  # a value in the plan came from the data
        _restore(plan, before)
        replayed = plan.run(inputs, self.variables)
        arrays = [None if o is None else o.data for o in outputs]
        if _same(arrays, replayed[0]) and _same(grads, replayed[1]) and \
                _same(after, _state_of(plan)):
            return plan, ([None if o is None else Tensor._wrap(o) for o in replayed[0]],
                          replayed[1])
        _restore(plan, after)
        return None, (outputs, grads)

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
