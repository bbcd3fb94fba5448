"""kerasish.datasets: small fake files with Keras's names and layouts in a temporary KERAS_HOME.

Expected values are written here by hand or with plain NumPy, never by the loaders.
"""
import gzip
import io
import json
import os
import pickle
import tarfile

import numpy as np
import pytest

from kerasish import datasets
from kerasish.datasets import _cache

GCS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A Keras home with an empty ``datasets`` folder; returns that folder."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    return tmp_path / "datasets"


def ragged(*seqs):
    out = np.empty(len(seqs), dtype=object)
    for i, s in enumerate(seqs):
        out[i] = list(s)
    return out


class Evil:
    """Pickles as a call to os.system that would create ``marker``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


# ---------------------------------------------------------------------------- the cache folder

def test_cache_folder_is_keras_home_datasets_or_home_dot_keras(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    assert _cache.cache_dirs()[0] == str(tmp_path / "kh" / "datasets")
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".keras").mkdir()
    assert _cache.cache_dirs() == [str(tmp_path / ".keras" / "datasets")]


def test_an_unwritable_keras_home_also_looks_where_keras_falls_back(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "does-not-exist"))
    dirs = _cache.cache_dirs()
    assert len(dirs) == 2 and dirs[1].endswith(os.path.join(".keras", "datasets"))


def test_missing_file_names_the_path_and_the_url(home):
    with pytest.raises(FileNotFoundError) as info:
        datasets.mnist.load_data()
    assert str(home / "mnist.npz") in str(info.value)
    assert GCS + "mnist.npz" in str(info.value)


def test_missing_fashion_mnist_names_its_subfolder(home):
    with pytest.raises(FileNotFoundError, match="fashion-mnist/train-labels-idx1-ubyte.gz"):
        datasets.fashion_mnist.load_data()


def test_missing_cifar_names_the_archive_and_folder(home):
    with pytest.raises(FileNotFoundError) as info:
        datasets.cifar10.load_data()
    text = str(info.value)
    assert str(home / "cifar-10-batches-py_archive") in text
    assert str(home / "cifar-10-batches-py" / "cifar-10-batches-py") in text
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in text


def test_a_path_as_file_name_is_refused_like_get_file(home):
    with pytest.raises(ValueError, match="Received: fname=a/b.npz"):
        datasets.mnist.load_data(path="a/b.npz")


# ---------------------------------------------------------------------------- images

def test_mnist_reads_the_npz(home):
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    x_test = rng.integers(0, 256, (3, 28, 28), dtype=np.uint8)
    y_train = np.array([0, 1, 2, 3, 9], np.uint8)
    y_test = np.array([7, 8, 5], np.uint8)
    np.savez(home / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    (a, b), (c, d) = datasets.mnist.load_data()
    assert a.dtype == np.uint8 and a.shape == (5, 28, 28) and b.shape == (5,)
    assert c.shape == (3, 28, 28) and d.dtype == np.uint8
    np.testing.assert_array_equal(a, x_train)
    np.testing.assert_array_equal(d, y_test)


def _idx(path, array, magic):
    header = np.array([magic, *array.shape], ">u4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_reads_the_four_idx_files(home):
    folder = home / "fashion-mnist"
    folder.mkdir()
    x_train = np.arange(4 * 28 * 28).reshape(4, 28, 28) % 256
    x_test = (np.arange(2 * 28 * 28).reshape(2, 28, 28) * 7) % 256
    _idx(folder / "train-labels-idx1-ubyte.gz", np.array([3, 1, 4, 1]), 2049)
    _idx(folder / "train-images-idx3-ubyte.gz", x_train, 2051)
    _idx(folder / "t10k-labels-idx1-ubyte.gz", np.array([5, 9]), 2049)
    _idx(folder / "t10k-images-idx3-ubyte.gz", x_test, 2051)
    (a, b), (c, d) = datasets.fashion_mnist.load_data()
    assert a.shape == (4, 28, 28) and a.dtype == np.uint8 and c.shape == (2, 28, 28)
    np.testing.assert_array_equal(a, x_train)
    np.testing.assert_array_equal(c, x_test)
    assert b.tolist() == [3, 1, 4, 1] and d.tolist() == [5, 9] and b.dtype == np.uint8
    a[0, 0, 0] = 1  # writable, unlike a view of the decompressed bytes


def test_fashion_mnist_refuses_a_file_that_is_not_idx(home):
    folder = home / "fashion-mnist"
    folder.mkdir()
    for name in datasets.fashion_mnist.FILES:
        with gzip.open(folder / name, "wb") as f:
            f.write(b"not an idx file at all")
    with pytest.raises(ValueError, match="Received: magic=0x6e6f7420"):
        datasets.fashion_mnist.load_data()


def _batch(n, label_key, start, protocol=3, extra=None):
    """A CIFAR batch as Python 2 pickled it: bytes keys, (n, 3072) uint8 data, list labels."""
    data = (np.arange(n * 3072).reshape(n, 3072) + start) % 256
    batch = {b"data": data.astype(np.uint8), label_key.encode(): list(range(start, start + n)),
             b"batch_label": b"fake"}
    if extra is not None:
        batch[b"extra"] = extra
    return pickle.dumps(batch, protocol=protocol), data.reshape(n, 3, 32, 32)


def _cifar10_files(n=2):
    files, images = {}, []
    for i, name in enumerate(datasets.cifar10._MEMBERS):
        files[name], pixels = _batch(n, "labels", 10 * i)
        images.append(pixels)
    return files, images


def _check_cifar10(images, n=2):
    (a, b), (c, d) = datasets.cifar10.load_data()
    assert a.shape == (5 * n, 32, 32, 3) and c.shape == (n, 32, 32, 3)
    assert a.dtype == c.dtype == b.dtype == d.dtype == np.uint8
    assert b.shape == (5 * n, 1) and d.shape == (n, 1)
    # pixel [i, row, col, channel] = data[i, channel * 1024 + row * 32 + col]
    np.testing.assert_array_equal(a[n + 1, 4, 5, 2], images[1][1, 2, 4, 5])
    np.testing.assert_array_equal(c, images[5].transpose(0, 2, 3, 1))
    assert b[:, 0].tolist() == [0, 1, 10, 11, 20, 21, 30, 31, 40, 41]
    assert d[:, 0].tolist() == [50, 51]


@pytest.mark.parametrize("nested", [True, False], ids=["keras3-layout", "legacy-layout"])
def test_cifar10_reads_the_extracted_folder(home, nested):
    folder = home / "cifar-10-batches-py"
    if nested:
        folder = folder / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    files, images = _cifar10_files()
    for name, raw in files.items():
        (folder / name).write_bytes(raw)
    _check_cifar10(images)


@pytest.mark.parametrize("name", ["cifar-10-batches-py_archive", "cifar-10-python.tar.gz"])
def test_cifar10_reads_the_archive_without_extracting(home, name):
    files, images = _cifar10_files()
    with tarfile.open(home / name, "w:gz") as archive:
        for member, raw in files.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{member}")
            info.size = len(raw)
            archive.addfile(info, io.BytesIO(raw))
    _check_cifar10(images)
    assert sorted(os.listdir(home)) == [name]


def test_cifar_reads_the_numpy1_spelling_without_a_warning(home):
    folder = home / "cifar-10-batches-py"
    folder.mkdir()
    files, images = _cifar10_files()
    for name, raw in files.items():
        # Protocol 3 names globals as text lines; NumPy < 2 wrote `numpy.core.multiarray`.
        old = raw.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
        assert old != raw
        (folder / name).write_bytes(old)
    _check_cifar10(images)


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_picks_the_label_mode(home, label_mode):
    folder = home / "cifar-100-python" / "cifar-100-python"
    folder.mkdir(parents=True)
    train, _ = _batch(3, f"{label_mode}_labels", 0)
    test, test_images = _batch(2, f"{label_mode}_labels", 50)
    (folder / "train").write_bytes(train)
    (folder / "test").write_bytes(test)
    (a, b), (c, d) = datasets.cifar100.load_data(label_mode)
    assert a.shape == (3, 32, 32, 3) and a.dtype == np.uint8 and c.shape == (2, 32, 32, 3)
    assert b.shape == (3, 1) and b[:, 0].tolist() == [0, 1, 2] and d[:, 0].tolist() == [50, 51]
    assert b.dtype == np.int64
    np.testing.assert_array_equal(c, test_images.transpose(0, 2, 3, 1))


def test_cifar100_rejects_an_unknown_label_mode(home):
    with pytest.raises(ValueError, match="Received: label_mode=medium"):
        datasets.cifar100.load_data("medium")


# ---------------------------------------------------------------------------- no code runs

def test_a_pickle_calling_os_system_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "ran"
    raw = pickle.dumps({b"data": Evil(marker)}, protocol=3)
    with pytest.raises(pickle.UnpicklingError, match="`posix.system`|`nt.system`"):
        _cache.RestrictedUnpickler(io.BytesIO(raw)).load()
    assert not marker.exists()


def test_cifar_batch_with_a_reduce_trick_is_refused(home, tmp_path):
    marker = tmp_path / "ran"
    folder = home / "cifar-10-batches-py"
    folder.mkdir()
    files, _ = _cifar10_files()
    files["data_batch_3"], _ = _batch(2, "labels", 0, extra=Evil(marker))
    for name, raw in files.items():
        (folder / name).write_bytes(raw)
    with pytest.raises(pickle.UnpicklingError, match="Refusing to load"):
        datasets.cifar10.load_data()
    assert not marker.exists()


def test_imdb_npz_with_a_reduce_trick_is_refused(home, tmp_path):
    marker = tmp_path / "ran"
    np.savez(home / "imdb.npz", x_train=ragged([1, 2], [3]), y_train=np.array([0, 1]),
             x_test=np.array([Evil(marker)], dtype=object), y_test=np.array([1]))
    with pytest.raises(pickle.UnpicklingError, match="Refusing to load"):
        datasets.imdb.load_data()
    assert not marker.exists()


def test_builtins_eval_is_refused(tmp_path):
    raw = b"cbuiltins\neval\n(V__import__('os')\ntR."
    with pytest.raises(pickle.UnpicklingError, match="Received: global=builtins.eval"):
        _cache.RestrictedUnpickler(io.BytesIO(raw)).load()


# ---------------------------------------------------------------------------- text

def _shuffled(n, rng):
    order = np.arange(n)
    rng.shuffle(order)
    return order


def test_imdb_shuffles_offsets_and_limits_words_like_keras(home):
    train = [[1, 2, 3], [4, 5], [6], [7, 8, 9, 10]]
    test = [[2, 2], [9, 1, 4]]
    np.savez(home / "imdb.npz", x_train=ragged(*train), y_train=np.array([0, 1, 0, 1]),
             x_test=ragged(*test), y_test=np.array([1, 0]))
    (a, b), (c, d) = datasets.imdb.load_data(num_words=10, skip_top=5, seed=7)

    rng = np.random.RandomState(7)  # one generator: train order, then test order
    order_train, order_test = _shuffled(4, rng), _shuffled(2, rng)

    def expect(seq):  # start_char 1, +3, words outside [5, 10) -> oov 2
        return [w if 5 <= w < 10 else 2 for w in [1] + [w + 3 for w in seq]]
    assert a.dtype == object and a.shape == (4,) and c.shape == (2,)
    assert list(a) == [expect(train[i]) for i in order_train]
    assert list(c) == [expect(test[i]) for i in order_test]
    assert b.tolist() == [[0, 1, 0, 1][i] for i in order_train]
    assert d.tolist() == [[1, 0][i] for i in order_test]


def test_imdb_defaults_maxlen_and_no_oov(home):
    train = [[1, 2, 3], [4, 5], [6], [7, 8, 9, 10]]
    np.savez(home / "imdb.npz", x_train=ragged(*train), y_train=np.array([0, 1, 0, 1]),
             x_test=ragged([2, 2], [3, 1]), y_test=np.array([1, 0]))
    (a, b), (c, _) = datasets.imdb.load_data(maxlen=4, oov_char=None, seed=0)
    # Kept: sequences shorter than 4 with the start mark, i.e. of 1-2 words. The largest word
    # kept is 9 (6 + 3); Keras's num_words is then 9, so word 9 itself is dropped.
    assert sorted(map(tuple, a)) == [(1,), (1, 7, 8)]
    assert sorted(b.tolist()) == [0, 1]
    assert sorted(map(tuple, c)) == [(1, 5, 5), (1, 6, 4)]
    with pytest.raises(ValueError, match="maxlen=1, no sequence was kept"):
        datasets.imdb.load_data(maxlen=1)


def test_equal_length_sequences_stay_a_1d_array_of_lists(home):
    np.savez(home / "imdb.npz", x_train=ragged([1, 2], [3, 4]), y_train=np.array([0, 1]),
             x_test=ragged([5, 6]), y_test=np.array([1]))
    (a, _), _ = datasets.imdb.load_data()
    assert a.shape == (2,) and isinstance(a[0], list)


def test_reuters_splits_after_the_shuffle(home):
    xs = [[1], [2, 2], [3, 3, 3], [4], [5, 5], [6]]
    labels = np.array([10, 11, 12, 13, 14, 15])
    np.savez(home / "reuters.npz", x=ragged(*xs), y=labels)
    (a, b), (c, d) = datasets.reuters.load_data(test_split=0.5, seed=3, start_char=None,
                                                index_from=0, num_words=100)
    order = _shuffled(6, np.random.RandomState(3))
    assert list(a) + list(c) == [xs[i] for i in order]
    assert b.tolist() + d.tolist() == labels[order].tolist() and len(b) == 3
    assert datasets.reuters.get_label_names()[45] == "lead"


def test_word_indexes_read_the_json(home):
    (home / "imdb_word_index.json").write_text(json.dumps({"the": 1, "film": 19}))
    (home / "reuters_word_index.json").write_text(json.dumps({"said": 2}))
    assert datasets.imdb.get_word_index() == {"the": 1, "film": 19}
    assert datasets.reuters.get_word_index() == {"said": 2}


# ---------------------------------------------------------------------------- tables

def test_boston_housing_shuffles_then_splits(home):
    x = np.arange(10 * 13, dtype=np.float64).reshape(10, 13)
    y = np.arange(10, dtype=np.float64) * 1.5
    np.savez(home / "boston_housing.npz", x=x, y=y)
    (a, b), (c, d) = datasets.boston_housing.load_data(test_split=0.3, seed=5)
    order = _shuffled(10, np.random.RandomState(5))
    assert a.shape == (7, 13) and c.shape == (3, 13) and b.shape == (7,) and d.shape == (3,)
    np.testing.assert_array_equal(a, x[order[:7]])
    np.testing.assert_array_equal(d, y[order[7:]])
    with pytest.raises(ValueError, match="Received: test_split=1"):
        datasets.boston_housing.load_data(test_split=1)


def test_california_housing_small_takes_the_first_600(home):
    x = np.arange(700 * 8, dtype=np.float32).reshape(700, 8)
    np.savez(home / "california_housing.npz", x=x, y=x[:, 0] * 2)
    (a, b), (c, d) = datasets.california_housing.load_data(version="small")
    assert a.shape == (480, 8) and c.shape == (120, 8)
    assert np.concatenate([a, c])[:, 0].max() < 600 * 8
    np.testing.assert_array_equal(b, a[:, 0] * 2)
    (a, _), (c, _) = datasets.california_housing.load_data()
    assert len(a) + len(c) == 700 and len(c) == 140
    with pytest.raises(ValueError, match="Received: version=tiny"):
        datasets.california_housing.load_data(version="tiny")


# ---------------------------------------------------------------------------- digits

def test_digits_are_8x8_float32_images_split_keras_style():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    (a, b), (c, d) = datasets.digits.load_data()
    assert a.shape == (1347, 8, 8) and c.shape == (450, 8, 8)
    assert a.dtype == np.float32 and b.dtype == np.int64 and set(b.tolist()) == set(range(10))
    assert a.min() == 0 and a.max() == 16 and np.all(a == np.round(a))
    raw = sklearn_datasets.load_digits()
    order = _shuffled(1797, np.random.RandomState(0))
    np.testing.assert_array_equal(c, raw.images[order[1347:]])
    np.testing.assert_array_equal(b, raw.target[order[:1347]])


def test_digits_without_sklearn_says_how_to_install(monkeypatch):
    import sys
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install kerasish\[demo\]"):
        datasets.digits.load_data()
