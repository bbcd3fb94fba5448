"""Keras 3's scopes: ``name_scope``, ``device``, ``StatelessScope`` and ``SymbolicScope``.

Each is a context manager kept on a per-thread stack, as Keras keeps its global state.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from engine import Tensor, backend

from . import config

_state = threading.local()


def _stack(kind):
    if not hasattr(_state, kind):
        setattr(_state, kind, [])
    return getattr(_state, kind)


class name_scope:
    """Opens a sub-namespace for the paths of the variables created inside it.

    A ``keras.Variable`` made inside ``name_scope("block")`` without an explicit ``path`` gets
    the path ``"block/<name>"`` (scopes nest with ``/``). (kerasish's layers give their weights
    the explicit path ``"<layer>/<weight>"``.)

    Args:
        name: Name of the scope (a string without ``/``).
        caller: Optional object opening the scope.
        deduplicate: If True, re-entering the same ``name`` from the same ``caller`` as the
            innermost scope opens no new level.
        override_parent: Optional absolute path replacing the enclosing scopes' path.

    >>> with name_scope("block"):
    ...     v = Variable(np.zeros(2), name="w")   # v.path == "block/w"
    """

    def __init__(self, name, caller=None, deduplicate=True, override_parent=None):
        if not isinstance(name, str) or "/" in name:
            raise ValueError("Argument `name` must be a string and cannot contain character "
                             f"`/`. Received: name={name}")
        self.name = name
        self.caller = caller
        self.deduplicate = deduplicate
        self.override_parent = override_parent
        self._pushed = False

    def __enter__(self):
        stack = _stack("names")
        if (self.deduplicate and stack and self.caller is not None
                and stack[-1].caller is self.caller and stack[-1].name == self.name):
            return self
        stack.append(self)
        self._pushed = True
        return self

    def __exit__(self, *exc):
        if self._pushed:
            _stack("names").pop()
            self._pushed = False


def current_path() -> str:
    """The ``/``-joined names of the open name scopes ("" outside any)."""
    parts = []
    for scope in _stack("names"):
        if scope.override_parent is not None:
            parts = [p for p in scope.override_parent.split("/") if p]
        parts.append(scope.name)
    return "/".join(parts)


@contextlib.contextmanager
def device(device_name):
    """Creates weights and moves batches to ``device_name`` inside the block (Keras's
    ``keras.device``): ``"cpu"``, ``"cpu:0"``, ``"gpu"``, ``"gpu:0"``, ``"cuda"`` or
    ``"/device:GPU:0"``; the previous device comes back on exit.

    >>> with device("cpu"):
    ...     layer = Dense(3)
    """
    name = str(device_name).lower().replace("/device:", "").split(":")[0].strip("/")
    name = {"cuda": "gpu"}.get(name, name)
    if name not in backend.DEVICES:
        raise ValueError(f"Invalid device name: expected one of 'cpu', 'gpu' (optionally with "
                         f"':<index>'). Received: device_name={device_name!r}")
    previous = config.device()
    config.set_device(name)
    try:
        yield
    finally:
        config.set_device(previous)


class StatelessScope:
    """A scope in which variables are not updated in place.

    Inside it, each variable of ``state_mapping`` reads as the value given there, and
    ``variable.assign`` changes only the scope's copy; on exit every variable has its value from
    before, and the values reached inside are read with :meth:`get_current_value`. (Optimizers
    update weights by writing into their arrays, not through ``assign``: run them outside.)

    Args:
        state_mapping: A list of ``(variable, value)`` pairs.
        collect_losses: Kept for Keras's signature: losses a layer adds inside the scope stay
            on the layer (``layer.losses``); ``add_loss`` on the scope collects in ``losses``.
        initialize_variables: Kept for Keras's signature (kerasish variables have values as
            soon as they are created).

    >>> with StatelessScope([(v, np.ones(v.shape))]) as scope:
    ...     v.assign(v.value() * 2)
    >>> scope.get_current_value(v)   # 2.0 everywhere; v itself is unchanged
    """

    def __init__(self, state_mapping=None, collect_losses=False, initialize_variables=True):
        from .variables import Variable

        self.collect_losses = collect_losses
        self.initialize_variables = initialize_variables
        self.losses = []
        self._mapping = []
        for variable, value in state_mapping or ():
            if not isinstance(variable, Variable):
                raise ValueError("Invalid reference variable in StatelessScope: all keys in "
                                 "argument `mapping` must be Variable instances. Received "
                                 f"instead: {variable}")
            value = value.data if isinstance(value, Tensor) else value
            if tuple(np.shape(value)) != tuple(variable.shape):
                raise ValueError(
                    "Invalid variable value in StatelessScope: all values in argument "
                    "`mapping` must be tensors with a shape that matches the corresponding "
                    f"variable shape. For variable {variable}, received invalid value with "
                    f"shape {tuple(np.shape(value))}.")
            self._mapping.append((variable, value))
        self._originals = {}  # id(variable) -> (variable, its array before the scope)
        self._current = {}

    def __enter__(self):
        _stack("stateless").append(self)
        for variable, value in self._mapping:
            self.own(variable)
            variable.data[...] = backend.to_device(value, variable.device).astype(
                variable.dtype, copy=False)
        return self

    def own(self, variable):
        """Gives ``variable`` a private array for the scope, keeping its own for the exit."""
        if id(variable) not in self._originals:
            self._originals[id(variable)] = (variable, variable.data)
            variable.data = variable.data.copy()

    def add_update(self, update):
        """Records ``(variable, value)``: what ``variable.assign(value)`` does inside."""
        variable, value = update
        self.own(variable)
        variable.data[...] = value.data if isinstance(value, Tensor) else value

    def add_loss(self, loss):
        self.losses.append(loss)

    def get_current_value(self, variable):
        """The value ``variable`` had when the scope closed (None if the scope never saw it)."""
        if id(variable) in self._originals:
            return variable.data  # the scope is still open
        return self._current.get(id(variable))

    def __exit__(self, *exc):
        _stack("stateless").remove(self)
        for key, (variable, original) in self._originals.items():
            self._current[key] = variable.data
            variable.data = original
        self._originals = {}


def get_stateless_scope():
    """The innermost open ``StatelessScope``, or None."""
    stack = _stack("stateless")
    return stack[-1] if stack else None


def in_stateless_scope() -> bool:
    return get_stateless_scope() is not None


class SymbolicScope:
    """Marks a block as symbolic tracing (Keras's ``SymbolicScope``); ``in_symbolic_scope()``
    is True inside it, for layers that skip work during shape inference.

    >>> with SymbolicScope():
    ...     assert in_symbolic_scope()
    """

    def __enter__(self):
        _stack("symbolic").append(self)
        return self

    def __exit__(self, *exc):
        _stack("symbolic").pop()


def in_symbolic_scope() -> bool:
    return bool(_stack("symbolic"))
