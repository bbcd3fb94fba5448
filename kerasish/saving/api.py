"""``save_model`` / ``load_model`` and ``save_weights`` / ``load_weights``: dispatch on the file
name, as Keras 3 does.

- ``.keras`` -> Keras 3's archive (``keras_archive``); ``load_weights`` reads its
  ``model.weights.h5`` member;
- ``.weights.h5`` -> Keras 3's weights layout (``keras_weights_h5``);
- ``.h5`` / ``.hdf5`` -> Keras's legacy layouts: whole models (``legacy_model_h5``) and weights
  (``legacy_h5``). Keras 3 refuses to *save weights* to a ``.h5`` name; kerasish writes them in
  the Keras 2 dialect (docs/file-formats.md);
- anything else -> Keras's errors.

A file that cannot be read (truncated, corrupted, not HDF5/zip) raises a ``ValueError`` naming
it, and a failed ``load_weights`` leaves the model's weights as they were.
"""
from __future__ import annotations

import io
import logging
import os
import zipfile

from . import keras_archive, keras_weights_h5, legacy_h5, legacy_model_h5

logger = logging.getLogger("kerasish")

_KERAS_WEIGHTS_MEMBER = "model.weights.h5"


def _path_str(filepath):
    path = os.fspath(filepath)
    return os.fsdecode(path) if isinstance(path, bytes) else path


def _sharded_not_supported(path):
    return NotImplementedError(
        "Sharded weights (`.weights.json`) are not supported yet; use a single `.weights.h5` "
        f"file. Received: filepath={path}")


def save_weights(model, filepath, overwrite=True):
    """``model.save_weights(filepath, overwrite=True)``.

    >>> save_weights(model, "model.weights.h5")
    """
    path = _path_str(filepath)
    if path.endswith(".weights.json"):
        raise _sharded_not_supported(path)
    if not path.endswith(".weights.h5"):
        if path.endswith((".h5", ".hdf5")):
            legacy_h5.save_weights(model, path, overwrite=overwrite)
            return
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={path}")
    if not overwrite and os.path.exists(path):
        if not legacy_h5._ask_to_proceed_with_overwrite(path):
            return
    keras_weights_h5.save_weights_h5(model, path)


def _check_not_by_name(by_name, filepath):
    if by_name:
        raise ValueError("`by_name` only supports loading legacy '.h5' or '.hdf5' files. "
                         f"Received: {filepath}")


def _load_from_keras_archive(model, path, skip_mismatch):
    if not getattr(model, "built", False):
        raise ValueError(legacy_h5._UNBUILT_MESSAGE)
    h5py = legacy_h5._h5py()
    try:
        archive = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, EOFError) as e:
        raise _unreadable(path, e) from e
    with archive:
        names = archive.namelist()
        if _KERAS_WEIGHTS_MEMBER not in names:
            if "model.weights.npz" in names:
                raise NotImplementedError(
                    "Loading `.npz` weights from a `.keras` archive is not supported; only "
                    f"`{_KERAS_WEIGHTS_MEMBER}` is. Received: filepath={path}")
            raise ValueError("Expected a model.weights.h5 or model.weights.npz file.")
        try:
            data = archive.read(_KERAS_WEIGHTS_MEMBER)
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise _unreadable(path, e) from e
    with h5py.File(io.BytesIO(data), "r") as f:
        keras_weights_h5.load_weights_from_h5_group(f, model, skip_mismatch=skip_mismatch)


def _unreadable(path, error):
    return ValueError(f"Could not read the weights file at {path}: {error}. The file may be "
                      f"truncated or corrupted. Received: filepath={path}")


def load_weights(model, filepath, skip_mismatch=False, by_name=False):
    """``model.load_weights(filepath, skip_mismatch=False, by_name=False)``.

    >>> load_weights(model, "model.weights.h5")
    """
    path = _path_str(filepath)
    if path.endswith((".keras", ".weights.h5", ".weights.json")):
        _check_not_by_name(by_name, filepath)
    try:
        if path.endswith(".keras"):
            _load_from_keras_archive(model, path, skip_mismatch)
            return
        if path.endswith(".weights.h5"):
            keras_weights_h5.load_weights_h5(model, path, skip_mismatch=skip_mismatch)
            return
        if path.endswith((".h5", ".hdf5")):
            legacy_h5.load_weights(model, path, skip_mismatch=skip_mismatch, by_name=by_name)
            return
    except FileNotFoundError:
        raise
    except (OSError, KeyError) as e:
        # h5py's errors on a truncated or damaged file; nothing was assigned before them.
        raise _unreadable(path, e) from e
    if path.endswith(".weights.json"):
        raise _sharded_not_supported(path)
    raise ValueError(
        f"File format not supported: filepath={path}. Keras 3 only supports V3 `.keras` "
        "files, `.weights.h5` files, legacy H5 format files (`.h5` extension), or Orbax "
        "checkpoints.")


_SUFFIX_ERROR = (
    "Invalid filepath extension for saving. Please add either a `.keras` extension for the "
    "native Keras format (recommended) or a `.h5` extension. Use `model.export(filepath)` if "
    "you want to export a SavedModel for use with TFLite/TFServing/etc. "
    "Received: filepath={}.")


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Saves a whole model: ``.keras`` (Keras 3 archive) or ``.h5`` / ``.hdf5`` (legacy HDF5,
    tf-keras 2 dialect). ``model.save(filepath)`` calls it.

    Args:
        model: The model.
        filepath: Path ending in ``.keras``, ``.h5`` or ``.hdf5``.
        overwrite: Whether to overwrite an existing file without asking.
        zipped: Only a zipped ``.keras`` archive (the default) is supported.
        **kwargs: ``include_optimizer`` (legacy ``.h5`` only; default True) and the deprecated
            ``save_format``.

    >>> save_model(model, "model.keras")
    """
    include_optimizer = kwargs.pop("include_optimizer", True)
    save_format = kwargs.pop("save_format", False)
    path = _path_str(filepath)
    if save_format:
        if not path.endswith((".h5", ".hdf5", ".keras")):
            raise ValueError("The `save_format` argument is deprecated in Keras 3. Please remove "
                             "this argument and pass a file path with either `.keras` or `.h5` "
                             f"extension.Received: save_format={save_format}")
        logger.warning("The `save_format` argument is deprecated in Keras 3. We recommend "
                       "removing this argument as it can be inferred from the file path. "
                       f"Received: save_format={save_format}")
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs.keys())}")
    if zipped is False:
        raise NotImplementedError("Saving a model as an unzipped directory (`zipped=False`) is "
                                  f"not supported. Received: zipped={zipped}")
    if not path.endswith((".keras", ".h5", ".hdf5")):
        raise ValueError(_SUFFIX_ERROR.format(path))
    if path.endswith((".h5", ".hdf5")):
        logger.warning(
            "You are saving your model as an HDF5 file via `model.save()` or "
            "`keras.saving.save_model(model)`. This file format is considered legacy. We "
            "recommend using instead the native Keras format, e.g. "
            "`model.save('my_model.keras')` or `keras.saving.save_model(model, "
            "'my_model.keras')`. ")
    if not overwrite and os.path.exists(path):
        if not legacy_h5._ask_to_proceed_with_overwrite(path):
            return
    if path.endswith(".keras"):
        keras_archive.save_model(model, path)
    else:
        legacy_model_h5.save_model_to_hdf5(model, path, include_optimizer=include_optimizer)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved by ``model.save()`` (kerasish, Keras 3 or tf-keras): ``.keras``
    archives and legacy ``.h5`` / ``.hdf5`` files.

    Args:
        filepath: Path of the file.
        custom_objects: Dict of names to custom classes or functions used by the model.
        compile: Whether to compile the loaded model as it was saved (optimizer state
            included), when the file says how.
        safe_mode: Whether to refuse Python lambdas (``Lambda`` layers), which would run code
            from the file. Pass ``False`` only for files you trust.

    >>> model = load_model("model.keras")
    """
    path = _path_str(filepath)
    if path.endswith(".keras") and os.path.isfile(path):
        return keras_archive.load_model(path, custom_objects=custom_objects, compile=compile,
                                        safe_mode=safe_mode)
    if path.endswith((".h5", ".hdf5")):
        return legacy_model_h5.load_model_from_hdf5(
            path, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)
    if path.endswith(".keras"):
        raise ValueError(f"File not found: filepath={path}. Please ensure the file is an "
                         "accessible `.keras` zip file.")
    raise ValueError(
        f"File format not supported: filepath={path}. Keras 3 only supports V3 `.keras` files, "
        "legacy H5 format files (`.h5` extension). Note that the legacy SavedModel format is "
        "not supported by `load_model()` in Keras 3. In order to reload a TensorFlow SavedModel "
        "as an inference-only layer in Keras 3, use `keras.layers.TFSMLayer("
        f"{path}, call_endpoint='serving_default')` (note that your `call_endpoint` might have "
        "a different name).")


__all__ = ["load_model", "load_weights", "save_model", "save_weights"]
