"""Reverse-mode autodiff: the ``Function`` base class, an iterative backward, ``no_grad``.

An op is a ``Function`` subclass with ``forward(self, xp, *arrays, **params)`` and
``backward(self, xp, gy)``; ``Function.apply`` does all the plumbing (docs/design.md, E2).
"""
from __future__ import annotations

import contextlib
import numbers
import threading

import numpy as np

from . import backend

Tensor = None  # engine.tensor.Tensor, set there (it imports this module)

_state = threading.local()


def is_grad_enabled() -> bool:
    return getattr(_state, "grad_enabled", True)


@contextlib.contextmanager
def no_grad():
    """Within this context ops record no graph (what ``predict``/``evaluate`` use)."""
    previous = is_grad_enabled()
    _state.grad_enabled = False
    try:
        yield
    finally:
        _state.grad_enabled = previous


@contextlib.contextmanager
def enable_grad():
    previous = is_grad_enabled()
    _state.grad_enabled = True
    try:
        yield
    finally:
        _state.grad_enabled = previous


def _scalar_dtype(value, arrays):
    """dtype for a Python number next to ``arrays``: the arrays' float type, else float32."""
    floats = [a.dtype for a in arrays if a.dtype.kind in "fc"]
    if floats:
        return np.result_type(*floats)
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(bool)
    if isinstance(value, numbers.Integral) and arrays:
        return np.result_type(*[a.dtype for a in arrays])
    return np.dtype(np.float32)


def _unwrap(inputs, op_name):
    """Tensors -> arrays; Python numbers and lists -> arrays; checks that devices agree."""
    from .tensor import Tensor

    arrays = [None] * len(inputs)
    pending = []
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor):
            arrays[i] = x.data
        elif hasattr(x, "shape") and hasattr(x, "dtype"):  # numpy/cupy arrays and scalars
            arrays[i] = x
        elif x is None:
            arrays[i] = None
        else:
            pending.append(i)
    present = [a for a in arrays if a is not None]
    devices = {backend.device_of(a) for a in present}
    if len(devices) > 1:
        raise ValueError(
            f"{op_name}: inputs live on different devices (cpu and gpu); move them to one "
            "device with `.to(device)` first. Received: devices="
            + str([backend.device_of(a) if a is not None else None for a in arrays])
        )
    xp = backend.get_array_module(*present)
    for i in pending:
        x = inputs[i]
        if isinstance(x, numbers.Number):
            arrays[i] = xp.asarray(x, dtype=_scalar_dtype(x, present))
        else:
            try:
                arrays[i] = xp.asarray(x, dtype=np.float32)
            except (TypeError, ValueError) as e:
                raise TypeError(
                    f"{op_name}: cannot turn input {i} into an array. "
                    f"Received: type={type(x).__name__}"
                ) from e
    return xp, arrays


class Function:
    """One differentiable op. Subclasses keep what backward needs as attributes.

    In the graph a node stands for its output: its ``parents`` are the nodes of its
    intermediate inputs and the leaf Tensors themselves, never an intermediate Tensor, so an
    array the layer code drops is freed unless an op saved it for its backward (PyTorch's
    saved tensors). A freed node (after a backward) has ``parents = None``.
    """

    # Filled by apply: the inputs' nodes or leaf Tensors (None for constants), which of them
    # need a grad, and the output's (shape, dtype).
    parents: tuple = ()
    needs_input_grad: tuple = ()
    out_meta: tuple = ()
    _requires_grad = True  # as a parent, a node always wants its gradient

    def forward(self, xp, *arrays, **params):
        raise NotImplementedError

    def backward(self, xp, gy):
        """Returns one gradient array (or None) per forward input, in input order."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params):
        # NOTE: the hot path of every op: host arrays and Tensors over them need no
        # conversion; anything else (numbers, lists, CuPy, mixed devices) goes through _unwrap.
        arrays, device_of = [], backend.device_of
        for x in inputs:
            a = x.data if isinstance(x, Tensor) else x
            if a is not None and (type(a) is not np.ndarray or device_of(a) != "cpu"):
                xp, arrays = _unwrap(inputs, cls.__name__)
                break
            arrays.append(a)
        else:
            xp = np
        fn = cls()
        if getattr(_state, "grad_enabled", True):
            needs = tuple([isinstance(x, Tensor) and x._requires_grad for x in inputs])
        else:  # no_grad: nothing is recorded, and fat ops can skip saving for backward
            needs = (False,) * len(inputs)
        fn.needs_input_grad = needs
        y = fn.forward(xp, *arrays, **params)
        out = Tensor._wrap(y)
        if True in needs and y.dtype.kind in "fc":
            fn.parents = tuple([_edge(x) if isinstance(x, Tensor) else None for x in inputs])
            fn.out_meta = (y.shape, y.dtype)
            out._requires_grad = True
            out._node = fn
        tracer = getattr(_state, "tracer", None)
        if tracer is not None:  # engine.jit is recording a step
            tracer.record(fn, inputs, arrays, params, xp, out)
        return out


def _edge(t):
    """What the graph holds for Tensor ``t``: its live node, or ``t`` itself (a leaf)."""
    node = t._node
    return t if node is None or node.parents is None else node


def _topological_order(roots):
    """The live nodes reachable from the Tensors ``roots``, outputs before inputs, without
    recursion."""
    order, seen = [], set()
    stack = [(n, False) for n in map(_edge, roots) if isinstance(n, Function)]
    while stack:
        n, expanded = stack.pop()
        if expanded:
            order.append(n)
            continue
        if id(n) in seen:
            continue
        seen.add(id(n))
        stack.append((n, True))
        for p in n.parents:
            if isinstance(p, Function) and p.parents is not None and id(p) not in seen:
                stack.append((p, False))
    order.reverse()
    return order


def _check_grad_array(fn, i, meta, g):
    shape, dtype = meta
    if g.shape != shape:
        raise RuntimeError(
            f"{type(fn).__name__}.backward returned a gradient of shape {g.shape} for input {i} "
            f"of shape {shape}"
        )
    if g.dtype != dtype:
        raise RuntimeError(
            f"{type(fn).__name__}.backward returned a {g.dtype} gradient for input {i} "
            f"of dtype {dtype}"
        )


def backprop(outputs, grad_outputs, retain_graph=False, capture=()):
    """Propagates ``grad_outputs`` from ``outputs`` back.

    Returns {id(t): (t, grad)} for the leaves reached and for the tensors in ``capture``.

    Gradients accumulate in place once an array is our own (a backward may return ``gy``
    itself for several inputs, so the first one is never written to).
    """
    grads, owned = {}, set()

    def accumulate(t, g):
        key = id(t)
        if key not in grads:
            grads[key] = g
        elif key in owned:
            grads[key] += g
        else:
            grads[key] = grads[key] + g
            owned.add(key)

    roots = [_edge(t) for t in outputs]
    for n, g in zip(roots, grad_outputs):
        accumulate(n, g)
    leaves, captured = {}, {}
    wanted = {id(_edge(t)): t for t in capture}  # an intermediate is asked for by its node
    for fn in _topological_order(outputs):
        gy = grads.pop(id(fn), None)
        if gy is None:
            continue
        if id(fn) in wanted:
            t = wanted[id(fn)]
            captured[id(t)] = (t, gy)
        xp = np if type(gy) is np.ndarray else backend.get_array_module(gy)
        in_grads = fn.backward(xp, gy)
        for i, (parent, g) in enumerate(zip(fn.parents, in_grads)):
            if parent is None or g is None or not parent._requires_grad:
                continue
            leaf = not isinstance(parent, Function)
            if not leaf and parent.parents is None:
                raise RuntimeError(
                    f"{type(fn).__name__}: trying to backward through a part of the graph that "
                    "an earlier backward freed; pass retain_graph=True to the first one")
            meta = (parent.data.shape, parent.data.dtype) if leaf else parent.out_meta
            if g.shape != meta[0] or g.dtype != meta[1]:
                _check_grad_array(fn, i, meta, g)
            accumulate(parent, g)
            if leaf:
                leaves[id(parent)] = parent
        if not retain_graph:
            # NOTE: freeing the node drops its saved arrays and its edges to the inputs.
            vars(fn).clear()
            fn.parents = None
    for t in outputs:
        if t._node is not None and t._node.parents is None:
            t._node = None
        if t._node is None and t.requires_grad:
            leaves[id(t)] = t
    captured.update({k: (leaves[k], grads[k]) for k in leaves if k in grads})
    return captured


def _seed_grads(outputs, grad_outputs):
    from .tensor import Tensor

    seeds = []
    for i, t in enumerate(outputs):
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError(
                f"Output {i} does not require grad: no op on its path had an input with "
                "requires_grad=True (or it was computed under no_grad)."
            )
        g = None if grad_outputs is None else grad_outputs[i]
        if g is None:
            if t.data.size != 1:
                raise RuntimeError(
                    "backward() on a non-scalar tensor needs `grad` of the same shape. "
                    f"Received: shape={t.shape}"
                )
            xp = backend.get_array_module(t.data)
            seeds.append(xp.ones_like(t.data))
            continue
        g = g.data if isinstance(g, Tensor) else g
        xp = backend.get_array_module(t.data)
        g = xp.asarray(g, dtype=t.data.dtype)
        if g.shape != t.data.shape:
            raise ValueError(
                f"The gradient must have the output's shape {t.shape}. "
                f"Received: grad.shape={g.shape}"
            )
        seeds.append(g)
    return seeds


def grad(outputs, inputs, grad_outputs=None, retain_graph=False):
    """Gradients of ``outputs`` with respect to ``inputs``, without touching ``.grad``.

    Returns a list of Tensors (zeros for an input the outputs do not depend on).
    """
    from .tensor import Tensor

    single_out = isinstance(outputs, Tensor)
    outputs = [outputs] if single_out else list(outputs)
    if grad_outputs is not None and single_out and not isinstance(grad_outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    seeds = _seed_grads(outputs, grad_outputs)
    result = backprop(outputs, seeds, retain_graph=retain_graph, capture=inputs)
    out = []
    for x in inputs:
        if id(x) in result:
            out.append(Tensor._wrap(result[id(x)][1]))
        else:
            xp = backend.get_array_module(x.data)
            out.append(Tensor._wrap(xp.zeros_like(x.data)))
    return out
