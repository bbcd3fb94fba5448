"""Keras's legacy HDF5 weights layout (``model.save_weights("w.h5")``), read and written.

Layout (see /work/shared/KERAS_FILES.md, "Weights file"):

- root attrs ``layer_names`` (every layer of ``model.layers``, weightless ones included),
  ``backend`` and ``keras_version``;
- one group per layer, with attr ``weight_names`` (an empty float64 array for a weightless layer)
  and one dataset per weight at ``<layer group>/<weight name>``; weight names contain ``/``, so
  the datasets sit in nested groups (``dense/dense/kernel:0``);
- a ``top_level_model_weights`` group (the model's own weights) that is not in ``layer_names``.

Writing uses the Keras 2 (tf-keras 2.21) dialect. Reading accepts tf-keras and Keras 3 files:
variable-length or fixed-length string attrs, attrs split into ``NAME0``, ``NAME1``, ...,
weights files and full-model files (``model_weights`` group). Loading goes by position
(Keras's rule) or, with ``by_name=True``, by layer name. Loading only reads arrays with h5py;
it never executes anything from the file.
"""
from __future__ import annotations

import builtins
import os
import warnings

import numpy as np

from .atomic import atomic_write

HDF5_OBJECT_HEADER_LIMIT = 64512
# What kerasish writes: the tf-keras 2.21 dialect (KERAS_FILES.md, "Weights file").
WRITE_BACKEND = "tensorflow"
WRITE_KERAS_VERSION = "2.21.0"
TOP_LEVEL_GROUP = "top_level_model_weights"

_UNBUILT_MESSAGE = (
    "You are loading weights into a model that has not yet been built. Try building the model "
    "first by calling it on some data or by using `build()`."
)


# -- file names ---------------------------------------------------------------------------------
def _is_keras3_weights_name(path):
    return path.endswith(".weights.h5") or path.endswith(".weights.json")


def _check_save_path(path):
    if _is_keras3_weights_name(path):
        raise NotImplementedError(
            "Saving weights in the Keras 3 `.weights.h5` / `.weights.json` format is not "
            "supported yet. Use a legacy HDF5 filename ending in `.h5` or `.hdf5` (e.g. "
            f"`model.h5`). Received: filepath={path}")
    if not (path.endswith(".h5") or path.endswith(".hdf5")):
        raise ValueError(
            "The filename must end in `.h5` or `.hdf5` (the legacy HDF5 weights format; "
            f"`.weights.h5` is not supported yet). Received: filepath={path}")


def _check_load_path(path):
    if path.endswith(".keras"):
        raise NotImplementedError(
            "Loading weights from a Keras 3 `.keras` archive is not supported yet; only legacy "
            f"HDF5 files (`.h5`, `.hdf5`) are. Received: filepath={path}")
    if _is_keras3_weights_name(path):
        raise NotImplementedError(
            "Loading weights from the Keras 3 `.weights.h5` / `.weights.json` format is not "
            "supported yet; only legacy HDF5 files (`.h5`, `.hdf5`) are. "
            f"Received: filepath={path}")
    if not (path.endswith(".h5") or path.endswith(".hdf5")):
        raise ValueError(
            f"File format not supported: filepath={path}. Keras 3 only supports V3 `.keras` "
            "files, `.weights.h5` files, legacy H5 format files (`.h5` extension), or Orbax "
            "checkpoints.")


def _h5py():
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is a dependency
        raise ImportError("Loading and saving HDF5 files requires the h5py package. "
                          "You can install it via `pip install h5py`") from e
    return h5py


# -- the model's layers and weights -------------------------------------------------------------
def _is_graph_model(obj):
    from ..models.functional import Functional
    from ..models.sequential import Sequential

    return isinstance(obj, (Functional, Sequential))


def _children(obj):
    from ..models.model import Model

    return list(obj.layers) if isinstance(obj, Model) else list(obj._layers)


def _legacy_weights(layer):
    """Keras's legacy order: trainable weights, then non-trainable ones."""
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _own_weights(model):
    """The model's own weights (not its layers'): what ``top_level_model_weights`` holds."""
    return list(model._trainable_variables) + list(model._non_trainable_variables)


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
    (fixed-length bytes) when it is larger than the HDF5 object header limit."""
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


def _decode(item):
    if isinstance(item, (bytes, np.bytes_)):
        return bytes(item).decode("utf8")
    return str(item)


def _attr_list(value):
    """An attr value as a list of str: variable-length str/bytes arrays, fixed-length byte
    strings (``S7``), a scalar string, or an empty (float64) array."""
    if isinstance(value, (str, bytes, np.bytes_, np.str_)):
        return [_decode(value)]
    array = np.asarray(value)
    if array.ndim == 0:
        return [_decode(array.item())]
    if array.size == 0:
        return []
    return [_decode(x) for x in array.reshape(-1)]


def load_attributes_from_hdf5_group(group, name):
    """A string-list attr, whole or split into ``NAME0``, ``NAME1``, ... chunks."""
    if name in group.attrs:
        return _attr_list(group.attrs[name])
    data, chunk_id = [], 0
    while f"{name}{chunk_id}" in group.attrs:
        data.extend(_attr_list(group.attrs[f"{name}{chunk_id}"]))
        chunk_id += 1
    return data


def _has_attr(group, name):
    return name in group.attrs or f"{name}0" in group.attrs


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
    """Writes ``model``'s weights into the open HDF5 group ``f`` (tf-keras 2.21 dialect)."""
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
    failed save leaves any previous file intact."""
    path = os.fspath(filepath)
    if not isinstance(path, str):
        path = os.fsdecode(path)
    _check_save_path(path)
    if not overwrite and os.path.exists(path):
        if not _ask_to_proceed_with_overwrite(path):
            return
    h5py = _h5py()

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            save_weights_to_hdf5_group(f, model)

    atomic_write(path, write)


# -- loading ------------------------------------------------------------------------------------
def _read_values(group, where):
    """The arrays named by ``group``'s ``weight_names``, in that order."""
    values = []
    for name in load_attributes_from_hdf5_group(group, "weight_names"):
        if name not in group:
            raise ValueError(f"The weights file is missing the dataset '{name}' listed in the "
                             f"weight_names of {where}. Received: group={group.name}")
        values.append(np.asarray(group[name]))
    return values


def _check_shapes(symbolic_weights, weight_values, name, skip_mismatch, pairs):
    """Adds the (variable, value) pairs to assign; a shape mismatch raises Keras's error or,
    with ``skip_mismatch``, warns and skips that weight."""
    for variable, value in zip(symbolic_weights, weight_values):
        expected, received = tuple(variable.shape), tuple(value.shape)
        if expected != received:
            if skip_mismatch:
                warnings.warn(
                    f"Skipping loading weights for {name}due to mismatch in shape for weight "
                    f"{variable.path}. Weight expects shape {expected}. Received saved weight "
                    f"with shape {received}", stacklevel=4)
                continue
            raise ValueError(
                f"Shape mismatch in {name}for weight {variable.path}. Weight expects shape "
                f"{expected}. Received saved weight with shape {received}")
        pairs.append((variable, value))


def _layer_group(f, name):
    if name not in f:
        raise ValueError(f"The weights file lists layer '{name}' in layer_names but has no "
                         f"group for it. Received: layer_names entry={name!r}")
    return f[name]


def load_weights_from_hdf5_group(f, model, skip_mismatch=False):
    """Loading by position (Keras's rule): the file's layers with weights, in ``layer_names``
    order, one-to-one with the model's layers that have weights, in ``model.layers`` order.
    Nothing is assigned unless every weight checks out (or is skipped)."""
    filtered_layers = [layer for layer in list(model.layers) if _legacy_weights(layer)]
    layer_names = [name for name in load_attributes_from_hdf5_group(f, "layer_names")
                   if load_attributes_from_hdf5_group(_layer_group(f, name), "weight_names")]
    if len(layer_names) != len(filtered_layers):
        raise ValueError(
            "Layer count mismatch when loading weights from file. "
            f"Model expected {len(filtered_layers)} layers, found {len(layer_names)} saved "
            "layers.")
    pairs = []
    for k, name in enumerate(layer_names):
        layer = filtered_layers[k]
        symbolic_weights = _legacy_weights(layer)
        weight_values = _read_values(f[name], f"layer '{name}'")
        if len(weight_values) != len(symbolic_weights):
            raise ValueError(
                f"Weight count mismatch for layer #{k} (named {layer.name} in the current "
                f"model, {name} in the save file). Layer expects {len(symbolic_weights)} "
                f"weight(s). Received {len(weight_values)} saved weight(s)")
        _check_shapes(symbolic_weights, weight_values, f"layer #{k} (named {layer.name})",
                      skip_mismatch, pairs)
    if TOP_LEVEL_GROUP in f:
        symbolic_weights = _own_weights(model)
        weight_values = _read_values(f[TOP_LEVEL_GROUP], TOP_LEVEL_GROUP)
        if len(weight_values) != len(symbolic_weights):
            raise ValueError(
                "Weight count mismatch for top-level weights when loading weights from file. "
                f"Model expects {len(symbolic_weights)} top-level weight(s). Received "
                f"{len(weight_values)} saved top-level weight(s)")
        _check_shapes(symbolic_weights, weight_values, "top-level model", skip_mismatch, pairs)
    for variable, value in pairs:
        variable.assign(value)


def load_weights_from_hdf5_group_by_name(f, model, skip_mismatch=False):
    """Loading by name: each group of ``layer_names`` goes to the model's layers of that name;
    layers without a group, and groups without a layer, are skipped."""
    index = {}
    for layer in list(model.layers):
        index.setdefault(layer.name, []).append(layer)
    pairs = []
    for k, name in enumerate(load_attributes_from_hdf5_group(f, "layer_names")):
        if name not in index:
            continue
        weight_values = _read_values(_layer_group(f, name), f"layer '{name}'")
        for layer in index[name]:
            symbolic_weights = _legacy_weights(layer)
            if len(weight_values) != len(symbolic_weights):
                if skip_mismatch:
                    warnings.warn(
                        f"Skipping loading of weights for layer #{k} (named {layer.name}) due "
                        "to mismatch in number of weights. Layer expects "
                        f"{len(symbolic_weights)} weight(s). Received {len(weight_values)} "
                        "saved weight(s)", stacklevel=3)
                    continue
                raise ValueError(
                    f"Weight count mismatch for layer #{k} (named {layer.name}). Layer expects "
                    f"{len(symbolic_weights)} weight(s). Received {len(weight_values)} saved "
                    "weight(s)")
            _check_shapes(symbolic_weights, weight_values, f"layer #{k} (named {layer.name})",
                          skip_mismatch, pairs)
    if TOP_LEVEL_GROUP in f:
        symbolic_weights = _own_weights(model)
        weight_values = _read_values(f[TOP_LEVEL_GROUP], TOP_LEVEL_GROUP)
        if len(weight_values) != len(symbolic_weights):
            if skip_mismatch:
                warnings.warn(
                    "Skipping loading top-level weights for model due to mismatch in number of "
                    f"weights. Model expects {len(symbolic_weights)} top-level weight(s). "
                    f"Received {len(weight_values)} saved top-level weight(s)", stacklevel=3)
            else:
                raise ValueError(
                    "Weight count mismatch for top-level weights of model. Model expects "
                    f"{len(symbolic_weights)} top-level weight(s). Received "
                    f"{len(weight_values)} saved top-level weight(s)")
        else:
            _check_shapes(symbolic_weights, weight_values, "top-level model", skip_mismatch,
                          pairs)
    for variable, value in pairs:
        variable.assign(value)


def load_weights(model, filepath, skip_mismatch=False, by_name=False):
    """``model.load_weights(filepath)`` for a legacy ``.h5``/``.hdf5`` weights or full-model file
    written by tf-keras, Keras 3 or kerasish."""
    path = os.fspath(filepath)
    if not isinstance(path, str):
        path = os.fsdecode(path)
    _check_load_path(path)
    if not getattr(model, "built", False):
        raise ValueError(_UNBUILT_MESSAGE)
    h5py = _h5py()
    with h5py.File(path, "r") as f:
        group = f
        if not _has_attr(f, "layer_names") and "model_weights" in f:
            group = f["model_weights"]
        if by_name:
            load_weights_from_hdf5_group_by_name(group, model, skip_mismatch=skip_mismatch)
        else:
            load_weights_from_hdf5_group(group, model, skip_mismatch=skip_mismatch)


__all__ = ["load_weights", "save_weights", "load_weights_from_hdf5_group",
           "load_weights_from_hdf5_group_by_name", "save_weights_to_hdf5_group"]
