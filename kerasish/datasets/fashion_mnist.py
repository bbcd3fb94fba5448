"""Fashion-MNIST, read from the four gzipped IDX files Keras downloads into
``datasets/fashion-mnist/`` (never downloaded here)."""
from __future__ import annotations

import gzip
import os

import numpy as np

from ._cache import ORIGIN_FOLDER, find_file

FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
# IDX magic numbers: 0x08 (unsigned byte) data, then the number of dimensions.
_LABELS_MAGIC, _IMAGES_MAGIC = 0x801, 0x803


def _read_idx(path: str, magic: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = bytearray(f.read())  # a bytearray, so the arrays returned are writable
    ndim = magic & 0xFF
    header = np.frombuffer(raw, ">u4", count=1 + ndim) if len(raw) >= 4 * (1 + ndim) else None
    if header is None or header[0] != magic:
        found = None if header is None else hex(header[0])
        raise ValueError(f"{path} is not an IDX file of unsigned bytes with {ndim} dimension(s). "
                         f"Received: magic={found}")
    shape = tuple(int(d) for d in header[1:])
    return np.frombuffer(raw, np.uint8, offset=4 * (1 + ndim)).reshape(shape)


def load_data():
    """Loads Fashion-MNIST from ``$KERAS_HOME/datasets/fashion-mnist/`` (default ``~/.keras``).

    Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
    7 Sneaker, 8 Bag, 9 Ankle boot.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: uint8 images of shape (60000, 28, 28) and
        (10000, 28, 28), uint8 labels of shape (60000,) and (10000,).

    Raises:
        FileNotFoundError: a file is not in the cache; the message says where to put it.

    >>> (x_train, y_train), (x_test, y_test) = load_data()  # doctest: +SKIP
    """
    subdir = os.path.join("datasets", "fashion-mnist")
    paths = [find_file(name, origin=ORIGIN_FOLDER + name, cache_subdir=subdir) for name in FILES]
    y_train = _read_idx(paths[0], _LABELS_MAGIC)
    x_train = _read_idx(paths[1], _IMAGES_MAGIC)
    y_test = _read_idx(paths[2], _LABELS_MAGIC)
    x_test = _read_idx(paths[3], _IMAGES_MAGIC)
    return (x_train, y_train), (x_test, y_test)
