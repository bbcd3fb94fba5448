"""Keras's legacy full-model HDF5 file (``model.save("m.h5")``), written and read.

Layout (the contract: docs/file-formats.md, "Legacy whole-model file"):

- root attrs ``keras_version``, ``backend`` (UTF-8 str), ``model_config`` and, for a compiled
  model, ``training_config`` (JSON, ASCII str);
- group ``model_weights``: the same attrs and groups as a legacy weights file (``legacy_h5``);
- group ``optimizer_weights`` (compiled models): attr ``weight_names`` and one dataset per
  optimizer variable, ``iteration:0`` first.

kerasish writes the tf-keras 2.21 dialect: the model's Keras 3 config is converted to tf-keras's
(``batch_input_shape``, nested ``inbound_nodes`` lists, no ``module`` in layer entries, dtype
strings, ``Custom>Adam`` optimizer configs, ``Adam/m/dense/kernel:0`` slot names), keeping to
values Keras 3.15 also reads, so one file loads in both (``tests/compat/``). Reading
accepts both dialects: the loader undoes tf-keras's quirks that Keras 3's own legacy loader
undoes (``batch_input_shape``, one-element ``axis`` lists, Lambda's list form) plus the RNN
keys and optimizer keys that tf-keras adds, and restores every optimizer variable, not only the
iteration count as Keras 3 does. Loading only reads JSON and arrays; it never executes anything
from the file unless a ``Lambda`` is allowed by ``safe_mode=False``.
"""
from __future__ import annotations

import json
import logging
import os

import numpy as np

from . import layer_state, object_registration
from .atomic import atomic_write
from .keras_archive import _json_default, compile_from_config
from .legacy_config import keras2_model_config, upgrade_model_config
from .legacy_training_config import (KERAS2_SLOTS, compile_config_from_training_config,
                                     keras2_optimizer_name, keras2_training_config)
from .legacy_h5 import (WRITE_BACKEND, WRITE_KERAS_VERSION, _h5py, _keras2_names,
                        load_attributes_from_hdf5_group, load_weights_from_hdf5_group,
                        save_attributes_to_hdf5_group, save_weights_to_hdf5_group)

logger = logging.getLogger("kerasish")


# -- optimizer weights --------------------------------------------------------------------------
def _keras2_optimizer_weights(model):
    """(names, values) of ``optimizer_weights`` in tf-keras's naming: ``iteration:0``, then
    ``Adam/m/dense/kernel:0``, ``Adam/v/dense/kernel:0``, ...; no learning rate."""
    optimizer = model.optimizer
    prefix = keras2_optimizer_name(optimizer)
    slots = KERAS2_SLOTS.get(type(optimizer).__name__, {})
    keras2 = _keras2_names(model)
    # A slot is named "<weight path with / -> _>_<slot>" (add_variable_from_reference).
    refs = sorted(((v.path.replace("/", "_") + "_", keras2.get(id(v), v.path))
                   for v in model.trainable_variables), key=lambda r: -len(r[0]))
    names, values = [], []
    for variable in optimizer.variables:
        name = str(variable.name)
        if name == "learning_rate":
            continue
        if name == "iteration":
            names.append("iteration:0")
        else:
            ref = next((r for r in refs if name.startswith(r[0])), None)
            if ref is None:
                names.append(f"{prefix}/{name}:0")
            else:
                slot = name[len(ref[0]):]
                names.append(f"{prefix}/{slots.get(slot, slot)}/{ref[1]}:0")
        values.append(variable.numpy())
    return names, values


def _save_optimizer_weights(f, model):
    names, values = _keras2_optimizer_weights(model)
    group = f.create_group("optimizer_weights")
    save_attributes_to_hdf5_group(group, "weight_names", [n.encode("utf8") for n in names])
    for name, value in zip(names, values):
        value = np.asarray(value, order="C")
        dataset = group.create_dataset(name, value.shape, dtype=value.dtype)
        dataset[()] = value


def _saved_optimizer_values(group):
    """The iteration count then the slots, in Keras 3's interleaved order, from any dialect:
    tf-keras (``iteration:0``, ``Adam/m/...``), tf-keras legacy optimizers (``Adam/iter:0``, all
    ``m`` then all ``v``) and Keras 3 (``adam/iteration``, ``adam/learning_rate``, ...)."""
    names = load_attributes_from_hdf5_group(group, "weight_names")
    entries = [(name.split(":")[0].split("/"), np.asarray(group[name][()])) for name in names]
    entries = [(parts, value) for parts, value in entries if parts[-1] != "learning_rate"]
    if not entries:
        return []
    iteration, slots = entries[0], entries[1:]
    if iteration[0][-1] == "iter":
        kinds = list(dict.fromkeys(parts[-1] for parts, _ in slots))
        per_kind = len(slots) // max(len(kinds), 1)
        if per_kind * len(kinds) == len(slots):
            slots = [slots[k * per_kind + i] for i in range(per_kind) for k in range(len(kinds))]
    return [iteration[1]] + [value for _, value in slots]


def _load_optimizer_weights(group, model):
    """Assigns the saved optimizer state; a mismatch logs Keras's warning and keeps a fresh
    optimizer."""
    targets = [v for v in model.optimizer.variables if str(v.name) != "learning_rate"]
    values = _saved_optimizer_values(group)
    if len(values) != len(targets) or any(tuple(np.shape(value)) != tuple(t.shape)
                                          for t, value in zip(targets, values)):
        logger.warning("Error in loading the saved optimizer state. As a result, your model is "
                       "starting with a freshly initialized optimizer.")
        return
    for variable, value in zip(targets, values):
        variable.assign(np.asarray(value, dtype=variable.dtype))


# -- the file -----------------------------------------------------------------------------------
def _model_build_config(model):
    from .serialization import _build_config  # late: serialization imports the layers

    return _build_config(model)


def save_model_to_hdf5(model, filepath, include_optimizer=True):
    """Writes ``model`` (architecture, weights, training config, optimizer state) to a legacy
    ``.h5`` file in the tf-keras 2 dialect, atomically.

    >>> save_model_to_hdf5(model, "model.h5")
    """
    h5py = _h5py()
    path = os.fspath(filepath)
    model_config = keras2_model_config({
        "class_name": type(model).__name__, "module": type(model).__module__,
        "registered_name": object_registration.get_registered_name(type(model)),
        "config": model.get_config(), "build_config": _model_build_config(model)})
    training_config = keras2_training_config(model) if include_optimizer else None
    with_optimizer = include_optimizer and getattr(model, "optimizer", None) is not None
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)

    def write(tmp):
        with h5py.File(tmp, "w") as f:
            f.attrs["keras_version"] = WRITE_KERAS_VERSION
            f.attrs["backend"] = WRITE_BACKEND
            f.attrs["model_config"] = json.dumps(model_config, default=_json_default).encode()
            if training_config is not None:
                f.attrs["training_config"] = json.dumps(training_config,
                                                        default=_json_default).encode()
            save_weights_to_hdf5_group(f.create_group("model_weights"), model)
            layer_state.save_h5_state(f, model)  # vocabularies (kerasish's group)
            if with_optimizer:
                _save_optimizer_weights(f, model)

    atomic_write(path, write)


def _json_attr(f, name, path):
    value = f.attrs.get(name)
    if value is None:
        return None
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    if isinstance(value, (bytes, np.bytes_)):
        value = bytes(value).decode("utf-8")
    try:
        return json.loads(value)
    except (TypeError, ValueError) as e:
        raise ValueError(f"The attribute `{name}` of the HDF5 file at {path} is not valid JSON "
                         f"({e}). The file may be corrupted. Received: filepath={path}") from e


def _corrupted(path, error):
    return ValueError(f"Could not read the HDF5 file at {path}: {error}. The file may be "
                      f"truncated or corrupted, or not an HDF5 file. Received: filepath={path}")


def load_model_from_hdf5(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a legacy ``.h5`` file written by tf-keras 2, Keras 3 or kerasish.

    Args:
        filepath: Path of the ``.h5`` / ``.hdf5`` file.
        custom_objects: Dict of names to custom classes or functions used by the model.
        compile: Whether to compile the model from its ``training_config`` and restore the
            optimizer's state.
        safe_mode: Whether to refuse Python lambdas (``Lambda`` layers) in the config.

    >>> model = load_model_from_hdf5("model.h5")
    """
    from .serialization import deserialize_keras_object

    h5py = _h5py()
    path = os.fspath(filepath)
    try:
        f = h5py.File(path, "r")
    except FileNotFoundError:
        raise
    except OSError as e:
        raise _corrupted(path, e) from e
    with f:
        try:
            model_config = _json_attr(f, "model_config", path)
            if model_config is None:
                raise ValueError(f"No model config found in the file at {path}.")
            model = deserialize_keras_object(upgrade_model_config(model_config),
                                             custom_objects=custom_objects, safe_mode=safe_mode)
            if "model_weights" not in f:
                raise ValueError(f"The file at {path} has a model config but no "
                                 f"`model_weights` group. Received: filepath={path}")
            load_weights_from_hdf5_group(f["model_weights"], model)
            layer_state.load_h5_state(f, model)
            if not compile:
                return model
            training_config = _json_attr(f, "training_config", path)
            if training_config is None:
                logger.warning("No training configuration found in the save file, so the "
                               "model was *not* compiled. Compile it manually.")
                return model
            compile_from_config(model, compile_config_from_training_config(training_config),
                                custom_objects)
            if "optimizer_weights" in f:
                _load_optimizer_weights(f["optimizer_weights"], model)
        except (OSError, KeyError) as e:
            raise _corrupted(path, e) from e
    return model


__all__ = ["compile_config_from_training_config", "keras2_model_config",
           "keras2_training_config", "load_model_from_hdf5", "save_model_to_hdf5",
           "upgrade_model_config"]
