"""Where Keras keeps downloaded datasets, and reading its files without running code from them.

kerasish never downloads: each loader looks for the very file ``keras.utils.get_file`` would have
left in the Keras cache, and says where to put it when it is missing. Loading a file never runs
code from it: ``.npz`` files are read with pickling off, and the few object arrays (IMDB,
Reuters) and the CIFAR batches go through :class:`RestrictedUnpickler`, which rebuilds NumPy
arrays and nothing else.
"""
from __future__ import annotations

import os
import pickle
import tempfile
import zipfile

import numpy as np

ORIGIN_FOLDER = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# An ndarray pickles as `_reconstruct(ndarray, (0,), b"b")` + `dtype(...)` + state; taking
# `_reconstruct` from a reduce avoids importing `numpy.core` (deprecated in NumPy 2) or
# `numpy._core` (absent before NumPy 2), whichever spelling the file uses.
_RECONSTRUCT = np.zeros(0).__reduce__()[0]
_SCALAR = np.float32(0).__reduce__()[0]
_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    # Numpy scalars rebuild from (dtype, raw bytes): data only.
    ("numpy.core.multiarray", "scalar"): _SCALAR,
    ("numpy._core.multiarray", "scalar"): _SCALAR,
}

# An npz member that declares far more bytes than it stores is refused as a decompression bomb.
_BOMB_FLOOR_BYTES = 1 << 32
_BOMB_MAX_RATIO = 100


class RestrictedUnpickler(pickle.Unpickler):
    """A pickle reader that only rebuilds NumPy arrays, dtypes and scalars.

    Every global a pickle names goes through ``find_class``; anything outside the NumPy
    array-reconstruction functions (``os.system``, ``builtins.eval``, ...) is refused before it
    can be called, so a tampered file cannot run code.

    >>> import io, pickle
    >>> RestrictedUnpickler(io.BytesIO(pickle.dumps({b"labels": [1, 2]}))).load()
    {b'labels': [1, 2]}
    """

    def find_class(self, module, name):
        found = _ALLOWED_GLOBALS.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(
                f"Refusing to load `{module}.{name}` from a dataset file: only NumPy arrays may "
                "be rebuilt, so the file may be corrupted or malicious. "
                f"Received: global={module}.{name}")
        return found

    def persistent_load(self, pid):
        raise pickle.UnpicklingError(
            f"Dataset files hold no persistent references. Received: pid={pid!r}")


def keras_home() -> str:
    """Keras's home folder: ``$KERAS_HOME`` if set, else ``~/.keras`` (``/tmp/.keras`` if ``~``
    is not writable), read at call time so the variable can change within a session."""
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")


def cache_dirs(cache_subdir: str = "datasets") -> list[str]:
    """The folders ``get_file`` would have saved into: the Keras home's ``cache_subdir`` and, when
    that home is not writable, the ``.keras`` folder in the temp dir that Keras falls back to."""
    base = os.path.expanduser(keras_home())
    dirs = [os.path.join(base, cache_subdir)]
    if not os.access(base, os.W_OK):
        tmp = "/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir()
        dirs.append(os.path.join(tmp, ".keras", cache_subdir))
    return dirs


def check_fname(fname) -> str:
    """``get_file``'s rule: the file name is a name in the cache folder, not a path."""
    fname = os.fspath(fname)
    if os.sep in fname:
        raise ValueError(
            "Paths are no longer accepted as the `fname` argument. To specify the file's parent "
            f"directory, use the `cache_dir` argument. Received: fname={fname}")
    return fname


def missing(what: str, put_at: str, origin: str, also: str = "") -> FileNotFoundError:
    """The error for a dataset file that is not in the cache: where to put it, and its URL."""
    return FileNotFoundError(
        f"{what} is not in the Keras cache. kerasish never downloads: download {origin} "
        f"yourself and put it at {put_at}{also} (Keras's own cache, so a file Keras already "
        "downloaded is used as is).")


def find_file(fname, origin: str, cache_subdir: str = "datasets") -> str:
    """Path of the cached file ``fname``; a FileNotFoundError naming where to put it if absent."""
    fname = check_fname(fname)
    dirs = cache_dirs(cache_subdir)
    for folder in dirs:
        path = os.path.join(folder, fname)
        if os.path.isfile(path):
            return path
    raise missing(fname, os.path.join(dirs[0], fname), origin)


def _read_npy(stream, name: str, path: str):
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        _, _, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version not in ((2, 0), (3, 0)):
        raise ValueError(f"The member {name!r} of {path} is in an unknown .npy format. "
                         f"Received: version={version}")
    else:
        # Format 3.0 differs from 2.0 only in the header's text encoding (ASCII in practice).
        _, _, dtype = np.lib.format.read_array_header_2_0(stream)
    if dtype.hasobject:
        array = RestrictedUnpickler(stream).load()
        if not isinstance(array, np.ndarray):
            raise ValueError(f"The member {name!r} of {path} does not hold an array. "
                             f"Received: type={type(array).__name__}")
        return array
    stream.seek(0)
    return np.lib.format.read_array(stream, allow_pickle=False)


def load_npz(path: str) -> dict:
    """Reads every array of an ``.npz`` file into a dict, never running code from the file.

    Numeric arrays are read with pickling off; object arrays (ragged sequences) are rebuilt by
    :class:`RestrictedUnpickler`. A drop-in for ``np.load(path, allow_pickle=True)``.
    """
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.endswith(".npy"):
                continue
            if (info.file_size > _BOMB_FLOOR_BYTES
                    and info.file_size > _BOMB_MAX_RATIO * info.compress_size):
                raise ValueError(
                    f"Refusing to read {info.filename!r} of {path}: it declares "
                    f"{info.file_size} bytes but stores {info.compress_size} (a decompression "
                    f"bomb?). Received: file_size={info.file_size}")
            with archive.open(info) as stream:
                arrays[info.filename[:-len(".npy")]] = _read_npy(stream, info.filename, path)
    return arrays


def check_test_split(test_split) -> None:
    if not 0 <= test_split < 1:
        raise ValueError(f"`test_split` must be in [0, 1). Received: test_split={test_split}")


def shuffle_split(x, y, test_split, seed):
    """Keras's housing split: shuffle with ``RandomState(seed)``, then the first
    ``int(n * (1 - test_split))`` samples train and the rest test."""
    indices = np.arange(len(x))
    np.random.RandomState(seed).shuffle(indices)
    x, y = x[indices], y[indices]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))
