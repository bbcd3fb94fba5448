"""Datasets as ``PyDataset``s: in-memory arrays in batches, ``split_dataset``, and the folder
indexing that the ``*_dataset_from_directory`` builders share.

Keras returns ``tf.data.Dataset``s from these functions; kerasish returns ``PyDataset``s, which
``fit``/``evaluate``/``predict`` take as they are, which index (``ds[i]`` is batch ``i``) and
iterate (``for x, y in ds``), and which keep Keras's attributes (``class_names``,
``file_paths``).
"""
from __future__ import annotations

import os
import random

import numpy as np

from .. import tree
from ..data import PyDataset
from ..progbar import print_msg


class BatchedDataset(PyDataset):
    """Batches of a structure of equally long arrays (sample axis first), in order.

    Args:
        data: An array, or a tuple/list/dict of arrays with the same first dimension.
        batch_size: Samples per batch; None = one sample per item, without a batch axis.

    >>> ds = BatchedDataset((np.zeros((5, 2)), np.ones(5)), batch_size=2)
    >>> len(ds), ds[2][0].shape
    (3, (1, 2))
    """

    def __init__(self, data, batch_size=32):
        super().__init__()
        self.data = data
        self.batch_size = batch_size
        self.num_samples = len(tree.flatten(data)[0])

    def __len__(self):
        if self.batch_size is None:
            return self.num_samples
        return -(-self.num_samples // self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index out of range. Received: index={index}, "
                             f"len={len(self)}")
        if self.batch_size is None:
            return tree.map_structure(lambda a: a[index], self.data)
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return tree.map_structure(lambda a: a[rows], self.data)


# -- split_dataset ----------------------------------------------------------------------------

def _samples(dataset):
    """``(samples, kind)``: the dataset as a list of per-sample structures."""
    if isinstance(dataset, np.ndarray):
        return list(dataset), np.ndarray
    if isinstance(dataset, (tuple, list)):
        if not dataset:
            raise ValueError("Received an empty list dataset. Please provide a non-empty "
                             "list/tuple of arrays.")
        arrays = [np.asarray(a) for a in dataset]
        if len({len(a) for a in arrays}) > 1:
            raise ValueError("Received a list/tuple of NumPy arrays with different lengths: "
                             f"{[a.shape for a in arrays]}. Please provide NumPy arrays of the "
                             "same length.")
        return list(zip(*arrays)), type(dataset)
    if isinstance(dataset, PyDataset):
        samples = []
        for i in range(len(dataset)):
            batch = dataset[i]
            size = len(tree.flatten(batch)[0])
            samples.extend(tree.map_structure(lambda a, j=j: a[j], batch) for j in range(size))
        return samples, PyDataset
    raise TypeError("The `dataset` argument must be either a PyDataset, a NumPy array, or a "
                    f"list/tuple of arrays. Received: dataset={dataset!r} of type "
                    f"{type(dataset)}")


def _split_sizes(left_size, right_size, total):
    """Keras's rules for ``left_size``/``right_size`` (ints are counts, floats fractions)."""
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is not None and type(size) not in (int, float):
            raise TypeError(f"Invalid `{name}` Type. Expected: int or float or None, "
                            f"Received: type({name})={type(size)}.")
    if left_size is None and right_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be specified. "
                         "Received: left_size=None and right_size=None")
    if left_size == 0 and right_size == 0:
        raise ValueError("Both `left_size` and `right_size` are zero. At least one of the split "
                         "sizes must be non-zero.")
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if (type(size) is int and not 0 < size < total) or (
                type(size) is float and not 0 < size < 1):
            raise ValueError(f"`{name}` should be either a positive integer smaller than "
                             f"{total}, or a float within the range `[0, 1]`. "
                             f"Received: {name}={size}")
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It must be "
                         "less than or equal to 1.")
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(f"The sum of `left_size` and `right_size` should be smaller than the "
                         f"{total}. Received: left_size + right_size = {left + right} and "
                         f"total_length = {total}")
    for side, size in (("left", left), ("right", right)):
        if size == 0:
            raise ValueError(f"With `dataset` of length={total}, `left_size`={left_size} and "
                             f"`right_size`={right_size}. Resulting {side} side dataset split "
                             "will be empty. Adjust any of the aforementioned parameters")
    return int(left), int(right)


def _restore(samples, kind, like):
    if kind is np.ndarray:
        return np.array(samples)
    if kind in (tuple, list):
        return kind(np.array(column) for column in zip(*samples))
    stacked = tree.map_structure(lambda *xs: np.stack(xs), *samples)
    first = like[0]
    batch = len(tree.flatten(first)[0]) if len(like) else 32
    return BatchedDataset(stacked, batch_size=batch)


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None,
                  preferred_backend=None):
    """Splits a dataset in two: the first ``left_size`` samples and the last ``right_size``.

    Args:
        dataset: A NumPy array, a tuple/list of equally long arrays, or a ``PyDataset``.
        left_size: Samples on the left (int) or their fraction (float); None = the rest.
        right_size: Samples on the right (int) or their fraction (float); None = the rest.
        shuffle: Whether to shuffle the samples first (Python's ``random`` seeded by ``seed``,
            as Keras).
        seed: The shuffle's seed.
        preferred_backend: Keras's choice of dataset type; ignored (always kerasish's kinds).

    Returns:
        Two datasets of the input's kind: arrays for arrays, tuples/lists of arrays for
        tuples/lists, ``PyDataset``s (batched as the input's first batch) for a ``PyDataset``.

    >>> left, right = split_dataset(np.arange(10), left_size=0.8)
    >>> left.shape, right.shape
    ((8,), (2,))
    """
    samples, kind = _samples(dataset)
    if not samples:
        raise ValueError("Received an empty dataset.")
    if shuffle:
        if seed is None:
            seed = random.randint(0, int(1e6))
        random.Random(seed).shuffle(samples)  # NOTE: the order random.seed(seed) would give
    left, right = _split_sizes(left_size, right_size, len(samples))
    like = dataset if kind is PyDataset else None
    return (_restore(samples[:left], kind, like), _restore(samples[-right:], kind, like))


# -- the *_dataset_from_directory builders ------------------------------------------------------

def check_validation_split_arg(validation_split, subset, shuffle, seed):
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide "
                         "a `seed` argument, to make sure that there is no overlap between the "
                         "training and validation subset.")


def check_labels(labels, label_mode, class_names):
    """Keras's checks of ``labels``/``label_mode``; returns them (both None when unlabeled)."""
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError("`labels` argument should be a list/tuple of integer labels, of the "
                         'same size as the number of files in the target directory. If you '
                         'wish to infer the labels from the subdirectory names in the target '
                         'directory, pass `labels="inferred"`. If you wish to get a dataset '
                         "that only contains the data (no labels), pass `labels=None`. "
                         f"Received: labels={labels}")
    if class_names and labels != "inferred":
        raise ValueError("You can only pass `class_names` if `labels='inferred'`. "
                         f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", '
                         f"or None. Received: label_mode={label_mode}")
    if labels is None or label_mode is None:
        return None, None
    return labels, label_mode


def index_directory(directory, labels, formats, class_names=None, shuffle=True, seed=None,
                    follow_links=False, verbose=True):
    """``(file_paths, labels, class_names)`` of the files under ``directory`` whose names end
    with one of ``formats``, in Keras's order (class folders sorted, files sorted in each
    folder, then shuffled with ``np.random.RandomState(seed)`` when ``shuffle``)."""
    if labels == "inferred":
        subdirs = [d.rstrip("/") for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError("The `class_names` passed did not match the names of the "
                                 "subdirectories of the target directory. Expected: "
                                 f"{subdirs} (or a subset of it), but received: "
                                 f"class_names={class_names}")
            subdirs = list(class_names)
    else:
        subdirs = [""]
    filenames, label_list = [], []
    for index, subdir in enumerate(subdirs):
        folder = os.path.join(directory, subdir)
        walk = sorted(os.walk(folder, followlinks=follow_links), key=lambda w: w[0])
        for root, _, files in walk:
            for name in sorted(files):
                if name.lower().endswith(formats):
                    filenames.append(os.path.join(root, name))
                    label_list.append(index)
    if labels == "inferred":
        labels = np.array(label_list, dtype="int32")
        found_names = subdirs
    elif labels is None:
        found_names = None
    else:
        if len(labels) != len(filenames):
            raise ValueError("Expected the lengths of `labels` to match the number of files in "
                             f"the target directory. len(labels) is {len(labels)} while we "
                             f"found {len(filenames)} files in directory {directory}.")
        found_names = [str(label) for label in sorted(set(labels))]
        labels = np.asarray(labels)
    if verbose:
        if labels is None:
            print_msg(f"Found {len(filenames)} files.")
        else:
            print_msg(f"Found {len(filenames)} files belonging to {len(found_names)} classes.")
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(filenames)
        if labels is not None:
            np.random.RandomState(seed).shuffle(labels)
    return filenames, labels, found_names


def training_or_validation_split(samples, labels, validation_split, subset):
    """The ``subset`` part: validation is the last ``int(validation_split * n)`` samples."""
    if not validation_split:
        return samples, labels
    num_val = int(validation_split * len(samples))
    if subset == "training":
        print_msg(f"Using {len(samples) - num_val} files for training.")
        cut = slice(None, len(samples) - num_val)
    elif subset == "validation":
        print_msg(f"Using {num_val} files for validation.")
        cut = slice(len(samples) - num_val, None)
    else:
        raise ValueError('`subset` must be either "training" or "validation", received: '
                         f"{subset}")
    return samples[cut], None if labels is None else labels[cut]


def encode_labels(labels, label_mode, num_classes):
    """Integer labels as Keras's dataset gives them: int32, float32 ``(n, 1)`` for "binary",
    float32 one-hot for "categorical"."""
    labels = np.asarray(labels)
    if label_mode == "binary":
        return labels.astype("float32")[:, None]
    if label_mode == "categorical":
        return np.eye(num_classes, dtype="float32")[labels.astype(np.int64)]
    return labels.astype("int32") if labels.dtype.kind in "iu" else labels


class FileDataset(PyDataset):
    """Batches of files read by ``load`` (one sample per file), with their labels.

    The first epoch reads the files in ``file_paths`` order; with ``shuffle_each_epoch``, each
    later epoch reads them in a new order (as Keras's ``tf.data`` pipeline reshuffles).

    Attributes:
        file_paths: The files, in the dataset's (first epoch's) order.
        class_names: The class names (None without labels).
    """

    def __init__(self, file_paths, labels, label_mode, class_names, batch_size, load,
                 collate=np.stack):
        super().__init__()
        self.file_paths = list(file_paths)
        self.class_names = class_names
        self.batch_size = batch_size
        self._labels = None if labels is None else encode_labels(
            labels, label_mode, len(class_names or ()))
        self._load = load
        self._collate = collate
        self._order = np.arange(len(self.file_paths))
        self._rng = None

    def shuffle_each_epoch(self, seed):
        """Reads the files in a new order (drawn from ``seed``) after each epoch."""
        self._rng = np.random.RandomState(seed)

    def on_epoch_end(self):
        if self._rng is not None:
            self._order = self._rng.permutation(len(self.file_paths))

    def __len__(self):
        if self.batch_size is None:
            return len(self.file_paths)
        return -(-len(self.file_paths) // self.batch_size)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index out of range. Received: index={index}, "
                             f"len={len(self)}")
        if self.batch_size is None:
            rows = self._order[index]
            x = self._load(self.file_paths[rows])
        else:
            rows = self._order[index * self.batch_size:(index + 1) * self.batch_size]
            x = self._collate([self._load(self.file_paths[i]) for i in rows])
        return x if self._labels is None else (x, self._labels[rows])


def build_from_directory(directory, labels, label_mode, class_names, formats, batch_size,
                         shuffle, seed, validation_split, subset, follow_links, verbose,
                         make_dataset, what="files"):
    """The work every ``*_dataset_from_directory`` shares: checks, index, split; calls
    ``make_dataset(file_paths, labels, label_mode, class_names)`` per subset."""
    labels, label_mode = check_labels(labels, label_mode, class_names)
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, found_labels, class_names = index_directory(
        directory, labels, formats=formats, class_names=class_names, shuffle=shuffle, seed=seed,
        follow_links=follow_links, verbose=verbose)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")
    if not paths:
        raise ValueError(f"No {what} found in directory {directory}. Allowed formats: "
                         f"{formats}")

    def make(paths, labels):
        dataset = make_dataset(paths, labels, label_mode, class_names)
        if shuffle:
            dataset.shuffle_each_epoch(seed)
        return dataset

    if subset == "both":
        return [make(*training_or_validation_split(paths, found_labels, validation_split, s))
                for s in ("training", "validation")]
    paths, found_labels = training_or_validation_split(paths, found_labels, validation_split,
                                                       subset)
    if not paths:
        raise ValueError(f"No {what} found in directory {directory}. Allowed formats: "
                         f"{formats}")
    return make(paths, found_labels)
