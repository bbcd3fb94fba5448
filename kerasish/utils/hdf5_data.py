"""HDF5 datasets as training data without loading them: Keras 2's ``HDF5Matrix`` (an h5py
dataset sliced lazily, usable as ``x``/``y`` of ``fit``) and ``HDF5Dataset`` (a ``PyDataset``
over one or more HDF5 files). Only the rows of the current batch are ever read, so a file
larger than memory trains with memory bounded by the batch."""
from __future__ import annotations

import math
import os

import numpy as np

from ..data import PyDataset


def _h5py():
    try:
        import h5py
    except ImportError as e:  # pragma: no cover - h5py is a dependency
        raise ImportError("HDF5 data needs h5py: `pip install h5py`.") from e
    return h5py


def _floatx(array):
    from .. import config

    return array.astype(config.floatx()) if array.dtype == np.float64 else array


class HDF5Matrix:
    """Rows ``[start, end)`` of an HDF5 dataset, read only when indexed (Keras 2's
    ``keras.utils.HDF5Matrix``). Pass it as ``x`` or ``y`` of ``fit``/``evaluate``/``predict``:
    each batch reads its rows (shuffled batches read sorted indices, then reorder them).

    Args:
        datapath: the HDF5 file.
        dataset: the dataset's name inside it.
        start, end: the rows to use (``end=None``: to the last).
        normalizer: a function applied to every read block.

    >>> x = HDF5Matrix("data.h5", "features")
    >>> model.fit(x, HDF5Matrix("data.h5", "labels"), batch_size=128)
    """

    refs = {}  # NOTE: one open handle per file, shared by its matrices (Keras 2's `refs`).
    _keras_lazy_rows = True  # kerasish.data keeps it unread and slices it per batch

    def __init__(self, datapath, dataset, start=0, end=None, normalizer=None):
        datapath = os.fspath(datapath)
        f = self.refs.get(datapath)
        if f is None or not f.id.valid:
            f = self.refs[datapath] = _h5py().File(datapath, "r")
        if dataset not in f:
            raise ValueError(f"HDF5Matrix: no dataset {dataset!r} in {datapath}. Received: "
                             f"dataset={dataset!r}")
        self.data = f[dataset]
        self.datapath, self.dataset = datapath, dataset
        self.start = int(start)
        self.end = self.data.shape[0] if end is None else int(end)
        if not 0 <= self.start <= self.end <= self.data.shape[0]:
            raise ValueError(f"HDF5Matrix: rows [{start}, {end}) are not within the dataset's "
                             f"{self.data.shape[0]} rows. Received: start={start}, end={end}")
        self.normalizer = normalizer
        first = self._read(slice(self.start, min(self.start + 1, self.end)))
        self._base_shape, self._base_dtype = first.shape[1:], first.dtype

    def _read(self, key):
        block = self.data[key]
        return self.normalizer(block) if self.normalizer is not None else block

    def __len__(self):
        return self.end - self.start

    def __getitem__(self, key):
        n = len(self)
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step != 1:
                return self[np.arange(start, stop, step)]
            return self._read(slice(self.start + start, self.start + max(stop, start)))
        if isinstance(key, (int, np.integer)):
            index = int(key) + (n if key < 0 else 0)
            if not 0 <= index < n:
                raise IndexError(f"HDF5Matrix: index {key} is out of range for {n} rows")
            return self._read(self.start + index)
        indices = np.asarray(key, dtype=np.int64).reshape(-1)
        if indices.size and (indices.min() < 0 or indices.max() >= n):
            raise IndexError(f"HDF5Matrix: indices out of range for {n} rows. Received: "
                             f"min={indices.min()}, max={indices.max()}")
        # NOTE: h5py reads increasing, unique indices only: read those, then put them back
        # in the order asked for.
        unique, inverse = np.unique(indices, return_inverse=True)
        block = self._read(list(self.start + unique)) if unique.size else \
            self._read(slice(self.start, self.start))
        return block[inverse]

    def rows(self, start, stop):
        """A lazy view of rows ``[start, stop)`` (used to split off validation data)."""
        return HDF5Matrix(self.datapath, self.dataset, self.start + start, self.start + stop,
                          self.normalizer)

    @property
    def shape(self):
        return (len(self),) + tuple(self._base_shape)

    @property
    def dtype(self):
        return self._base_dtype

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape))

    def __array__(self, dtype=None, copy=None):
        raise TypeError("HDF5Matrix is read lazily, batch by batch; converting it to one NumPy "
                        "array would load the whole dataset. Index it instead "
                        f"(e.g. matrix[0:100]). Received: a matrix of shape {self.shape}")


class HDF5Dataset(PyDataset):
    """A ``PyDataset`` over HDF5 files: datasets of the same names in every file, read as one
    table whose rows follow each other file after file, served in batches read on demand.

    Args:
        paths: an HDF5 file or a list of them.
        x: the feature dataset's name, or a list / dict of names (a model with several inputs).
        y: the label dataset's name (or a structure of names), or None.
        sample_weight: a dataset name, or None.
        batch_size: rows per batch.
        shuffle: shuffle the order of the batches each epoch (each batch stays a contiguous,
            fast read: Keras 2's ``shuffle="batch"``).
        seed: seed of that shuffling.
        **kwargs: ``PyDataset``'s ``workers``, ``use_multiprocessing``, ``max_queue_size``.

    >>> ds = HDF5Dataset(["part0.h5", "part1.h5"], x="images", y="labels", batch_size=64)
    >>> model.fit(ds, epochs=2)
    """

    def __init__(self, paths, x, y=None, sample_weight=None, batch_size=32, shuffle=False,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self.paths = [os.fspath(p) for p in ([paths] if isinstance(paths, (str, os.PathLike))
                                             else paths)]
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.batch_size, self.shuffle = int(batch_size), shuffle
        self._rng = np.random.default_rng(seed)
        self._files = {}
        names = self._names()
        counts = []
        for path in self.paths:
            with _h5py().File(path, "r") as f:
                rows = {name: f[name].shape[0] for name in names}
            if len(set(rows.values())) != 1:
                raise ValueError(f"HDF5Dataset: the datasets of {path} differ in rows: {rows}")
            counts.append(next(iter(rows.values())))
        self._offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.num_samples = int(self._offsets[-1])
        self._order = np.arange(len(self))
        if shuffle:
            self._rng.shuffle(self._order)

    def _names(self):
        from . import flatten

        return [n for part in (self.x, self.y, self.sample_weight) if part is not None
                for n in flatten(part)]

    def _file(self, i):
        key = (os.getpid(), i)  # NOTE: a handle per process (workers may fork)
        if key not in self._files:
            self._files[key] = _h5py().File(self.paths[i], "r")
        return self._files[key]

    def __len__(self):
        return math.ceil(self.num_samples / self.batch_size)

    def _rows(self, name, start, stop):
        parts = []
        for i in range(len(self.paths)):
            lo, hi = max(start, self._offsets[i]), min(stop, self._offsets[i + 1])
            if lo < hi:
                base = self._offsets[i]
                parts.append(self._file(i)[name][lo - base:hi - base])
        return _floatx(parts[0] if len(parts) == 1 else np.concatenate(parts))

    def __getitem__(self, index):
        from . import map_structure

        start = int(self._order[index]) * self.batch_size
        stop = min(start + self.batch_size, self.num_samples)

        def read(part):
            return None if part is None else map_structure(
                lambda name: self._rows(name, start, stop), part)

        x = read(self.x)
        if self.y is None:
            return x
        if self.sample_weight is None:
            return x, read(self.y)
        return x, read(self.y), read(self.sample_weight)

    def on_epoch_end(self):
        if self.shuffle:
            self._rng.shuffle(self._order)

    def close(self):
        for f in self._files.values():
            f.close()
        self._files.clear()
