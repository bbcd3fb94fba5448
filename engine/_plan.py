"""The plan of a compiled step (``engine.jit``): a tracer that records every kernel a call
launches, and the ``Plan`` that replays them (forward in trace order, backward in the eager
topological order, results written in place where an input buffer is free)."""
from __future__ import annotations

import weakref

from . import backend
from .autograd import _state, _topological_order
from .tensor import Tensor

_SLOT, _INPUT, _TENSOR, _CONST = range(4)


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
        self.num_slots, self.owned, self.inplace, self.broken = 0, set(), [], None
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
        if out._node is fn:  # the graph's edges name the node, not the Tensor
            self._register(fn, (_SLOT, slot))
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
        if r is None or r[0] != _SLOT:  # NOTE: noted, not raised: the user's step goes on
            self.broken = f"assign of a value computed outside the ops to {target!r}"
            return
        self.assigns.append((len(self.steps), target, r[1]))


class Plan:
    """Forward kernels in trace order, then the backward in eager order."""

    def __init__(self, tracer, outputs, variables):
        if tracer.broken:
            raise Untraceable(tracer.broken)
        self.steps, self.num_slots = tracer.steps, tracer.num_slots
        self.generators = list({id(g): g for g in tracer.generators}.values())
        self.assigns = tracer.assigns
        self.outputs = [None if o is None else tracer.ref(o, o.data) for o in outputs]
        self.owned, self.candidates = tracer.owned, list(tracer.inplace)
        self.order, self.buffers = [], []
        if variables is not None:
            self._plan_backward(tracer, outputs[0], variables)
        self._schedule()

    def _schedule(self):
        """Which steps write in place, when each slot is freed, which kernels backward needs."""
        last_use = {}
        for k, step in enumerate(self.steps):
            for r in step[1]:
                if r[0] == _SLOT:
                    last_use[r[1]] = k
        for _, _, s in self.assigns:
            last_use[s] = len(self.steps)
        keep = {r[1] for r in self.outputs if r is not None and r[0] == _SLOT}
        self.inplace = self._fusable(keep)
        self.free_after = [[] for _ in self.steps]
        for s, k in last_use.items():
            if s not in keep and k < len(self.steps):
                self.free_after[k].append(s)
        self.saves = {k for k, _, _ in self.order}  # steps whose kernels backward needs

    def _fusable(self, keep):
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
        for k in self.candidates:
            kind, s = self.steps[k][1][0]
            if kind == _SLOT and s in self.owned and uses[s] == 1 and s not in keep:
                fused.add(k)
        return fused

    def _plan_backward(self, tracer, loss, variables):
        var_index = {id(v): i for i, v in enumerate(variables)}
        step_of = {step[5]: k for k, step in enumerate(self.steps)}
        self.loss_slot = tracer.refs[id(loss)][1]
        self.order = []  # (step, its output slot, [(input index, slot or -1 - weight index)])
        for node in _topological_order([loss]):
            r = tracer.refs.get(id(node))
            if r is None or r[0] != _SLOT or r[1] not in step_of:
                raise Untraceable("the loss depends on a graph built before the trace")
            k = step_of[r[1]]
            dest = []
            for i, (parent, ref) in enumerate(zip(node.parents, self.steps[k][1])):
                if parent is None or not parent._requires_grad:
                    continue
                if ref[0] == _SLOT:
                    dest.append((i, ref[1]))
                elif id(parent) in var_index:
                    dest.append((i, -1 - var_index[id(parent)]))
            self.order.append((k, r[1], dest))
        self.buffers = [None] * len(variables)  # each weight's gradient sum, allocated once

    def run(self, inputs, variables=None):
        # NOTE: ops skip their host-side checks while replaying (a GPU would sync every step);
        # their device-side guards stand in (e.g. ``indexing._guard``).
        previous, _state.replaying = getattr(_state, "replaying", False), True
        try:
            return self._run(inputs, variables)
        finally:
            _state.replaying = previous

    def _run(self, inputs, variables):
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
