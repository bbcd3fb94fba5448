"""Layer state kept outside Variables (Keras 3's ``save_own_variables``/``load_own_variables``
and ``save_assets``/``load_assets`` hooks): a lookup layer's adapted vocabulary and IDF weights.

- ``.keras``: each object's assets are the archive members ``assets/<object path>/<file>``
  (the object paths of ``model.weights.h5``), its own variables named datasets in its
  ``<object path>/vars`` group (``vars/idf_weights``), as Keras writes them.
- legacy ``.h5``: Keras 3 keeps neither there (an adapted vocabulary is lost); kerasish adds a
  root group ``kerasish_layer_state/<object path>`` with ``vars/<name>`` datasets and
  ``assets/<file>`` byte datasets, which Keras's reader ignores.

Loading sets the own variables first, then the assets (a ``tf_idf`` vocabulary needs its
weights), after every Variable has been assigned.
"""
from __future__ import annotations

import os
import tempfile
import zipfile

import numpy as np

H5_GROUP = "kerasish_layer_state"
ASSETS_DIR = "assets"


def walk(model):
    """(object path, object) for every saveable object of ``model`` (the model is ``""``),
    in the order and with the paths of Keras's ``model.weights.h5``."""
    from . import keras_weights_h5

    seen = set()

    def visit(obj, path):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        yield path, obj
        for child_path, child in keras_weights_h5._child_objects(obj, path):
            yield from visit(child, child_path)

    yield from visit(model, "")


def has_hook(obj, method):
    """Whether a *layer* defines the hook (optimizers save their variables their own way)."""
    from ..layers.layer import Layer

    return isinstance(obj, Layer) and callable(getattr(obj, method, None))


class OwnVariables:
    """Stands for an object's own-variables store in ``assign_all``'s (variable, value) pairs:
    ``numpy()`` is the current store, ``assign(store)`` hands a store to
    ``load_own_variables``."""

    def __init__(self, obj):
        self.obj = obj

    def numpy(self):
        store = {}
        self.obj.save_own_variables(store)
        return store

    def assign(self, store):
        if isinstance(store, np.ndarray) and store.dtype == object and store.ndim == 0:
            store = store.item()
        self.obj.load_own_variables(dict(store))


def own_store(obj):
    """The object's own variables (``save_own_variables``), ``{}`` when it has none."""
    store = {}
    if has_hook(obj, "save_own_variables"):
        obj.save_own_variables(store)
    return store


def _asset_files(obj):
    """(relative path, bytes) of the files ``obj.save_assets`` writes."""
    with tempfile.TemporaryDirectory() as tmp:
        obj.save_assets(tmp)
        files = []
        for root, _, names in os.walk(tmp):
            for name in sorted(names):
                full = os.path.join(root, name)
                with open(full, "rb") as f:
                    files.append((os.path.relpath(full, tmp).replace(os.sep, "/"), f.read()))
    return sorted(files)


def _load_assets(obj, files):
    with tempfile.TemporaryDirectory() as tmp:
        for rel, data in files:
            full = os.path.join(tmp, *rel.split("/"))
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "wb") as f:
                f.write(data)
        obj.load_assets(tmp)


# -- .keras -------------------------------------------------------------------------------------
def archive_assets(model):
    """The ``assets/...`` members of a ``.keras`` archive: [(member name, bytes)]."""
    members = []
    for path, obj in walk(model):
        if has_hook(obj, "save_assets"):
            prefix = f"{ASSETS_DIR}/{path}/" if path else f"{ASSETS_DIR}/"
            members += [(prefix + rel, data) for rel, data in _asset_files(obj)]
    return members


def load_archive_assets(filepath, model):
    """Hands each object the files under its ``assets/<path>/`` (subfolders included)."""
    with zipfile.ZipFile(filepath, "r") as archive:
        names = [n for n in archive.namelist() if n.startswith(ASSETS_DIR + "/")]
        if not names:
            return
        for path, obj in walk(model):
            if not has_hook(obj, "load_assets"):
                continue
            prefix = f"{ASSETS_DIR}/{path}/" if path else f"{ASSETS_DIR}/"
            files = [(n[len(prefix):], archive.read(n)) for n in names
                     if n.startswith(prefix) and not n.endswith("/")]
            if files:
                _load_assets(obj, files)


# -- legacy .h5 ---------------------------------------------------------------------------------
def save_h5_state(f, model):
    """Writes ``kerasish_layer_state/<path>/{vars,assets}`` for the objects that keep state
    outside Variables (nothing when none does)."""
    for path, obj in walk(model):
        store = own_store(obj)
        files = _asset_files(obj) if has_hook(obj, "save_assets") else []
        if not store and not files:
            continue
        group = f.require_group(f"{H5_GROUP}/{path}" if path else H5_GROUP)
        for key, value in store.items():
            group.require_group("vars").create_dataset(key, data=np.asarray(value))
        for rel, data in files:
            group.require_group("assets").create_dataset(
                rel.replace("/", "\\"), data=np.frombuffer(data, np.uint8))


def load_h5_state(f, model):
    """Reads back what ``save_h5_state`` wrote (a file without it loads as before)."""
    if H5_GROUP not in f:
        return
    root = f[H5_GROUP]
    for path, obj in walk(model):
        key = path or None
        group = root[key] if key and key in root else (root if key is None else None)
        if group is None:
            continue
        if "vars" in group and has_hook(obj, "load_own_variables"):
            obj.load_own_variables({k: np.asarray(v[()]) for k, v in group["vars"].items()})
        if "assets" in group and has_hook(obj, "load_assets"):
            _load_assets(obj, [(k.replace("\\", "/"), np.asarray(v[()]).tobytes())
                               for k, v in group["assets"].items()])
