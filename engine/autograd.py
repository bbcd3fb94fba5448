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
    """One differentiable op. Subclasses keep what backward needs as attributes."""

    # Filled by apply: the input Tensors (None for constants) and which of them need a grad.
    parents: tuple = ()
    needs_input_grad: tuple = ()

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
            fn.parents = tuple([x if isinstance(x, Tensor) else None for x in inputs])
            out._requires_grad = True
            out._node = fn
        tracer = getattr(_state, "tracer", None)
        if tracer is not None:  # engine.jit is recording a step
            tracer.record(fn, inputs, arrays, params, xp, out)
        return out


def _topological_order(roots):
    """Nodes reachable from ``roots``, outputs before inputs, without recursion."""
    order, seen = [], set()
    stack = [(t, False) for t in roots if t._node is not None]
    while stack:
        t, expanded = stack.pop()
        if expanded:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        stack.append((t, True))
        for p in t._node.parents:
            if p is not None and p._node is not None and id(p) not in seen:
                stack.append((p, False))
    order.reverse()
    return order


def _check_grad_array(fn, i, parent, g):
    if g.shape != parent.data.shape:
        raise RuntimeError(
            f"{type(fn).__name__}.backward returned a gradient of shape {g.shape} for input {i} "
            f"of shape {parent.data.shape}"
        )
    if g.dtype != parent.data.dtype:
        raise RuntimeError(
            f"{type(fn).__name__}.backward returned a {g.dtype} gradient for input {i} "
            f"of dtype {parent.data.dtype}"
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

    for t, g in zip(outputs, grad_outputs):
        accumulate(t, g)
    leaves, captured = {}, {}
    capture_ids = {id(t) for t in capture}
    order = _topological_order(outputs)
    for t in order:
        fn = t._node
        gy = grads.pop(id(t), None)
        if gy is None:
            continue
        if id(t) in capture_ids:
            captured[id(t)] = (t, gy)
        xp = np if type(gy) is np.ndarray else backend.get_array_module(gy)
        in_grads = fn.backward(xp, gy)
        for i, (parent, g) in enumerate(zip(fn.parents, in_grads)):
            if parent is None or g is None or not parent._requires_grad:
                continue
            data = parent.data
            if g.shape != data.shape or g.dtype != data.dtype:
                _check_grad_array(fn, i, parent, g)
            accumulate(parent, g)
            if parent._node is None:
                leaves[id(parent)] = parent
        if not retain_graph:
            # NOTE: dropping the node frees the saved arrays and the edges to the inputs.
            t._node = None
    for t in outputs:
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
