"""Reading Keras's legacy HDF5 weights layout: string attributes, layer groups, and the plan of
which file weights go to which model weights (``legacy_h5`` loads with it).

Planning reads only the layout and the datasets' shapes and dtypes and returns the
(variable, dataset) pairs to load. When the file does not fit, it raises Keras's first error
followed by the listing of what did not map (``weights_report``). A string attribute that
holds no strings, a weight name that points nowhere or at a group, or a dataset of non-numbers
is a ``WeightsFileError`` naming the file.
"""
from __future__ import annotations

import warnings

import numpy as np

from .weights_report import (NOTHING, Row, align, check_dataset, compare, file_error,
                             h5py_module, listing, name_list, plural, source_name)

TOP_LEVEL_GROUP = "top_level_model_weights"


# -- weights and attributes -------------------------------------------------------------------
def legacy_weights(layer):
    """Keras's legacy order: trainable weights, then non-trainable ones.

    >>> [v.name for v in legacy_weights(BatchNormalization(scale=False))]  # once built
    ['beta', 'moving_mean', 'moving_variance']
    """
    return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def own_weights(model):
    """The model's own weights (not its layers'): what ``top_level_model_weights`` holds.

    >>> own_weights(functional_model)
    []
    """
    return list(model._trainable_variables) + list(model._non_trainable_variables)


def _decode(item, group, name):
    if isinstance(item, (bytes, np.bytes_)):
        try:
            return bytes(item).decode("utf8")
        except UnicodeDecodeError as e:
            raise file_error(group, f"the attribute '{name}' of {group.name} is not valid "
                             f"UTF-8 ({e})") from e
    return str(item)


def _attr_list(value, group, name):
    """An attr value as a list of str: variable-length str/bytes arrays, fixed-length byte
    strings (``S7``), a scalar string, or an empty (float64) array. Anything else (numbers,
    say) means a corrupted file."""
    if isinstance(value, (str, bytes, np.bytes_, np.str_)):
        return [_decode(value, group, name)]
    array = np.asarray(value)
    if array.size == 0:
        return []
    items = array.reshape(-1)
    if array.dtype.kind not in "SUO" or not all(isinstance(x, (str, bytes)) for x in items):
        raise file_error(group, f"the attribute '{name}' of {group.name} should hold strings, "
                         f"but holds {array.dtype} values: {np.array2string(items[:5])}")
    return [_decode(x, group, name) for x in items]


def load_attributes_from_hdf5_group(group, name):
    """A string-list attr, whole or split into ``NAME0``, ``NAME1``, ... chunks.

    >>> load_attributes_from_hdf5_group(f, "layer_names")
    ['input_1', 'dense']
    """
    if name in group.attrs:
        return _attr_list(group.attrs[name], group, name)
    data, chunk_id = [], 0
    while f"{name}{chunk_id}" in group.attrs:
        data.extend(_attr_list(group.attrs[f"{name}{chunk_id}"], group, f"{name}{chunk_id}"))
        chunk_id += 1
    return data


def has_attr(group, name):
    """Whether ``group`` has the attr ``name``, whole or split.

    >>> has_attr(f, "layer_names")
    True
    """
    return name in group.attrs or f"{name}0" in group.attrs


# -- planning -----------------------------------------------------------------------------------
# Loading first plans: it reads the file's layout, checks it against the model and collects
# (variable, dataset) pairs; the values are read and assigned only when everything checks out.
def _file_layer(f, name, listed=True):
    """(name, [(weight name, dataset)]) of one layer group, every dataset checked."""
    h5py = h5py_module()
    group = f.get(name) if name and name in f else None
    if not isinstance(group, h5py.Group):
        problem = (f"the file lists layer '{name}' in layer_names but has no group for it"
                   if listed else f"'{name}' is not a group")
        found = f"{group.name} is a {type(group).__name__}" if group is not None else ""
        raise file_error(f, f"{problem} ({found or 'in ' + f.name})")
    weights = []
    for weight_name in load_attributes_from_hdf5_group(group, "weight_names"):
        if not weight_name or weight_name not in group:
            raise file_error(f, f"the dataset '{weight_name}' listed in the weight_names of "
                             f"layer '{name}' is missing from {group.name}")
        dataset = check_dataset(group[weight_name], f"weight '{weight_name}' of layer '{name}'")
        weights.append((weight_name, dataset))
    return name, weights


def _shapes(weights):
    return [(name, tuple(dataset.shape)) for name, dataset in weights]


def _model_shapes(layer):
    return [(v.path, tuple(v.shape)) for v in legacy_weights(layer)]


def _model_label(k, layer):
    n = len(legacy_weights(layer))
    number = "" if k is None else f"#{k} "
    return f"{number}{layer.name} ({type(layer).__name__}, {plural(n, 'weight')})"


def _file_label(k, name, weights):
    return f"#{k} {name} ({plural(len(weights), 'weight')})"


def _row(model_label, file_label, model_weights, file_weights):
    return Row(model_label, file_label, *compare(model_weights, file_weights))


def _check_shapes(symbolic_weights, weights, name, skip_mismatch, pairs, errors):
    """Adds the (variable, dataset) pairs to load; a shape mismatch adds Keras's error text
    or, with ``skip_mismatch``, warns and skips that weight."""
    for variable, (_, dataset) in zip(symbolic_weights, weights):
        expected, received = tuple(variable.shape), tuple(dataset.shape)
        if expected == received:
            pairs.append((variable, dataset))
            continue
        text = (f"for weight {variable.path}. Weight expects shape {expected}. Received saved "
                f"weight with shape {received}")
        if skip_mismatch:
            warnings.warn(f"Skipping loading weights for {name}due to mismatch in shape {text}",
                          stacklevel=6)
        else:
            errors.append(f"Shape mismatch in {name}{text}")


def _plan_top_level(f, model, skip_mismatch, by_name, pairs, rows, errors):
    """The model's own weights against ``top_level_model_weights``; True when both hold some."""
    if TOP_LEVEL_GROUP not in f:
        return False
    symbolic_weights = own_weights(model)
    _, weights = _file_layer(f, TOP_LEVEL_GROUP, listed=False)
    model_weights = [(v.path, tuple(v.shape)) for v in symbolic_weights]
    row = _row(f"the model's own weights ({plural(len(model_weights), 'weight')})",
               f"{TOP_LEVEL_GROUP} ({plural(len(weights), 'weight')})",
               model_weights, _shapes(weights))
    if not row.ok:
        rows.append(row)
    if len(weights) != len(symbolic_weights):
        counts = (f"Model expects {len(symbolic_weights)} top-level weight(s). Received "
                  f"{len(weights)} saved top-level weight(s)")
        if not by_name:
            errors.append("Weight count mismatch for top-level weights when loading weights "
                          f"from file. {counts}")
        elif skip_mismatch:
            warnings.warn("Skipping loading top-level weights for model due to mismatch in "
                          f"number of weights. {counts}", stacklevel=5)
        else:
            errors.append(f"Weight count mismatch for top-level weights of model. {counts}")
        return bool(weights and symbolic_weights)
    _check_shapes(symbolic_weights, weights, "top-level model", skip_mismatch, pairs, errors)
    return bool(weights)


def _position_rows(layers, file_layers):
    """The listing's rows: the model's layers with weights against the file's, lined up."""
    rows = []
    model_sigs = [tuple(shape for _, shape in _model_shapes(layer)) for layer in layers]
    file_sigs = [tuple(shape for _, shape in _shapes(weights)) for _, weights in file_layers]
    for i, j in align(model_sigs, file_sigs, [layer.name for layer in layers],
                      [name for name, _ in file_layers]):
        if j is None:
            rows.append(Row(_model_label(i, layers[i]), NOTHING, "missing from the file"))
            continue
        name, weights = file_layers[j]
        if i is None:
            rows.append(Row(NOTHING, _file_label(j, name, weights), "extra in the file"))
        else:
            rows.append(_row(_model_label(i, layers[i]), _file_label(j, name, weights),
                             _model_shapes(layers[i]), _shapes(weights)))
    return rows


def plan_by_position(f, model, skip_mismatch):
    """The (variable, dataset) pairs to load by position (Keras's rule); raises Keras's first
    error followed by the listing of every layer, model -> file.

    >>> pairs = plan_by_position(f, model, skip_mismatch=False)
    """
    layers = [layer for layer in list(model.layers) if legacy_weights(layer)]
    file_layers = [entry for entry in (_file_layer(f, name) for name in
                                       load_attributes_from_hdf5_group(f, "layer_names"))
                   if entry[1]]
    pairs, top_rows, errors = [], [], []
    same_count = len(file_layers) == len(layers)
    if not same_count:
        errors.append("Layer count mismatch when loading weights from file. "
                      f"Model expected {len(layers)} layers, found {len(file_layers)} saved "
                      "layers.")
    for k, (layer, (name, weights)) in enumerate(zip(layers, file_layers) if same_count else ()):
        symbolic_weights = legacy_weights(layer)
        if len(weights) != len(symbolic_weights):
            errors.append(
                f"Weight count mismatch for layer #{k} (named {layer.name} in the current "
                f"model, {name} in the save file). Layer expects {len(symbolic_weights)} "
                f"weight(s). Received {len(weights)} saved weight(s)")
            continue
        _check_shapes(symbolic_weights, weights, f"layer #{k} (named {layer.name})",
                      skip_mismatch, pairs, errors)
    _plan_top_level(f, model, skip_mismatch, False, pairs, top_rows, errors)
    if errors:
        title = (f"Layers with weights, model -> file {source_name(f)} (loading pairs them by "
                 "position; the rows line them up by weight shapes to show what differs):")
        rows = _position_rows(layers, file_layers) + top_rows
        raise ValueError(f"{errors[0]}\n\n{listing(title, rows, _layout_hint(f))}")
    return pairs


def _layout_hint(f):
    if not has_attr(f, "layer_names") and ("layers" in f or "vars" in f):
        return ("Hint: the file has no `layer_names` attribute but has Keras 3 `layers`/`vars` "
                "groups: it is a Keras 3 weights file. Load it from a name ending in "
                "`.weights.h5`.")
    return None


def _match_by_name(f, model, skip_mismatch, pairs, rows, errors):
    """Pairs each group of ``layer_names`` with the model's layers of that name; returns
    (number of matches where a side has weights, names of the file's unmatched layers with
    weights, ids of the matched model layers)."""
    index = {}
    for layer in list(model.layers):
        index.setdefault(layer.name, []).append(layer)
    hits, extra, matched = 0, [], set()
    for k, name in enumerate(load_attributes_from_hdf5_group(f, "layer_names")):
        _, weights = _file_layer(f, name)
        if name not in index:
            if weights:
                extra.append(name)
                rows.append(Row(NOTHING, _file_label(k, name, weights), "extra in the file: "
                                "no layer of the model has this name"))
            continue
        for layer in index[name]:
            matched.add(id(layer))
            symbolic_weights = legacy_weights(layer)
            hits += bool(symbolic_weights or weights)
            row = _row(_model_label(None, layer), _file_label(k, name, weights),
                       _model_shapes(layer), _shapes(weights))
            if not row.ok:
                rows.append(row)
            if len(weights) == len(symbolic_weights):
                _check_shapes(symbolic_weights, weights, f"layer #{k} (named {layer.name})",
                              skip_mismatch, pairs, errors)
                continue
            counts = (f"Layer expects {len(symbolic_weights)} weight(s). Received "
                      f"{len(weights)} saved weight(s)")
            if skip_mismatch:
                warnings.warn(f"Skipping loading of weights for layer #{k} (named {layer.name}) "
                              f"due to mismatch in number of weights. {counts}", stacklevel=6)
            else:
                errors.append(f"Weight count mismatch for layer #{k} (named {layer.name}). "
                              f"{counts}")
    return hits, extra, matched


def plan_by_name(f, model, skip_mismatch):
    """The (variable, dataset) pairs to load by layer name. Mismatches raise Keras's first
    error and the listing; a file whose layers with weights match no layer of the model (that
    has weights) is an error; a partial match warns, naming the layers left out.

    >>> pairs = plan_by_name(f, model, skip_mismatch=False)
    """
    pairs, rows, errors = [], [], []
    hits, extra, matched = _match_by_name(f, model, skip_mismatch, pairs, rows, errors)
    missing = [layer for layer in list(model.layers)
               if legacy_weights(layer) and id(layer) not in matched]
    rows += [Row(_model_label(None, layer), NOTHING, "missing from the file: no layer of the "
                 "file has this name") for layer in missing]
    hits += _plan_top_level(f, model, skip_mismatch, True, pairs, rows, errors)
    src, missing = source_name(f), [layer.name for layer in missing]
    if errors:
        title = f"Layers matched by name, model -> file {src}:"
        raise ValueError(f"{errors[0]}\n\n{listing(title, rows)}")
    if not hits and extra and (missing or own_weights(model)):
        raise ValueError(
            "Loading weights by name (`by_name=True`) matched no layer: none of the "
            f"{plural(len(extra), 'layer')} with weights in {src} has the name of a layer of "
            "the model, so nothing would be loaded.\n"
            f"Layers of the model with weights: {name_list(missing)}\n"
            f"Layers of the file with weights: {name_list(extra)}")
    parts = []
    if missing:
        parts.append(f"{plural(len(missing), 'layer')} of the model with weights had no layer "
                     f"of that name in the file and kept their weights: {name_list(missing)}")
    if extra:
        parts.append(f"{plural(len(extra), 'layer')} of the file with weights matched no layer "
                     f"of the model and were not loaded: {name_list(extra)}")
    if parts and hits:  # a model without weights has nothing to load: nothing to say
        warnings.warn(f"Loading weights by name from {src}: " + "; ".join(parts) + ".",
                      UserWarning, stacklevel=4)
    return pairs
