"""Keras 3's ``.keras`` archive (``model.save("m.keras")``), written and read.

Layout (docs/file-formats.md, "Keras 3 archive"): a plain zip, every member stored
uncompressed (ZIP_STORED), no directory entries, members in this order:

- ``metadata.json``: ``{"keras_version": ..., "date_saved": "%Y-%m-%d@%H:%M:%S"}`` (never read);
- ``config.json``: one line of ``json.dumps`` of the model's serialized form, top-level keys
  ``module, class_name, config, registered_name, build_config, compile_config``;
- ``model.weights.h5``: the Keras 3 weights layout (``keras_weights_h5``), with the optimizer's
  variables under ``optimizer/vars``.

Loading reads ``config.json`` and ``model.weights.h5`` only, in any member order and any zip
compression. It builds the model with ``serialization.deserialize_keras_object`` (which refuses
Python lambdas unless ``safe_mode=False``), compiles it from ``compile_config`` and then loads
every variable, optimizer included, so that ``fit`` continues where it stopped. Loading never runs
code from the file (no pickle, no eval).
"""
from __future__ import annotations

import datetime
import io
import json
import os
import warnings
import zipfile

import numpy as np

from . import keras_weights_h5, layer_state, object_registration
from .atomic import atomic_write
from .legacy_h5 import _h5py

# The Keras release whose `.keras` dialect kerasish writes (docs/file-formats.md).
KERAS_VERSION = "3.15.1"
METADATA_FILENAME = "metadata.json"
CONFIG_FILENAME = "config.json"
WEIGHTS_FILENAME = "model.weights.h5"
_NPZ_WEIGHTS_FILENAME = "model.weights.npz"
_CONFIG_KEYS = ("module", "class_name", "config", "registered_name", "build_config",
                "compile_config")
_COMPILE_KEYS = ("optimizer", "loss", "loss_weights", "metrics", "weighted_metrics",
                 "run_eagerly", "steps_per_execution", "jit_compile")
# Metric names that `compile` resolves from the output shapes; they stay strings.
_SHAPE_RESOLVED = ("accuracy", "acc", "crossentropy", "ce")


# -- compile config -----------------------------------------------------------------------------
def _serialize_spec(spec, serialize):
    """A loss or metrics argument of ``compile`` as JSON: strings and numbers stay as they are,
    containers are mapped, objects and functions become Keras's serialized dicts."""
    if spec is None or isinstance(spec, (str, bool, int, float)):
        return spec
    if isinstance(spec, dict):
        return {k: _serialize_spec(v, serialize) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [_serialize_spec(v, serialize) for v in spec]
    if isinstance(spec, np.generic):
        return spec.item()
    from .serialization import custom_object_config

    # A registered or user-defined loss or metric is written as Keras writes it.
    return custom_object_config(spec) or serialize(spec)


def get_compile_config(model):
    """What ``model.compile`` was given, as Keras 3 writes it in ``compile_config`` (``{}`` for
    an uncompiled model). The optimizer is the resolved one, with its config.

    >>> get_compile_config(model)["loss"]
    'mse'
    """
    from .. import losses, metrics, optimizers

    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        return {}
    # `compile` records its arguments as given (trainer.py); older objects lack the record.
    given = getattr(model, "_compile_config", None)
    if given is None:
        compile_loss = getattr(model, "_compile_loss", None)
        compile_metrics = getattr(model, "_compile_metrics", None)
        given = {"loss": getattr(model, "loss", None),
                 "loss_weights": getattr(compile_loss, "loss_weights", None),
                 "metrics": getattr(compile_metrics, "metrics_spec", None),
                 "weighted_metrics": getattr(compile_metrics, "weighted_spec", None),
                 "run_eagerly": getattr(model, "run_eagerly", False),
                 "jit_compile": getattr(model, "jit_compile", "auto")}
    jit_compile = given.get("jit_compile", "auto")
    return {
        "optimizer": optimizers.serialize(model.optimizer),
        "loss": _serialize_spec(given.get("loss"), losses.serialize),
        "loss_weights": _serialize_spec(given.get("loss_weights"), str),
        "metrics": _serialize_spec(given.get("metrics"), metrics.serialize),
        "weighted_metrics": _serialize_spec(given.get("weighted_metrics"), metrics.serialize),
        "run_eagerly": bool(given.get("run_eagerly", False)),
        "steps_per_execution": given.get("steps_per_execution", 1),
        # NOTE: "auto" means no XLA here, and Keras writes the resolved value (false on CPU).
        "jit_compile": False if jit_compile == "auto" else bool(jit_compile),
    }


def _is_object_config(value):
    return isinstance(value, dict) and "class_name" in value


def _is_custom_config(spec, custom_objects):
    """Whether a loss or metric config names a custom object (registered, in a scope or in
    ``custom_objects``), rather than a Keras built-in."""
    objects = custom_objects or {}
    if spec.get("class_name") == "function":
        return spec.get("config") in objects
    return spec.get("registered_name") in objects or (
        spec.get("class_name") in objects and not str(spec.get("module") or "").startswith("keras"))


def _deserialize_spec(spec, deserialize, custom_objects):
    if spec is None or isinstance(spec, (bool, int, float)):
        return spec
    if isinstance(spec, str):
        # A custom name resolves through custom_objects, as in Keras's CustomObjectScope.
        return (custom_objects or {}).get(spec, spec)
    if _is_object_config(spec):
        if _is_custom_config(spec, custom_objects):
            from .serialization import deserialize_keras_object

            return deserialize_keras_object(spec, custom_objects=custom_objects)
        return deserialize(spec, custom_objects=custom_objects)
    if isinstance(spec, dict):
        return {k: _deserialize_spec(v, deserialize, custom_objects) for k, v in spec.items()}
    if isinstance(spec, (list, tuple)):
        return [_deserialize_spec(v, deserialize, custom_objects) for v in spec]
    raise ValueError("Saved configuration not understood. Configuration should be a dictionary, "
                     f"string, tuple or list. Received: config={spec}.")


def _deserialize_metric(config, custom_objects=None):
    from .. import metrics

    if config in _SHAPE_RESOLVED:
        return config
    return metrics.deserialize(config, custom_objects=custom_objects)


def deserialize_optimizer(config, custom_objects=None):
    """An optimizer from Keras 3's or tf-keras's serialized form (``"Custom>Adam"``, with
    tf-keras's ``jit_compile`` and ``is_legacy_optimizer`` keys, which do not exist here).

    >>> deserialize_optimizer({"class_name": "Custom>Adam", "config": {"name": "Adam"}})
    <Adam name=Adam, built=False>
    """
    from .. import optimizers

    if isinstance(config, str):
        return optimizers.get((custom_objects or {}).get(config, config))
    class_name = str(config.get("class_name", ""))
    if class_name.startswith("Custom>"):
        class_name = class_name[len("Custom>"):]
    inner = dict(config.get("config") or {})
    for key in ("jit_compile", "is_legacy_optimizer"):
        inner.pop(key, None)
    return optimizers.deserialize({"class_name": class_name, "config": inner},
                                  custom_objects=custom_objects)


def _unwrap_single_output(model, spec):
    """tf-keras writes metrics per output (``[["mae"]]``); one output takes the inner list."""
    outputs = getattr(model, "outputs", None) or []
    if len(outputs) == 1 and isinstance(spec, list) and len(spec) == 1 and \
            isinstance(spec[0], list):
        return spec[0]
    return spec


def compile_from_config(model, config, custom_objects=None):
    """``model.compile(**config)`` from a saved compile config, then builds the optimizer over
    ``model.trainable_variables`` so that its saved variables can be loaded (Keras 3's
    ``compile_from_config``).

    >>> compile_from_config(model, {"optimizer": "adam", "loss": "mse"})
    """
    from .. import losses
    from ..trainer import Trainer

    # A class whose compile() is its own may still take its saved config here (it says so).
    if type(model).compile is not Trainer.compile and \
            not getattr(model, "_compiles_from_config", False):
        warnings.warn(
            "`compile()` was not called as part of model loading because the model's "
            "`compile()` method is custom. All subclassed Models that have `compile()` "
            "overridden should also override `get_compile_config()` and "
            "`compile_from_config(config)`. Alternatively, you can call `compile()` manually "
            "after loading.", stacklevel=2)
        return
    custom_objects = object_registration.lookup_objects(custom_objects)
    config = dict(config)
    optimizer = config.get("optimizer", "rmsprop")
    if optimizer is not None:
        optimizer = deserialize_optimizer(optimizer, custom_objects)
    kwargs = {"optimizer": optimizer,
              "loss": _deserialize_spec(config.get("loss"), losses.deserialize, custom_objects)}
    for key in ("metrics", "weighted_metrics"):
        spec = _deserialize_spec(config.get(key), _deserialize_metric, custom_objects)
        kwargs[key] = _unwrap_single_output(model, spec)
    for key in ("loss_weights", "run_eagerly", "steps_per_execution", "jit_compile"):
        if key in config:
            kwargs[key] = config[key]
    model.compile(**kwargs)
    if getattr(model, "built", False) and model.optimizer is not None:
        model.optimizer.build(model.trainable_variables)


# -- writing ------------------------------------------------------------------------------------
def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable. "
                    f"Received: {obj!r}")


def serialize_model(model):
    """The model's ``config.json`` content: Keras's serialized form with its top-level keys in
    Keras's order and ``compile_config`` always present (``{}`` when not compiled).

    >>> list(serialize_model(model))
    ['module', 'class_name', 'config', 'registered_name', 'build_config', 'compile_config']
    """
    from .serialization import serialize_keras_object

    serialized = dict(serialize_keras_object(model))
    serialized["compile_config"] = model.get_compile_config() \
        if hasattr(model, "get_compile_config") else get_compile_config(model)
    ordered = {key: serialized.pop(key) for key in _CONFIG_KEYS if key in serialized}
    ordered.update(serialized)
    return ordered


def _weights_bytes(model):
    h5py = _h5py()
    buffer = io.BytesIO()
    # Default h5py settings give Keras's container: superblock 0, no creation order.
    with h5py.File(buffer, "w") as f:
        keras_weights_h5.save_weights_to_h5_group(f, model)
    return buffer.getvalue()


def save_model(model, filepath):
    """Writes ``model`` to ``filepath`` as a ``.keras`` archive, atomically.

    >>> save_model(model, "model.keras")
    """
    path = os.fspath(filepath)
    if not str(path).endswith(".keras"):
        raise ValueError("Invalid `filepath` argument: expected a `.keras` extension. "
                         f"Received: filepath={path}")
    if not getattr(model, "built", False):
        warnings.warn("You are saving a model that has not yet been built. It might not contain "
                      "any weights yet. Consider building the model first by calling it on "
                      "some data.", stacklevel=3)
    # Everything is serialized before the file is opened: a failure leaves no partial archive.
    config_json = json.dumps(serialize_model(model), default=_json_default)
    metadata_json = json.dumps({
        "keras_version": KERAS_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    })
    weights = _weights_bytes(model)
    assets = layer_state.archive_assets(model)

    def write(tmp):
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(METADATA_FILENAME, metadata_json)
            archive.writestr(CONFIG_FILENAME, config_json)
            archive.writestr(WEIGHTS_FILENAME, weights)
            for name, data in assets:  # assets/<object path>/<file> (vocabularies)
                archive.writestr(name, data)

    atomic_write(path, write)


# -- reading ------------------------------------------------------------------------------------
def _corrupted(path, what, error):
    return ValueError(f"Could not read the `.keras` file at {path}: {what} ({error}). The file "
                      f"may be truncated or corrupted. Received: filepath={path}")


def _read_member(archive, name, path):
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise _corrupted(path, f"its member `{name}` cannot be read", e) from e


def _read_archive(path):
    """(config dict, weights bytes or None, member names) of a ``.keras`` file."""
    try:
        archive = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, EOFError) as e:
        raise _corrupted(path, "it is not a zip archive", e) from e
    with archive:
        names = archive.namelist()
        if CONFIG_FILENAME not in names:
            raise ValueError(f"The `.keras` file at {path} has no `{CONFIG_FILENAME}` member, "
                             "so it holds no model. Received: members="
                             f"{names}")
        raw = _read_member(archive, CONFIG_FILENAME, path)
        weights = _read_member(archive, WEIGHTS_FILENAME, path) \
            if WEIGHTS_FILENAME in names else None
    try:
        config = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as e:
        raise _corrupted(path, f"`{CONFIG_FILENAME}` is not valid JSON", e) from e
    if not isinstance(config, dict):
        raise _corrupted(path, f"`{CONFIG_FILENAME}` is not a serialized model",
                         f"a JSON {type(config).__name__}")
    return config, weights, names


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a ``.keras`` archive written by Keras 3, tf-keras or kerasish.

    Args:
        filepath: Path of the ``.keras`` file.
        custom_objects: Dict of names to custom classes or functions used by the model.
        compile: Whether to compile the model from its saved ``compile_config`` (and restore
            its optimizer's state).
        safe_mode: Whether to refuse Python lambdas (``Lambda`` layers) in the config.

    >>> model = load_model("model.keras")
    """
    from .serialization import deserialize_keras_object

    path = os.fspath(filepath)
    config, weights, names = _read_archive(path)
    compile_config = config.pop("compile_config", None)
    model = deserialize_keras_object(config, custom_objects=custom_objects, safe_mode=safe_mode)
    if weights is None:
        if _NPZ_WEIGHTS_FILENAME in names:
            raise NotImplementedError(
                f"Loading `{_NPZ_WEIGHTS_FILENAME}` weights from a `.keras` archive is not "
                f"supported; only `{WEIGHTS_FILENAME}` is. Received: filepath={path}")
        raise ValueError("Expected a model.weights.h5 or model.weights.npz file.")
    if compile and compile_config:
        if getattr(model, "_compiles_from_config", False):
            model.compile_from_config(compile_config)
        else:
            compile_from_config(model, compile_config, custom_objects)
    h5py = _h5py()
    try:
        f = h5py.File(io.BytesIO(weights), "r")
    except OSError as e:
        raise _corrupted(path, f"`{WEIGHTS_FILENAME}` is not an HDF5 file", e) from e
    with f:
        try:
            keras_weights_h5.load_weights_from_h5_group(f, model)
        except (OSError, KeyError) as e:
            raise _corrupted(path, f"`{WEIGHTS_FILENAME}` cannot be read", e) from e
    layer_state.load_archive_assets(path, model)
    return model


__all__ = ["compile_from_config", "deserialize_optimizer", "get_compile_config", "load_model",
           "save_model", "serialize_model"]
