"""Keras's legacy HDF5 weights layout (``model.save_weights("w.h5")``), read and written.

Layout (docs/file-formats.md, "Legacy weights file"):

- root attrs ``layer_names`` (every layer of ``model.layers``, weightless ones included),
  ``backend`` and ``keras_version``;
- one group per layer, with attr ``weight_names`` (an empty float64 array for a weightless layer)
  and one dataset per weight at ``<layer group>/<weight name>``; weight names contain ``/``, so
  the datasets sit in nested groups (``dense/dense/kernel:0``);
- a ``top_level_model_weights`` group (the model's own weights) that is not in ``layer_names``.

Writing uses the Keras 2 (tf-keras 2.21) dialect. Reading accepts tf-keras and Keras 3 files:
variable-length or fixed-length string attrs, attrs split into ``NAME0``, ``NAME1``, ...,
weights files and full-model files (``model_weights`` group). Loading goes by position
(Keras's rule) or, with ``by_name=True``, by layer name (``legacy_h5_read`` plans it). When the
file does not fit, the error starts with Keras's message and lists what did not map; a broken
file is a ValueError naming it; a failed load leaves the model's weights as they were. Loading
only reads arrays with h5py; it never executes anything from the file.
"""
from __future__ import annotations

import builtins
import os

import numpy as np

from .atomic import atomic_write
from .legacy_h5_read import TOP_LEVEL_GROUP, has_attr as _has_attr
from .legacy_h5_read import legacy_weights as _legacy_weights, own_weights as _own_weights
from .legacy_h5_read import load_attributes_from_hdf5_group, plan_by_name, plan_by_position
from .weights_report import assign_all, h5py_module, open_h5, read_array, reading

HDF5_OBJECT_HEADER_LIMIT = 64512
# What kerasish writes: the tf-keras 2.21 dialect (docs/file-formats.md).
WRITE_BACKEND = "tensorflow"
WRITE_KERAS_VERSION = "2.21.0"

_UNBUILT_MESSAGE = (
    "You are loading weights into a model that has not yet been built. Try building the model "
    "first by calling it on some data or by using `build()`."
)


# -- file names ---------------------------------------------------------------------------------
def _path_str(filepath):
    path = os.fspath(filepath)
    return os.fsdecode(path) if isinstance(path, bytes) else path


def _check_path(path):
    # NOTE: api.py dispatches on the name first; this guards direct calls only.
    if path.endswith((".weights.h5", ".weights.json", ".keras")) or \
            not path.endswith((".h5", ".hdf5")):
        raise ValueError("The legacy HDF5 weights format needs a name ending in `.h5` or "
                         f"`.hdf5` (not `.weights.h5`). Received: filepath={path}")


def _h5py():
    return h5py_module()


# -- the model's layers and weights -------------------------------------------------------------
def _is_graph_model(obj):
    from ..models.functional import Functional
    from ..models.sequential import Sequential

    return isinstance(obj, (Functional, Sequential))


def _children(obj):
    from ..models.model import Model

    return list(obj.layers) if isinstance(obj, Model) else list(obj._layers)


def _variable_name(variable):
    name = getattr(variable, "name", None)
    return str(name) if name else "variable"


def _keras2_names(layer):
    """{id(variable): tf-keras name without ``:0``} for every weight reachable from ``layer``.

    tf-keras names a weight by the name scopes it was created in: ``dense/kernel``,
    ``lstm/lstm_cell/kernel``, ``bidirectional/forward_lstm/lstm_cell/kernel``. A nested
    Functional or Sequential model's layers were built outside the outer scope, so they keep
    their own names (``dense/kernel`` inside group ``inner``); ``TimeDistributed`` drops the
    name of the layer it wraps (``time_distributed/kernel``).
    """
    names = {}

    def visit(obj, prefix):
        for v in _own_weights(obj):
            names.setdefault(id(v), f"{prefix}/{_variable_name(v)}" if prefix
                             else _variable_name(v))
        for sub in _children(obj):
            if _is_graph_model(sub):
                visit_graph_model(sub)
            elif type(obj).__name__ == "TimeDistributed":
                visit(sub, prefix)
            else:
                visit(sub, f"{prefix}/{sub.name}" if prefix else sub.name)

    def visit_graph_model(model):
        for v in _own_weights(model):
            names.setdefault(id(v), f"{model.name}/{_variable_name(v)}")
        for sub in list(model.layers):
            if _is_graph_model(sub):
                visit_graph_model(sub)
            else:
                visit(sub, sub.name)

    if _is_graph_model(layer):
        visit_graph_model(layer)
    else:
        visit(layer, layer.name)
    return names


def _weight_names_for(layer, weights, names):
    """The ``weight_names`` of one group: tf-keras names with ``:0``, made unique."""
    out, used = [], set()
    for v in weights:
        base = names.get(id(v)) or f"{layer.name}/{_variable_name(v)}"
        name, i = f"{base}:0", 1
        while name in used:
            name = f"{base}_{i}:0"
            i += 1
        used.add(name)
        out.append(name)
    return out


# -- attributes ---------------------------------------------------------------------------------
def save_attributes_to_hdf5_group(group, name, data):
    """Keras's attribute writer: a list of bytes, split into ``NAME0``, ``NAME1``, ... chunks
    (fixed-length bytes) when it is larger than the HDF5 object header limit.

    >>> save_attributes_to_hdf5_group(f, "layer_names", [b"input_1", b"dense"])
    """
    bad = [x for x in data if len(x) > HDF5_OBJECT_HEADER_LIMIT]
    if bad:
        raise RuntimeError(
            "The following attributes cannot be saved to HDF5 file because they are larger "
            f"than {HDF5_OBJECT_HEADER_LIMIT} bytes: {bad}")
    data_npy = np.asarray(data)
    num_chunks = 1
    chunked = np.array_split(data_npy, num_chunks)
    while any(x.nbytes > HDF5_OBJECT_HEADER_LIMIT for x in chunked):
        num_chunks += 1
        chunked = np.array_split(data_npy, num_chunks)
    if num_chunks > 1:
        for chunk_id, chunk in enumerate(chunked):
            group.attrs[f"{name}{chunk_id}"] = chunk
    else:
        # A list of bytes becomes variable-length strings; [] an empty float64 array.
        group.attrs[name] = data


# -- saving -------------------------------------------------------------------------------------
def _save_subset(group, layer, weights, names):
    weight_names = _weight_names_for(layer, weights, names)
    save_attributes_to_hdf5_group(group, "weight_names", [n.encode("utf8") for n in weight_names])
    for name, variable in zip(weight_names, weights):
        value = np.asarray(variable.numpy(), order="C")
        dataset = group.create_dataset(name, value.shape, dtype=value.dtype)
        if value.shape:
            dataset[:] = value
        else:
            dataset[()] = value


def save_weights_to_hdf5_group(f, model):
    """Writes ``model``'s weights into the open HDF5 group ``f`` (tf-keras 2.21 dialect).

    >>> save_weights_to_hdf5_group(f.create_group("model_weights"), model)
    """
    layers = list(model.layers)
    layer_names = [layer.name for layer in layers]
    for name in layer_names:
        if layer_names.count(name) > 1:
            raise ValueError(
                f"The name '{name}' is used by {layer_names.count(name)} layers of the model; "
                f"a legacy HDF5 weights file needs unique layer names. Received: "
                f"layer_names={layer_names}")
    save_attributes_to_hdf5_group(f, "layer_names", [n.encode("utf8") for n in layer_names])
    f.attrs["backend"] = WRITE_BACKEND.encode("utf8")
    f.attrs["keras_version"] = WRITE_KERAS_VERSION.encode("utf8")
    # Sorted by name, as Keras does, so group names grow strictly.
    for layer in sorted(layers, key=lambda x: x.name):
        group = f.create_group(layer.name)
        _save_subset(group, layer, _legacy_weights(layer), _keras2_names(layer))
    top = _own_weights(model)
    names = {id(v): f"{model.name}/{_variable_name(v)}" for v in top}
    _save_subset(f.create_group(TOP_LEVEL_GROUP), model, top, names)


def _ask_to_proceed_with_overwrite(filepath):
    """Keras's prompt: True to overwrite ``filepath``."""
    answer = builtins.input(f"[WARNING] {filepath} already exists - overwrite? [y/n]")
    answer = answer.strip().lower()
    while answer not in ("y", "n"):
        answer = builtins.input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    if answer == "n":
        return False
    print("[TIP] Next time specify overwrite=True!")
    return True


def save_weights(model, filepath, overwrite=True):
    """``model.save_weights(filepath)`` for a ``.h5``/``.hdf5`` name: Keras's legacy layout,
    written to a temporary file in the same directory and moved into place atomically, so a
    failed save leaves any previous file intact.

    >>> save_weights(model, "w.h5")
    """
    path = _path_str(filepath)
    _check_path(path)
    if not overwrite and os.path.exists(path):
        if not _ask_to_proceed_with_overwrite(path):
            return
    h5py = _h5py()

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            save_weights_to_hdf5_group(f, model)

    atomic_write(path, write)


# -- loading ------------------------------------------------------------------------------------
def load_weights_from_hdf5_group(f, model, skip_mismatch=False):
    """Loading by position (Keras's rule): the file's layers with weights, in ``layer_names``
    order, one-to-one with the model's layers that have weights, in ``model.layers`` order.
    Nothing is assigned unless every weight checks out (or is skipped); the error starts with
    Keras's message and lists every layer that did not map.

    >>> load_weights_from_hdf5_group(f["model_weights"], model)
    """
    with reading(f):
        values = [(v, read_array(dataset)) for v, dataset in
                  plan_by_position(f, model, skip_mismatch)]
    assign_all(values)


def load_weights_from_hdf5_group_by_name(f, model, skip_mismatch=False):
    """Loading by name: each group of ``layer_names`` goes to the model's layers of that name.
    A partial match loads and warns, listing the layers left out; no match at all (when both
    sides have weights) is an error, as is any mismatch (or, with ``skip_mismatch``, a warning).

    >>> load_weights_from_hdf5_group_by_name(f, model)
    """
    with reading(f):
        values = [(v, read_array(dataset)) for v, dataset in
                  plan_by_name(f, model, skip_mismatch)]
    assign_all(values)


def load_weights(model, filepath, skip_mismatch=False, by_name=False):
    """``model.load_weights(filepath)`` for a legacy ``.h5``/``.hdf5`` weights or full-model file
    written by tf-keras, Keras 3 or kerasish. A file that cannot be read gives a ValueError
    naming it; a load that fails leaves the model's weights as they were.

    >>> load_weights(model, "w.h5")
    """
    path = _path_str(filepath)
    _check_path(path)
    if not getattr(model, "built", False):
        raise ValueError(_UNBUILT_MESSAGE)
    with open_h5(path) as f:
        with reading(f):
            group = f
            if not _has_attr(f, "layer_names") and "model_weights" in f:
                group = f["model_weights"]
        if by_name:
            load_weights_from_hdf5_group_by_name(group, model, skip_mismatch=skip_mismatch)
        else:
            load_weights_from_hdf5_group(group, model, skip_mismatch=skip_mismatch)


__all__ = ["load_attributes_from_hdf5_group", "load_weights", "load_weights_from_hdf5_group",
           "load_weights_from_hdf5_group_by_name", "save_attributes_to_hdf5_group",
           "save_weights", "save_weights_to_hdf5_group"]
