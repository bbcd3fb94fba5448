"""Reading the pickled CIFAR batches, from the extracted folder or straight from the archive.

Keras 3.15's ``get_file(dirname, extract=True)`` saves the download as ``<dirname>_archive`` and
extracts it into ``<dirname>/``, so the batches sit in ``<dirname>/<dirname>/``; older Keras
extracted next to the archive (``<dirname>/`` holds the batches). Both layouts are read, and so
is the archive itself (members are read in memory; nothing is extracted).
"""
from __future__ import annotations

import os
import tarfile

import numpy as np

from ._cache import RestrictedUnpickler, cache_dirs, missing


def _decode_batch(stream, label_key: str, where: str):
    # The batches were pickled by Python 2: `encoding="bytes"` keeps its str as bytes.
    batch = RestrictedUnpickler(stream, encoding="bytes").load()
    if not isinstance(batch, dict):
        raise ValueError(f"{where} is not a CIFAR batch. Received: type={type(batch).__name__}")
    batch = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if label_key not in batch or "data" not in batch:
        raise ValueError(f"{where} has no `data` or `{label_key}` entry. "
                         f"Received: keys={sorted(batch)}")
    data = np.asarray(batch["data"])
    return data.reshape(data.shape[0], 3, 32, 32), batch[label_key]


def _from_folder(folder: str, members, label_key: str):
    batches = []
    for name in members:
        path = os.path.join(folder, name)
        with open(path, "rb") as f:
            batches.append(_decode_batch(f, label_key, path))
    return batches


def _from_archive(path: str, dirname: str, members, label_key: str):
    batches = []
    with tarfile.open(path, "r:*") as archive:
        for name in members:
            where = f"{path}:{dirname}/{name}"
            try:
                stream = archive.extractfile(f"{dirname}/{name}")
            except KeyError:
                stream = None
            if stream is None:
                raise ValueError(f"The archive {path} has no file {dirname}/{name}. "
                                 f"Received: archive={path}")
            with stream:
                batches.append(_decode_batch(stream, label_key, where))
    return batches


def load_batches(dirname: str, archive_name: str, origin: str, members, label_key: str):
    """``[(data (n, 3, 32, 32) uint8, labels list), ...]`` for each batch file in ``members``."""
    dirs = cache_dirs()
    for base in dirs:
        for folder in (os.path.join(base, dirname, dirname), os.path.join(base, dirname)):
            if all(os.path.isfile(os.path.join(folder, m)) for m in members):
                return _from_folder(folder, members, label_key)
        for name in (f"{dirname}_archive", f"{dirname}.tar.gz", archive_name):
            if os.path.isfile(os.path.join(base, name)):
                return _from_archive(os.path.join(base, name), dirname, members, label_key)
    base = dirs[0]
    raise missing(
        archive_name, os.path.join(base, f"{dirname}_archive"), origin,
        also=(f" (Keras's name for it; {os.path.join(base, archive_name)} works too), or its "
              f"extracted folder at {os.path.join(base, dirname, dirname)}{os.sep} holding "
              + ", ".join(members)))
