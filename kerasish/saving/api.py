"""``save_weights`` / ``load_weights``: dispatch on the file name, as Keras 3 does.

- ``.weights.h5`` -> Keras 3's layout (``keras_weights_h5``); ``load_weights`` also reads the
  ``model.weights.h5`` member of a ``.keras`` archive;
- ``.h5`` / ``.hdf5`` -> Keras's legacy layout (``legacy_h5``). Keras 3 refuses to *save* a
  ``.h5`` name; kerasish writes it in the Keras 2 dialect (KERAS_FILES.md, top);
- anything else -> Keras's errors.
"""
from __future__ import annotations

import io
import os
import zipfile

from . import keras_weights_h5, legacy_h5

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
    with zipfile.ZipFile(path, "r") as archive:
        names = archive.namelist()
        if _KERAS_WEIGHTS_MEMBER not in names:
            if "model.weights.npz" in names:
                raise NotImplementedError(
                    "Loading `.npz` weights from a `.keras` archive is not supported; only "
                    f"`{_KERAS_WEIGHTS_MEMBER}` is. Received: filepath={path}")
            raise ValueError("Expected a model.weights.h5 or model.weights.npz file.")
        data = archive.read(_KERAS_WEIGHTS_MEMBER)
    with h5py.File(io.BytesIO(data), "r") as f:
        keras_weights_h5.load_weights_from_h5_group(f, model, skip_mismatch=skip_mismatch)


def load_weights(model, filepath, skip_mismatch=False, by_name=False):
    """``model.load_weights(filepath, skip_mismatch=False, by_name=False)``.

    >>> load_weights(model, "model.weights.h5")
    """
    path = _path_str(filepath)
    if path.endswith(".keras"):
        _check_not_by_name(by_name, filepath)
        _load_from_keras_archive(model, path, skip_mismatch)
    elif path.endswith(".weights.h5"):
        _check_not_by_name(by_name, filepath)
        keras_weights_h5.load_weights_h5(model, path, skip_mismatch=skip_mismatch)
    elif path.endswith(".weights.json"):
        _check_not_by_name(by_name, filepath)
        raise _sharded_not_supported(path)
    elif path.endswith((".h5", ".hdf5")):
        legacy_h5.load_weights(model, path, skip_mismatch=skip_mismatch, by_name=by_name)
    else:
        raise ValueError(
            f"File format not supported: filepath={path}. Keras 3 only supports V3 `.keras` "
            "files, `.weights.h5` files, legacy H5 format files (`.h5` extension), or Orbax "
            "checkpoints.")


__all__ = ["load_weights", "save_weights"]
