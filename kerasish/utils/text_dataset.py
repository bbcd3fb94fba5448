"""``keras.utils.text_dataset_from_directory``: text files in class folders as a PyDataset."""
from __future__ import annotations

import numpy as np

from . import dataset_utils


def text_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                class_names=None, batch_size=32, max_length=None, shuffle=True,
                                seed=None, validation_split=None, subset=None,
                                follow_links=False, format="tf", verbose=True):
    """A ``PyDataset`` of ``(texts, labels)`` batches from ``.txt`` files.

    Texts are a NumPy array of Python strings (``(batch,)``, dtype object), each a whole file
    read as UTF-8; labels as in :func:`image_dataset_from_directory`.

    Args:
        directory: The folder (with ``labels="inferred"``: one sub-folder per class).
        labels: ``"inferred"``, None (texts only) or a list of int labels in sorted path order.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` or None.
        class_names: The class folders to use, in label order.
        batch_size: Texts per batch; None = one text per item.
        max_length: Keep at most this many characters of each text.
        shuffle, seed, validation_split, subset, follow_links, verbose: as in
            :func:`image_dataset_from_directory`.
        format: ``"tf"`` or ``"grain"`` in Keras; either way kerasish returns a PyDataset.

    >>> train = text_dataset_from_directory("aclImdb/train", batch_size=32, seed=1)
    """
    if format not in ("tf", "grain"):
        raise ValueError(f'`format` should be either "tf" or "grain". Received: format={format}')

    def load(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        return text if max_length is None else text[:max_length]

    def collate(texts):
        out = np.empty(len(texts), dtype=object)
        out[:] = texts
        return out

    def make(paths, labels, label_mode, class_names):
        return dataset_utils.FileDataset(paths, labels, label_mode, class_names, batch_size,
                                         load, collate)

    return dataset_utils.build_from_directory(
        directory, labels, label_mode, class_names, (".txt",), batch_size, shuffle, seed,
        validation_split, subset, follow_links, verbose, make, what="text files")
