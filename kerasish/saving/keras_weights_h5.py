"""Keras 3's weights HDF5 layout (``model.save_weights("x.weights.h5")``, and the
``model.weights.h5`` member of a ``.keras`` archive), read and written.

Layout (docs/file-formats.md, "Keras 3 weights"):

- every object reached from the model (layers, sub-layers, the optimizer) gets a group
  ``<object path>/vars`` with attr ``name`` (the object's ``.name``) and one dataset per own
  variable, ``"0"``, ``"1"``, ... (trainable ones first, then non-trainable, in creation order);
  the model's own variables are in the root ``vars``;
- paths never use layer names: lists of objects give ``<list attr>/<snake_case(class)>`` for the
  first object of a class and ``..._<k>`` for the next ones (``layers/dense``, ``layers/dense_1``);
  single objects are reached by attribute name (``cell``, ``layer``, ``forward_layer``,
  ``optimizer``);
- Sequential and Functional models visit ``layers`` first; then every object visits its
  attributes in sorted order (names starting with ``_`` last), skipping the base ``Layer``'s
  own; an object is written only at the first path that reaches it.

Loading walks the model the same way and reads each object's group by path. Errors are
collected and reported in Keras's "A total of N objects could not be loaded" frame, followed by
the listing of what did not map (``weights_report``); with ``skip_mismatch=True`` that text is
a warning. Unlike Keras, a failed load assigns nothing: every value is checked before the first
one is written. A broken file (a missing ``vars/<i>``, a group or text where a dataset of
numbers belongs, unreadable bytes) is a ValueError naming the file. Loading only reads arrays.
"""
from __future__ import annotations

import functools
import warnings

import numpy as np

from .. import utils
from . import layer_state
from .atomic import atomic_write
from .legacy_h5 import _UNBUILT_MESSAGE, _h5py
from .weights_report import (Row, WeightsFileError, assign_all, check_dataset, compare,
                             file_error, group_entries, group_label, listing, open_h5, plural,
                             read_array, reading, source_name, unreached_vars_rows)

_SAVE_UNBUILT_MESSAGE = (
    "You are saving a model that has not yet been built. Try building the model first by "
    "calling it on some data or by using `build()`."
)
_NEVER_BUILT = (
    "Layer '{name}' was never built and thus it doesn't have any variables. However the weights "
    "file lists {count} variables for this layer.\n"
    "In most cases, this error indicates that either:\n\n"
    "1. The layer is owned by a parent layer that implements a `build()` method, but calling "
    "the parent's `build()` method did NOT create the state of the child layer '{name}'. A "
    "`build()` method must create ALL state for the layer, including the state of any children "
    "layers.\n\n"
    "2. You need to implement the `def build_from_config(self, config)` method on layer "
    "'{name}', to specify how to rebuild it during loading. In this case, you might also want "
    "to implement the method that generates the build config at saving time, `def "
    "get_build_config(self)`. The method `build_from_config()` is meant to create the state of "
    "the layer (i.e. its variables) upon deserialization.")
# Attributes of Sequential that only mirror its `layers` (Keras skips `_functional` too).
_SEQUENTIAL_SKIP = frozenset({"_functional", "_stack"})


# -- what gets visited --------------------------------------------------------------------------
def _is_layer(obj):
    from ..layers.layer import Layer

    return isinstance(obj, Layer)


def _is_optimizer(obj):
    # Duck-typed so that this module does not depend on kerasish.optimizers.
    return (not _is_layer(obj) and callable(getattr(type(obj), "apply_gradients", None))
            and hasattr(obj, "variables"))


def _is_saveable(obj):
    return _is_layer(obj) or _is_optimizer(obj)


def _graph_model_kind(obj):
    from ..models.functional import Functional
    from ..models.sequential import Sequential

    if isinstance(obj, Sequential):
        return "Sequential"
    if isinstance(obj, Functional):
        return "Functional"
    return None


@functools.lru_cache(maxsize=None)
def _base_layer_attrs():
    """The attribute names every Layer has (Keras's skip list ``dir(Layer())``)."""
    from ..layers.layer import Layer

    # NOTE: an explicit name, so the probe does not advance the "layer" name counter.
    return frozenset(dir(Layer(name="_saving_probe")))


def _children(obj):
    """(attribute name, value) pairs in Keras's visiting order."""
    if _is_optimizer(obj):
        return
    kind = _graph_model_kind(obj)
    # NOTE: the compile arguments hold the optimizer again; Keras keeps them out of the walk.
    skip = _base_layer_attrs() | {"_compile_config"}
    if kind is not None:
        yield "layers", obj.layers
        skip = skip | {"layers"} | (_SEQUENTIAL_SKIP if kind == "Sequential" else frozenset())
    for attr in sorted(dir(obj), key=lambda name: "~" + name if name.startswith("_") else name):
        if attr.startswith("__") or attr in skip:
            continue
        try:
            child = getattr(obj, attr)
        except Exception:  # a property that cannot be evaluated holds nothing to save
            continue
        yield attr, child


def _container_items(container):
    """(path segment, object) for the saveables of a list/tuple/set/dict, named by class."""
    items = container.values() if isinstance(container, dict) else container
    used = {}
    for item in items:
        if not _is_saveable(item):
            continue
        base = utils.to_snake_case(type(item).__name__)
        count = used.get(base)
        used[base] = 0 if count is None else count + 1
        yield (base if count is None else f"{base}_{count + 1}"), item


def _child_objects(obj, path):
    """(path, object) for each saveable child of ``obj``, in visiting order."""
    for attr, child in _children(obj):
        child_path = f"{path}/{attr}" if path else attr
        if _is_saveable(child):
            yield child_path, child
        elif isinstance(child, (list, tuple, dict, set)):
            for name, item in _container_items(child):
                yield f"{child_path}/{name}", item


def _own_variables(obj):
    if _is_optimizer(obj):
        return list(obj.variables)
    return list(obj._trainable_variables) + list(obj._non_trainable_variables)


# -- writing ------------------------------------------------------------------------------------
def _write_vars(group, obj):
    """``group/vars``: attr ``name`` and the object's own variables as ``"0"``, ``"1"``, ..."""
    vars_group = group.create_group("vars")
    name = getattr(obj, "name", None)
    if isinstance(name, str):
        vars_group.attrs["name"] = name
    for i, variable in enumerate(_own_variables(obj)):
        # NOTE: not np.ascontiguousarray, which turns a scalar (the iteration) into shape (1,).
        vars_group.create_dataset(str(i), data=np.asarray(variable.numpy(), order="C"))
    # State kept outside Variables (a vocabulary's IDF weights) as named datasets, as Keras.
    for key, value in layer_state.own_store(obj).items():
        vars_group.create_dataset(key, data=np.asarray(value))


def _save_state(f, obj, path, visited):
    if id(obj) in visited:
        return
    _write_vars(f.require_group(path) if path else f, obj)
    visited.add(id(obj))
    for child_path, child in _child_objects(obj, path):
        _save_state(f, child, child_path, visited)


def save_weights_to_h5_group(f, model):
    """Writes ``model``'s state (layers and, when compiled, optimizer) into the open HDF5
    file or group ``f`` in Keras 3's layout.

    >>> save_weights_to_h5_group(f, model)
    """
    _save_state(f, model, "", set())


def save_optimizer_variables(h5group, optimizer):
    """Writes ``h5group/vars`` for ``optimizer``: ``0`` = iterations, ``1`` = learning rate,
    then the slots, in ``optimizer.variables`` order.

    >>> save_optimizer_variables(f.create_group("optimizer"), model.optimizer)
    """
    _write_vars(h5group, optimizer)


def save_weights_h5(model, filepath):
    """Saves ``model``'s weights to ``filepath`` in Keras 3's ``.weights.h5`` layout, atomically.

    >>> save_weights_h5(model, "model.weights.h5")
    """
    if not getattr(model, "built", False):
        raise ValueError(_SAVE_UNBUILT_MESSAGE)
    h5py = _h5py()

    def write(tmp):
        # Default h5py settings give Keras's container: superblock 0, no creation order.
        with h5py.File(tmp, "w") as f:
            save_weights_to_h5_group(f, model)

    atomic_write(filepath, write)


# -- reading ------------------------------------------------------------------------------------
def _vars_group(f, path):
    """The ``vars`` group of ``path`` (Keras's lookup, with the tf-keras 2.13 fallback
    ``_layer_checkpoint_dependencies``), or None."""
    h5py = _h5py()
    candidates = [path]
    if path and "_layer_checkpoint_dependencies" in f:
        candidates.append(path.replace("layers", "_layer_checkpoint_dependencies"))
    for candidate in candidates:
        try:
            group = f[candidate] if candidate else f
        except (KeyError, ValueError, TypeError):
            continue
        if isinstance(group, h5py.Group) and isinstance(group.get("vars"), h5py.Group):
            return group["vars"]
    return None


def _dataset(vars_group, key):
    """``vars_group[key]`` checked: a dataset of numbers, or of bfloat16 (2-byte) values."""
    obj = vars_group[key]
    if isinstance(obj, _h5py().Dataset) and obj.dtype.itemsize == 2 and \
            obj.attrs.get("dtype") in ("bfloat16", b"bfloat16"):
        return obj
    return check_dataset(obj, f"variable '{key}'")


def _read_dataset(dataset):
    value = read_array(dataset)
    if dataset.attrs.get("dtype") in ("bfloat16", b"bfloat16") and value.dtype.itemsize == 2:
        # NOTE: bfloat16 is the top half of a float32, so widening is exact.
        value = (value.view("<u2").astype(np.uint32) << 16).view(np.float32)
    return value


def _read_store(vars_group):
    return {} if vars_group is None else {k: read_array(v) for k, v in vars_group.items()}


class _Mismatch(ValueError):
    """Keras's error text for one object, with the row that the listing shows for it."""

    def __init__(self, message, row):
        super().__init__(message)
        self.row = row


def _label(obj):
    return (f"{type(obj).__name__} '{getattr(obj, 'name', '?')}' "
            f"({plural(len(_own_variables(obj)), 'variable')})")


def _read_values(vars_group, obj, variables):
    """(variable, dataset) pairs for ``vars/0``, ``vars/1``, ...; every shape is checked and
    all the mismatches go into the listing's row, Keras's text names the first."""
    pairs, bad = [], []
    for i, variable in enumerate(variables):
        if str(i) not in vars_group:
            raise file_error(vars_group, f"{vars_group.name} holds {len(vars_group)} entries "
                             f"but no dataset '{i}'. Received: keys={sorted(vars_group.keys())}")
        dataset = _dataset(vars_group, str(i))
        (bad if tuple(dataset.shape) != tuple(variable.shape) else pairs).append(
            (variable, dataset))
    if bad:
        variable, dataset = bad[0]
        details = [f"{v.path} {tuple(v.shape)} vs {d.name.lstrip('/')} {tuple(d.shape)}"
                   for v, d in bad]
        raise _Mismatch(
            "The shape of the target variable and the shape of the target value in "
            "`variable.assign(value)` must match. "
            f"variable.shape={tuple(variable.shape)}, Received: "
            f"value.shape={tuple(dataset.shape)}. Target variable: {variable!r}",
            Row(_label(obj), group_label(vars_group), "shape mismatch", details))
    return pairs


def _read_layer(vars_group, layer, path):
    if layer_state.has_hook(layer, "load_own_variables"):
        # Keras's hook: the layer reads its own named datasets (assigned with the others).
        return [(layer_state.OwnVariables(layer), vars_group)]
    variables = _own_variables(layer)
    count = 0 if vars_group is None else len(vars_group.keys())
    if count != len(variables):
        if vars_group is None:
            row = Row(_label(layer), f"(nothing at {path + '/' if path else ''}vars)",
                      f"missing from the file; expected: {[v.name for v in variables]}")
        else:
            row = Row(_label(layer), group_label(vars_group), *compare(
                [(v.path, tuple(v.shape)) for v in variables], group_entries(vars_group),
                noun="variable"))
        if not variables and not layer.built:
            raise _Mismatch(_NEVER_BUILT.format(name=layer.name, count=count), row)
        raise _Mismatch(
            f"Layer '{layer.name}' expected {len(variables)} variables, but received {count} "
            f"variables during loading. Expected: {[v.name for v in variables]}", row)
    return _read_values(vars_group, layer, variables) if variables else []


def _read_optimizer(vars_group, optimizer, path=None):
    """Keras's rule: a count mismatch (e.g. an optimizer not built yet) warns and skips."""
    variables = _own_variables(optimizer)
    count = 0 if vars_group is None else len(vars_group.keys())
    if count != len(variables):
        msg = (f"Skipping variable loading for optimizer '{optimizer.name}', because it has "
               f"{len(variables)} variables whereas the saved optimizer has {count} "
               "variables. ")
        if not variables:
            msg += "This is likely because the optimizer has not been called/built yet."
        warnings.warn(msg, stacklevel=4)
        return []
    return _read_values(vars_group, optimizer, variables)


def load_optimizer_variables(h5group, optimizer):
    """Assigns ``h5group/vars`` to ``optimizer.variables``. A count mismatch warns and loads
    nothing (Keras's rule); a shape mismatch raises. Returns True when values were assigned.

    >>> load_optimizer_variables(f["optimizer"], model.optimizer)
    """
    with reading(h5group):
        values = [(v, _read_dataset(d)) for v, d in
                  _read_optimizer(_vars_group(h5group, ""), optimizer)]
    assign_all(values)
    return bool(values)


class _LoadState:
    def __init__(self):
        self.visited, self.active, self.seen = set(), set(), set()
        self.pairs, self.errors = {}, {}  # by id(object); errors keep first-failure order


def _load_state(f, obj, path, state):
    # Keras's bookkeeping: an object counts as done only when it and its children loaded, so
    # an object that failed at one path is tried again at the next path that reaches it.
    key = id(obj)
    if key in state.visited or key in state.active:
        return
    state.active.add(key)
    failed = False
    try:
        vars_group = _vars_group(f, path)
        if vars_group is not None:
            state.seen.add(vars_group.name)
        read = _read_optimizer if _is_optimizer(obj) else _read_layer
        state.pairs[key] = read(vars_group, obj, path)
    except WeightsFileError:
        raise  # a broken file is not a mismatch: no point in collecting more
    except Exception as e:
        state.errors[key] = (obj, e, path)
        failed = True
    errors_before = len(state.errors)
    for child_path, child in _child_objects(obj, path):
        _load_state(f, child, child_path, state)
    if not failed:
        if len(state.errors) - errors_before <= 0:
            state.visited.add(key)
        state.errors.pop(key, None)
    state.active.discard(key)


def load_weights_from_h5_group(f, model, skip_mismatch=False):
    """Loads Keras 3-layout weights from the open HDF5 file or group ``f`` into ``model``.
    Keras's error (or, with ``skip_mismatch``, warning) is followed by the listing of every
    object that did not load and of the file's groups that no object reached; nothing is
    assigned when it raises.

    >>> load_weights_from_h5_group(f, model)
    """
    with reading(f):
        state = _LoadState()
        _load_state(f, model, "", state)
        if state.errors:
            first_obj, first_error, _ = next(iter(state.errors.values()))
            rows = [e.row if isinstance(e, _Mismatch) else
                    Row(_label(obj), f"{path}/vars" if path else "vars", str(e))
                    for obj, e, path in state.errors.values()]
            rows += unreached_vars_rows(f, state.seen)
            title = f"Objects of the model -> groups of the file {source_name(f)}:"
            msg = (f"A total of {len(state.errors)} objects could not be loaded. Example error "
                   f"message for object {first_obj}:\n\n{first_error}\n\n"
                   "List of objects that could not be loaded:\n"
                   f"{[e[0] for e in state.errors.values()]}\n\n{listing(title, rows)}")
            if not skip_mismatch:
                raise ValueError(msg)
            warnings.warn(msg, stacklevel=3)
        values = [(variable, _read_store(dataset) if isinstance(variable, layer_state.OwnVariables)
                   else _read_dataset(dataset))
                  for pairs in state.pairs.values() for variable, dataset in pairs]
    assign_all(values)


def load_weights_h5(model, filepath, skip_mismatch=False):
    """Loads a Keras 3 ``.weights.h5`` file (written by Keras 3, tf-keras or kerasish). A file
    that cannot be read gives a ValueError naming it.

    >>> load_weights_h5(model, "model.weights.h5")
    """
    if not getattr(model, "built", False):
        raise ValueError(_UNBUILT_MESSAGE)
    with open_h5(filepath) as f:
        load_weights_from_h5_group(f, model, skip_mismatch=skip_mismatch)


__all__ = ["load_optimizer_variables", "load_weights_from_h5_group", "load_weights_h5",
           "save_optimizer_variables", "save_weights_h5", "save_weights_to_h5_group"]
