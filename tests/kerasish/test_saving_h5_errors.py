"""Keras's legacy HDF5 weights, part 2: loading by name, error texts, the atomic write and
overwrite (part 1, test_saving_h5.py, reads and writes the layouts)."""
import os

import h5py
import numpy as np
import pytest

import kerasish as keras
from kerasish.layers import Dense
from kerasish.saving import legacy_h5
from tests.kerasish.test_saving_h5 import (check_landed, expected_values, functional_model, rand,
                                           set_all, tf_keras_file, vlen)


# -- by_name --------------------------------------------------------------------------------------
def test_by_name(tmp_path):
    k, b, scale, shift = rand(4, 3), rand(3), rand(3), rand(3)
    path = tmp_path / "w.h5"
    tf_keras_file(path, [
        ("input_9", []),
        ("bn_sc", [("bn_sc/scale:0", scale), ("bn_sc/shift:0", shift)]),
        ("not_in_model", [("not_in_model/kernel:0", rand(7, 7))]),
        ("bn_d1", [("bn_d1/kernel:0", k), ("bn_d1/bias:0", b)]),
    ])
    model = functional_model("bn")
    before = model.get_layer("bn_d2").kernel.numpy().copy()
    # Keras skips unmatched layers silently; kerasish loads the rest and warns, naming them.
    with pytest.warns(UserWarning, match=r"\['bn_d2'\].*\['not_in_model'\]\.$"):
        model.load_weights(path, by_name=True)
    np.testing.assert_array_equal(model.get_layer("bn_d1").kernel.numpy(), k)
    np.testing.assert_array_equal(model.get_layer("bn_d1").bias.numpy(), b)
    np.testing.assert_array_equal(model.get_layer("bn_sc").scale.numpy(), scale)
    np.testing.assert_array_equal(model.get_layer("bn_sc").shift.numpy(), shift)
    np.testing.assert_array_equal(model.get_layer("bn_d2").kernel.numpy(), before)  # no group
    # By position the same file does not fit (3 layers with weights against 3, but the
    # shapes differ).
    with pytest.raises(ValueError, match="Shape mismatch in layer #0"):
        functional_model("bp").load_weights(path)


def test_by_name_mismatches(tmp_path):
    path = tmp_path / "w.h5"
    tf_keras_file(path, [
        ("bm_d1", [("bm_d1/kernel:0", rand(4, 5)), ("bm_d1/bias:0", rand(5))]),
        ("bm_d2", [("bm_d2/kernel:0", rand(3, 2))]),
        ("bm_sc", [("bm_sc/scale:0", np.full(3, 7.0, "float32")),
                   ("bm_sc/shift:0", rand(3))]),
    ])
    model = functional_model("bm")
    with pytest.raises(ValueError, match=r"^Shape mismatch in layer #0 \(named bm_d1\)for weight "
                       r"bm_d1/kernel\. Weight expects shape \(4, 3\)\. Received saved weight "
                       r"with shape \(4, 5\)\n\n"):
        model.load_weights(path, by_name=True)
    only_d2 = tmp_path / "d2.h5"
    tf_keras_file(only_d2, [("bm_d2", [("bm_d2/kernel:0", rand(3, 2))])])
    with pytest.raises(ValueError, match=r"^Weight count mismatch for layer #0 \(named bm_d2\)\. "
                       r"Layer expects 2 weight\(s\)\. Received 1 saved weight\(s\)\n\n"):
        model.load_weights(only_d2, by_name=True)
    assert not np.any(model.get_layer("bm_sc").scale.numpy() == 7.0)  # nothing assigned
    with pytest.warns(UserWarning) as record:
        model.load_weights(path, by_name=True, skip_mismatch=True)
    messages = [str(r.message) for r in record]
    assert ("Skipping loading weights for layer #0 (named bm_d1)due to mismatch in shape for "
            "weight bm_d1/kernel. Weight expects shape (4, 3). Received saved weight with shape "
            "(4, 5)") in messages
    assert ("Skipping loading of weights for layer #1 (named bm_d2) due to mismatch in number "
            "of weights. Layer expects 2 weight(s). Received 1 saved weight(s)") in messages
    np.testing.assert_array_equal(model.get_layer("bm_sc").scale.numpy(), np.full(3, 7.0))


# -- errors --------------------------------------------------------------------------------------
def test_layer_count_mismatch(tmp_path):
    path = tmp_path / "w.h5"
    tf_keras_file(path, [("dense", [("dense/kernel:0", rand(8, 3)), ("dense/bias:0", rand(3))])])
    x = keras.Input((8,))
    model = keras.Model(x, Dense(2)(Dense(5)(x)))
    with pytest.raises(ValueError) as e:
        model.load_weights(path)
    # Keras's text first; kerasish's listing of what did not map follows it.
    assert str(e.value).split("\n\n")[0] == (
        "Layer count mismatch when loading weights from file. Model expected 2 layers, found 1 "
        "saved layers.")


def test_shape_mismatch_text_and_nothing_assigned(tmp_path):
    path = tmp_path / "w.h5"
    good_k1 = rand(4, 3)
    tf_keras_file(path, [
        ("dense_3", [("dense_3/kernel:0", rand(8, 3)), ("dense_3/bias:0", rand(3))]),
    ])
    x = keras.Input((8,))
    model = keras.Model(x, Dense(5, name="dense_3")(x))
    with pytest.raises(ValueError) as e:
        model.load_weights(path)
    assert str(e.value).split("\n\n")[0] == (
        "Shape mismatch in layer #0 (named dense_3)for weight dense_3/kernel. Weight expects "
        "shape (8, 5). Received saved weight with shape (8, 3)")
    # A mismatch in the second layer leaves the first layer untouched too.
    tf_keras_file(path, [
        ("a", [("a/kernel:0", good_k1), ("a/bias:0", rand(3))]),
        ("b", [("b/kernel:0", rand(3, 4)), ("b/bias:0", rand(4))]),
    ])
    x = keras.Input((4,))
    model = keras.Model(x, Dense(5, name="sm_b")(Dense(3, name="sm_a")(x)))
    before = model.get_layer("sm_a").kernel.numpy().copy()
    with pytest.raises(ValueError, match=r"Shape mismatch in layer #1 \(named sm_b\)for weight "
                                         r"sm_b/kernel\. Weight expects shape \(3, 5\)\."):
        model.load_weights(path)
    np.testing.assert_array_equal(model.get_layer("sm_a").kernel.numpy(), before)
    # skip_mismatch: warn, skip the mismatching weights, load the rest.
    with pytest.warns(UserWarning, match=r"Skipping loading weights for layer #1 \(named "
                                         r"sm_b\)due to mismatch in shape"):
        model.load_weights(path, skip_mismatch=True)
    np.testing.assert_array_equal(model.get_layer("sm_a").kernel.numpy(), good_k1)


def test_weight_count_mismatch(tmp_path):
    path = tmp_path / "w.h5"
    tf_keras_file(path, [("d", [("d/kernel:0", rand(4, 3))])])
    x = keras.Input((4,))
    model = keras.Model(x, Dense(3, name="wc_d")(x))
    with pytest.raises(ValueError) as e:
        model.load_weights(path)
    assert str(e.value).split("\n\n")[0] == (
        "Weight count mismatch for layer #0 (named wc_d in the current model, d in the save "
        "file). Layer expects 2 weight(s). Received 1 saved weight(s)")


def test_unbuilt_model(tmp_path):
    path = tmp_path / "w.h5"
    tf_keras_file(path, [])
    model = keras.Sequential([Dense(3)])
    with pytest.raises(ValueError) as e:
        model.load_weights(path)
    assert str(e.value) == (
        "You are loading weights into a model that has not yet been built. Try building the "
        "model first by calling it on some data or by using `build()`.")


def test_file_names(tmp_path):
    model = functional_model("fn")
    with pytest.raises(ValueError) as e:
        model.load_weights(tmp_path / "x.txt")
    assert str(e.value) == (
        f"File format not supported: filepath={tmp_path / 'x.txt'}. Keras 3 only supports V3 "
        "`.keras` files, `.weights.h5` files, legacy H5 format files (`.h5` extension), or "
        "Orbax checkpoints.")
    with pytest.raises(ValueError, match=r"^The filename must end in `\.weights\.h5`\. "
                                         r"Received: filepath=.*x\.txt$"):
        model.save_weights(tmp_path / "x.txt")
    assert os.listdir(tmp_path) == []


def test_listed_layer_without_group(tmp_path):
    path = tmp_path / "w.h5"
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = vlen(["ghost"])
    model = functional_model("gh")
    with pytest.raises(ValueError, match="lists layer 'ghost' in layer_names but has no group"):
        model.load_weights(path)


# -- atomic write and overwrite ------------------------------------------------------------------
def test_atomic_write_keeps_previous_file(tmp_path, monkeypatch):
    v = expected_values()
    model = functional_model("at")
    set_all(model, v, "at")
    path = tmp_path / "w.h5"
    model.save_weights(path)
    original = path.read_bytes()
    for w in model.weights:
        w.assign(np.zeros(w.shape, "float32"))

    calls = {"n": 0}
    real = legacy_h5._save_subset

    def failing(group, layer, weights, names):
        calls["n"] += 1
        if calls["n"] == 3:  # midway: some groups and datasets already written
            raise OSError("disk full")
        return real(group, layer, weights, names)

    monkeypatch.setattr(legacy_h5, "_save_subset", failing)
    with pytest.raises(OSError, match="disk full"):
        model.save_weights(path)
    assert calls["n"] == 3
    assert path.read_bytes() == original
    assert sorted(os.listdir(tmp_path)) == ["w.h5"]  # no temporary file left behind
    fresh = functional_model("at2")
    fresh.load_weights(path)
    check_landed(fresh, v, prefix="at2")
    # A successful save replaces it.
    monkeypatch.setattr(legacy_h5, "_save_subset", real)
    model.save_weights(path)
    fresh.load_weights(path)
    assert all(not np.any(w.numpy()) for w in fresh.weights)
    assert sorted(os.listdir(tmp_path)) == ["w.h5"]


def test_overwrite_false_asks(tmp_path, monkeypatch, capsys):
    model = functional_model("ow")
    path = tmp_path / "w.h5"
    model.save_weights(path)
    original = path.read_bytes()
    model.get_layer("ow_d1").kernel.assign(np.ones((4, 3), "float32"))
    answers = iter(["maybe", "n"])
    prompts = []
    monkeypatch.setattr("builtins.input", lambda prompt="": prompts.append(prompt) or
                        next(answers))
    model.save_weights(path, overwrite=False)
    assert path.read_bytes() == original
    assert prompts == [f"[WARNING] {path} already exists - overwrite? [y/n]",
                       'Enter "y" (overwrite) or "n" (cancel).']
    monkeypatch.setattr("builtins.input", lambda prompt="": "y")
    model.save_weights(path, overwrite=False)
    assert "[TIP] Next time specify overwrite=True!" in capsys.readouterr().out
    fresh = functional_model("ow2")
    fresh.load_weights(path)
    np.testing.assert_array_equal(fresh.get_layer("ow2_d1").kernel.numpy(), np.ones((4, 3)))
