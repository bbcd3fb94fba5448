"""Input data for fit/evaluate/predict: arrays, generators and PyDataset, batched and moved to
the device.

Arrays are sliced by a per-epoch permutation that the trainer draws (and a checkpoint can
save), so an epoch can be replayed or resumed from any batch.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from engine import Tensor, backend

from . import config, data_workers, utils


class PyDataset:
    """Keras's batch sequence: subclass with ``__len__`` (batches) and ``__getitem__(index)``
    returning ``(x, y)`` or ``(x, y, sample_weight)``.

    >>> class Batches(PyDataset):
    ...     def __len__(self): return 10
    ...     def __getitem__(self, i): return x[i * 32:(i + 1) * 32], y[i * 32:(i + 1) * 32]

    Args:
        workers: how many threads (or processes) load batches ahead of the training loop;
            1 loads each batch when it is needed, in the loop's thread.
        use_multiprocessing: load in processes instead of threads (for ``__getitem__`` work
            that holds the GIL). On Linux they are forked and share the dataset as it is.
        max_queue_size: at most this many batches are loaded ahead.
    Batches always arrive in index order, whatever the workers' timing.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        if int(workers) < 1 or int(max_queue_size) < 1:
            raise ValueError("`workers` and `max_queue_size` must be at least 1. Received: "
                             f"workers={workers}, max_queue_size={max_queue_size}")
        self.workers = int(workers)
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __len__(self):
        raise NotImplementedError

    def __getitem__(self, index):
        raise NotImplementedError

    def on_epoch_end(self):
        pass

    @property
    def num_batches(self):
        return len(self)


def _as_host_array(x, name):
    """A NumPy (or CuPy) array from user data, with a clear error for what cannot be one."""
    if isinstance(x, Tensor):
        return x.data
    if getattr(x, "_keras_lazy_rows", False):
        return x  # an HDF5Matrix: read batch by batch (kerasish/utils/hdf5_data.py)
    if backend.get_array_module(x) is not np:
        return x
    try:
        array = np.asarray(x)
    except (TypeError, ValueError) as e:
        raise ValueError(f"Could not convert `{name}` to an array: {e}. "
                         f"Received: {name} of type {type(x).__name__}") from e
    if array.dtype.kind in "USO" and name == "x":
        return array.astype(object)  # a string batch stays on the host (docs/sparse.md)
    if array.dtype.kind not in "biuf":
        raise ValueError(
            f"`{name}` has dtype {array.dtype}, which cannot be cast to a number type. "
            f"Received: {name}.dtype={array.dtype}")
    if array.dtype == np.float64:
        array = array.astype(config.floatx())
    return array


def to_device_structure(data):
    """Moves every array leaf of ``data`` to the current device as an engine Tensor."""
    device = config.device()

    def move(a):
        if a is None or isinstance(a, Tensor) or getattr(a, "dtype", None) == object:
            return a
        return Tensor(backend.to_device(a, device))

    return utils.map_structure(move, data)


def unpack_x_y_sample_weight(data):
    """``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` -> the three (Keras's helper)."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                     f"`(x, y, sample_weight)`, found: {data}")


def _short_repr(x, limit=200):
    text = repr(x)
    return text if len(text) <= limit else text[:limit - 4] + " ..."


def _check_leaves(data, name):
    """A list is a list of model inputs (Keras's reading): its leaves must be arrays.

    A list of Python numbers (one sample per inner list, perhaps ragged) is not data Keras
    accepts; it says so in its words, where slicing would fail with ``len() of unsized object``.
    """
    if data is None:
        return
    for leaf in utils.flatten(data):
        if isinstance(leaf, (numbers.Number, str, bytes)):
            raise ValueError(
                f"Unrecognized data type: {name}={_short_repr(data)} (of type {type(data)}). "
                f"A list or tuple is read as one array per model "
                f"{'input' if name == 'x' else 'output'}; make `{name}` a NumPy "
                f"array (np.array(...)), padded first if its rows differ in length "
                f"(keras.utils.pad_sequences).")


class ArrayData:
    """In-memory arrays (nested lists/dicts of arrays) served in batches.

    Args:
        x, y, sample_weight: arrays or nested structures of arrays, same first dimension.
        batch_size: samples per batch (default 32).
        class_weight: {class: weight}, folded into the sample weights.
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=None, class_weight=None):
        _check_leaves(x, "x")
        _check_leaves(y, "y")
        self.x = utils.map_structure(lambda a: _as_host_array(a, "x"), x)
        self.y = None if y is None else utils.map_structure(lambda a: _as_host_array(a, "y"), y)
        self.sample_weight = None if sample_weight is None else _as_host_array(
            sample_weight, "sample_weight")
        self._check_cardinality()
        if class_weight is not None:
            self.sample_weight = _class_weights_to_sample_weights(
                self.y, class_weight, self.sample_weight)
        self.batch_size = batch_size or 32
        self.num_samples = len(utils.flatten(self.x)[0])
        self.num_batches = math.ceil(self.num_samples / self.batch_size)

    def _check_cardinality(self):
        parts = (("x", self.x), ("y", self.y), ("sample_weight", self.sample_weight))
        sizes = {name: [len(a) for a in utils.flatten(part)]
                 for name, part in parts if part is not None}
        if len({n for ns in sizes.values() for n in ns}) > 1:
            msg = "Data cardinality is ambiguous. Make sure all arrays contain the same number " \
                  "of samples."
            for name, ns in sizes.items():
                msg += f"'{name}' sizes: {', '.join(str(n) for n in ns)}\n"
            raise ValueError(msg)

    def batch(self, index, order=None):
        """Batch ``index`` of an epoch whose sample order is ``order`` (None = in order)."""
        start = index * self.batch_size
        stop = min(start + self.batch_size, self.num_samples)
        idx = slice(start, stop) if order is None else order[start:stop]

        def take(a):
            if getattr(a, "_keras_lazy_rows", False):
                return _as_host_array(a[idx], "x")
            return a[idx]

        x = utils.map_structure(take, self.x)
        y = None if self.y is None else utils.map_structure(take, self.y)
        sw = None if self.sample_weight is None else take(self.sample_weight)
        return x, y, sw

    def split(self, fraction):
        """(train, validation): the validation part is the LAST fraction of the samples."""
        if not 0 < fraction < 1:
            raise ValueError("`validation_split` must be between 0 and 1. "
                             f"Received: validation_split={fraction}")
        cut = int(self.num_samples * (1.0 - fraction))
        if cut == 0 or cut == self.num_samples:
            raise ValueError(f"Training data contains {self.num_samples} samples, which is not "
                             f"sufficient to split it into a validation and training set as "
                             f"specified by `validation_split={fraction}`.")

        def rows(a, sl):
            lazy = getattr(a, "_keras_lazy_rows", False)
            return a.rows(*sl.indices(len(a))[:2]) if lazy else a[sl]

        def part(sl):
            data = ArrayData.__new__(ArrayData)
            data.x = utils.map_structure(lambda a: rows(a, sl), self.x)
            data.y = None if self.y is None else utils.map_structure(lambda a: rows(a, sl),
                                                                     self.y)
            data.sample_weight = None if self.sample_weight is None else self.sample_weight[sl]
            data.batch_size = self.batch_size
            data.num_samples = len(utils.flatten(data.x)[0])
            data.num_batches = math.ceil(data.num_samples / data.batch_size)
            return data

        return part(slice(0, cut)), part(slice(cut, None))

    def epoch(self, order=None, start=0):
        for i in range(start, self.num_batches):
            yield self.batch(i, order)


class SequenceData:
    """A PyDataset, or a Python generator/iterator of batches (unknown length)."""

    def __init__(self, source, steps=None):
        self.source = source
        self.is_dataset = isinstance(source, PyDataset)
        self.num_batches = len(source) if self.is_dataset else steps
        self.num_samples = None
        self._iterator = None

    def epoch(self, order=None, start=0):
        if self.is_dataset:
            source = self.source
            workers = getattr(source, "workers", 1)
            if workers > 1:
                batches = data_workers.ordered_batches(
                    source, range(start, len(source)), workers,
                    getattr(source, "use_multiprocessing", False),
                    getattr(source, "max_queue_size", 10))
            else:
                batches = (source[i] for i in range(start, len(source)))
            try:
                for batch in batches:
                    yield unpack_x_y_sample_weight(batch)
            finally:
                batches.close()
            source.on_epoch_end()
            return
        if self._iterator is None:
            self._iterator = iter(self.source)
        count = 0
        while self.num_batches is None or count < self.num_batches:
            try:
                item = next(self._iterator)
            except StopIteration:
                self._iterator = None
                return
            count += 1
            yield unpack_x_y_sample_weight(item)


def make_data(x, y=None, sample_weight=None, batch_size=None, class_weight=None, steps=None):
    """The right data source for what the user passed."""
    if isinstance(x, PyDataset) or (hasattr(x, "__next__") or _is_generator(x)):
        if y is not None or sample_weight is not None:
            raise ValueError("`y` and `sample_weight` must be None when `x` is a generator or "
                             f"PyDataset (it yields them). Received: y={type(y).__name__}")
        return SequenceData(x, steps)
    if x is None:
        raise ValueError("Unexpected value for `x`: None.")
    return ArrayData(x, y, sample_weight, batch_size, class_weight)


def _is_generator(x):
    import types

    return isinstance(x, types.GeneratorType)


def _class_weights_to_sample_weights(y, class_weight, sample_weight):
    if y is None or len(utils.flatten(y)) != 1:
        raise ValueError("`class_weight` is only supported for models with a single output. "
                         f"Received: class_weight={class_weight}")
    labels = backend.to_numpy(utils.flatten(y)[0])
    if labels.ndim > 1 and labels.shape[-1] > 1:
        labels = labels.argmax(axis=-1)
    labels = labels.reshape(len(labels), -1)[:, 0].astype(np.int64)
    table = np.ones(max(int(labels.max()) + 1, max(class_weight) + 1), np.float32)
    for cls, weight in class_weight.items():
        table[int(cls)] = weight
    weights = table[labels]
    if sample_weight is None:
        return weights
    # NOTE: a GPU sample_weight comes to the host once, at setup (batches move it back).
    return weights * backend.to_numpy(sample_weight.data if isinstance(sample_weight, Tensor)
                                      else sample_weight)
