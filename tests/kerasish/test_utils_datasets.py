"""keras.utils: text and audio folders, split_dataset, get_file (offline) and plot_model."""
import hashlib
import io
import os
import sys
import tarfile
import wave
import zipfile

import numpy as np
import pytest

import kerasish as keras
from kerasish import utils


def _text_folder(root):
    for label in ("neg", "pos"):
        os.makedirs(root / label)
        for i in range(2):
            (root / label / f"{i}.txt").write_text(f"{label} review {i} ünïcode", "utf-8")
    (root / "pos" / "skip.md").write_text("not a .txt")


def test_text_dataset(tmp_path, capsys):
    _text_folder(tmp_path)
    ds = utils.text_dataset_from_directory(tmp_path, batch_size=3, shuffle=False,
                                           label_mode="binary")
    assert capsys.readouterr().out == "Found 4 files belonging to 2 classes.\n"
    texts, labels = ds[0]
    assert texts.tolist() == ["neg review 0 ünïcode", "neg review 1 ünïcode",
                              "pos review 0 ünïcode"]
    assert labels.tolist() == [[0.0], [0.0], [1.0]] and ds.class_names == ["neg", "pos"]
    short = utils.text_dataset_from_directory(tmp_path, max_length=3, shuffle=False,
                                              labels=None, verbose=False)
    assert short[0].tolist() == ["neg", "neg", "pos", "pos"]
    val = utils.text_dataset_from_directory(tmp_path, validation_split=0.5, subset="validation",
                                            seed=2, verbose=False)
    assert len(val.file_paths) == 2


def _write_wav(path, samples, rate=8000, width=2, channels=1):
    with wave.open(str(path), "wb") as f:
        f.setnchannels(channels)
        f.setsampwidth(width)
        f.setframerate(rate)
        f.writeframes(np.asarray(samples).tobytes())


def test_audio_dataset(tmp_path):
    for label in ("no", "yes"):
        os.makedirs(tmp_path / label)
    _write_wav(tmp_path / "no" / "a.wav", np.array([0, 16384, -32768], "<i2"))
    _write_wav(tmp_path / "yes" / "b.wav", np.array([8192, -8192, 0, 0, 16384], "<i2"))
    ds = utils.audio_dataset_from_directory(tmp_path, shuffle=False, verbose=False)
    audio, labels = ds[0]
    assert audio.dtype == np.float32 and audio.shape == (2, 5, 1)  # padded to the longest
    assert audio[..., 0].tolist() == [[0, 0.5, -1, 0, 0], [0.25, -0.25, 0, 0, 0.5]]
    assert labels.tolist() == [0, 1]
    fixed = utils.audio_dataset_from_directory(tmp_path, shuffle=False, verbose=False,
                                               output_sequence_length=4)
    assert fixed[0][0][..., 0].tolist() == [[0, 0.5, -1, 0], [0.25, -0.25, 0, 0]]
    ragged = utils.audio_dataset_from_directory(tmp_path, shuffle=False, verbose=False,
                                                ragged=True)
    assert [a.shape for a in ragged[0][0]] == [(3, 1), (5, 1)]
    _write_wav(tmp_path / "yes" / "stereo8.wav", np.array([128, 255, 0, 128], "u1"), width=1,
               channels=2)
    clip = utils.audio_dataset_from_directory(tmp_path, shuffle=False, verbose=False,
                                              batch_size=None, sampling_rate=8000)[2][0]
    assert clip.tolist() == [[0.0, 127 / 128], [-1.0, 0.0]]
    with pytest.raises(NotImplementedError, match="Resampling"):
        utils.audio_dataset_from_directory(tmp_path, sampling_rate=16000, verbose=False)[0]
    with pytest.raises(ValueError, match="ragged"):
        utils.audio_dataset_from_directory(tmp_path, ragged=True, output_sequence_length=3)


def test_split_dataset_arrays_tuples_and_pydatasets():
    left, right = utils.split_dataset(np.arange(10), left_size=0.8)
    assert left.tolist() == list(range(8)) and right.tolist() == [8, 9]
    x, y = np.arange(10), np.arange(10) * 2
    (lx, ly), (rx, ry) = utils.split_dataset((x, y), left_size=0.7, shuffle=True, seed=3)
    assert lx.tolist() == [1, 5, 6, 0, 9, 4, 7] and rx.tolist() == [2, 8, 3]  # Keras's order
    assert np.array_equal(ly, 2 * lx) and np.array_equal(ry, 2 * rx)
    left, right = utils.split_dataset([x, y], right_size=2)
    assert isinstance(left, list) and left[0].tolist() == list(range(8))
    batches = utils.timeseries_dataset_from_array(np.arange(12), np.arange(12), 3,
                                                  batch_size=4)
    left, right = utils.split_dataset(batches, left_size=6)
    assert isinstance(left, keras.utils.PyDataset) and len(left) == 2 and len(right) == 1
    assert left[1][1].tolist() == [4, 5] and right[0][0][:2].tolist() == [[6, 7, 8], [7, 8, 9]]
    assert right[0][0].shape == (4, 3)  # batched as the source's first batch


@pytest.mark.parametrize("kwargs, error, match", [
    ({}, ValueError, "At least one"), ({"left_size": 0}, ValueError, "left_size"),
    ({"left_size": 1.5}, ValueError, "left_size"), ({"left_size": "a"}, TypeError, "Type"),
    ({"left_size": 0.6, "right_size": 0.6}, ValueError, "greater than 1"),
    ({"left_size": 6, "right_size": 6}, ValueError, "smaller than"),
])
def test_split_dataset_size_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        utils.split_dataset(np.arange(10), **kwargs)


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    os.makedirs(tmp_path / "keras_home")  # NOTE: Keras falls back to /tmp/.keras otherwise
    return tmp_path / "keras_home"


def test_get_file_finds_the_cached_file_and_checks_its_hash(home):
    origin = "https://example.com/files/data.csv"
    with pytest.raises(FileNotFoundError) as info:
        utils.get_file(origin=origin)
    target = home / "datasets" / "data.csv"
    assert str(target) in str(info.value) and origin in str(info.value)
    os.makedirs(target.parent)
    target.write_bytes(b"a,b\n1,2\n")
    assert utils.get_file(origin=origin) == str(target)
    assert utils.get_file("data.csv", origin, cache_subdir="datasets") == str(target)
    sha, md5 = (hashlib.sha256(b"a,b\n1,2\n").hexdigest(), hashlib.md5(b"a,b\n1,2\n").hexdigest())
    assert utils.get_file(origin=origin, file_hash=sha) == str(target)
    assert utils.get_file(origin=origin, md5_hash=md5) == str(target)
    with pytest.raises(ValueError, match="does not match its expected md5"):
        utils.get_file(origin=origin, file_hash="0" * 32)
    with pytest.raises(FileNotFoundError, match="force_download"):
        utils.get_file(origin=origin, force_download=True)
    with pytest.raises(ValueError, match="Paths are no longer accepted"):
        utils.get_file("a/b.csv", origin)
    with pytest.raises(ValueError, match="origin"):
        utils.get_file("b.csv")
    other = home.parent / "elsewhere"
    os.makedirs(other)
    with pytest.raises(FileNotFoundError, match=str(other / "models" / "w.h5")):
        utils.get_file("w.h5", "https://x/w.h5", cache_dir=str(other), cache_subdir="models")


def test_get_file_extracts_tar_and_zip_safely(home):
    folder = home / "datasets"
    os.makedirs(folder)
    with tarfile.open(folder / "pack.tar.gz", "w:gz") as tar:
        for name, data in (("pack/a.txt", b"A"), ("../evil.txt", b"X")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    out = utils.get_file("pack.tar.gz", "https://x/pack.tar.gz", extract=True)
    assert out == str(folder / "pack_extracted")
    assert (folder / "pack_extracted" / "pack" / "a.txt").read_bytes() == b"A"
    assert not (folder / "evil.txt").exists()
    with zipfile.ZipFile(folder / "bundle_archive", "w") as z:
        z.writestr("b.txt", "B")
        z.writestr("/abs/../../c.txt", "C")
    out = utils.get_file("bundle", "https://x/bundle.zip", extract=True)
    assert out == str(folder / "bundle") and (folder / "bundle" / "b.txt").read_text() == "B"
    with pytest.raises(FileNotFoundError, match="bundle2_archive"):
        utils.get_file("bundle2", "https://x/bundle2.zip", extract=True)
    os.makedirs(folder / "bundle3")  # extracted by hand, archive gone: fine
    assert utils.get_file("bundle3", "https://x/b3.zip", extract=True) == str(folder / "bundle3")


def _model():
    inputs = keras.Input((3,), name="x")
    hidden = keras.layers.Dense(4, activation="relu", name="hidden")(inputs)
    return keras.Model(inputs, keras.layers.Dense(2, name="out")(hidden), name="net")


def test_plot_model_without_pydot_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydot", None)
    with pytest.raises(ImportError, match=r"pip install pydot"):
        utils.plot_model(_model())
    with pytest.raises(ImportError, match=r"pip install pydot"):
        utils.model_to_dot(_model())


def test_model_to_dot_has_a_node_per_layer_and_the_edges():
    pydot = pytest.importorskip("pydot")
    model = _model()
    dot = utils.model_to_dot(model, show_shapes=True, show_layer_activations=True)
    assert isinstance(dot, pydot.Dot)
    ids = {layer.name: str(id(layer)) for layer in model.layers}
    assert {n.get_name() for n in dot.get_nodes()} >= set(ids.values())
    edges = {(e.get_source(), e.get_destination()) for e in dot.get_edges()}
    assert edges == {(ids["x"], ids["hidden"]), (ids["hidden"], ids["out"])}
    text = dot.to_string()
    assert "<b>hidden</b> (Dense)" in text and "Activation: <b>relu</b>" in text
    assert "Output shape: <b>(None, 4)</b>" in text
    seq = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3), keras.layers.Dense(1)])
    assert len(utils.model_to_dot(seq).get_edges()) == 1
    with pytest.raises(ValueError, match="layer_range"):
        utils.model_to_dot(model, layer_range=["x", "out"])
