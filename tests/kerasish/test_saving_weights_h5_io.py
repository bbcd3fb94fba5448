"""Keras 3 .weights.h5, part 2: the optimizer group, atomic writes and dispatch on the file
name (part 1, test_saving_weights_h5.py, has loading, saving layouts and errors)."""
import io
import os
import zipfile

import h5py
import numpy as np
import pytest

from kerasish.saving import keras_weights_h5 as kw
from kerasish.variables import Variable
from tests.kerasish.test_saving_weights_h5 import conv_bn, lstm_model, mlp, rand


# -- the optimizer group ------------------------------------------------------------------------
class FakeAdam:
    """What the walk needs of an optimizer: ``apply_gradients``, ``variables``, ``name``."""

    def __init__(self, model=None):
        self.name = "adam"
        self.variables = [Variable(np.array(0), name="iteration", dtype="int64",
                                   trainable=False),
                          Variable(np.array(0.001), name="learning_rate", trainable=False)]
        for w in (model.trainable_weights if model is not None else []):
            for slot in ("momentum", "velocity"):
                self.variables.append(Variable(np.zeros(w.shape), name=slot, trainable=False))

    def apply_gradients(self, grads_and_vars):
        raise NotImplementedError


def test_optimizer_variables_saved_and_loaded(tmp_path):
    model = mlp()
    model.optimizer = FakeAdam(model)
    for i, v in enumerate(model.optimizer.variables):
        v.assign(np.full(v.shape, i + 1))
    path = tmp_path / "o.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        group = f["optimizer/vars"]
        assert group.attrs["name"] == "adam" and len(group) == 10
        assert group["0"].dtype == np.int64 and group["0"][()] == 1 and group["0"].shape == ()
        assert group["1"].dtype == np.float32 and group["1"][()] == 2
        np.testing.assert_array_equal(group["2"][()], np.full((4, 3), 3))
    fresh = mlp()
    fresh.optimizer = FakeAdam(fresh)
    fresh.load_weights(path)
    for a, b in zip(model.optimizer.variables, fresh.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # An optimizer that is not built yet: Keras's warning, the layers still load.
    unbuilt = mlp()
    unbuilt.optimizer = FakeAdam()
    with pytest.warns(UserWarning) as record:
        unbuilt.load_weights(path)
    assert [str(r.message) for r in record] == [
        "Skipping variable loading for optimizer 'adam', because it has 2 variables whereas "
        "the saved optimizer has 10 variables. "]
    assert unbuilt.optimizer.variables[0].numpy() == 0
    np.testing.assert_array_equal(unbuilt.layers[0].kernel.numpy(),
                                  model.layers[0].kernel.numpy())
    # An uncompiled model ignores the optimizer group silently.
    mlp().load_weights(path)


def test_optimizer_helpers(tmp_path):
    opt = FakeAdam(mlp())
    opt.variables[0].assign(np.array(7))
    with h5py.File(tmp_path / "x.h5", "w") as f:
        kw.save_optimizer_variables(f.create_group("optimizer"), opt)
    other = FakeAdam(mlp())
    with h5py.File(tmp_path / "x.h5", "r") as f:
        assert sorted(f["optimizer/vars"], key=int) == [str(i) for i in range(10)]
        assert kw.load_optimizer_variables(f["optimizer"], other) is True
        assert other.variables[0].numpy() == 7
        empty = FakeAdam()
        empty.variables = []
        with pytest.warns(UserWarning, match=r"has 0 variables whereas the saved optimizer has "
                                             r"10 variables\. This is likely because the "
                                             r"optimizer has not been called/built yet\.$"):
            assert kw.load_optimizer_variables(f["optimizer"], empty) is False


def test_real_optimizer_round_trip(tmp_path):
    from kerasish import optimizers
    model, fresh = mlp(), mlp()
    for m in (model, fresh):
        m.optimizer = optimizers.Adam()
        m.optimizer.build(m.trainable_weights)
    for i, v in enumerate(model.optimizer.variables):
        v.assign(np.full(v.shape, i + 1))
    path = tmp_path / "adam.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        assert len(f["optimizer/vars"]) == 2 + 2 * 4
        assert f["optimizer/vars"].attrs["name"] == model.optimizer.name
    fresh.load_weights(path)
    for a, b in zip(model.optimizer.variables, fresh.optimizer.variables):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())


# -- atomic write and overwrite -----------------------------------------------------------------
def test_atomic_write_keeps_previous_file(tmp_path, monkeypatch):
    model = conv_bn()
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    original = path.read_bytes()
    calls = {"n": 0}
    real = kw._write_vars

    def failing(group, obj):
        calls["n"] += 1
        if calls["n"] == 4:  # midway: some groups and datasets already written
            raise OSError("disk full")
        return real(group, obj)

    monkeypatch.setattr(kw, "_write_vars", failing)
    with pytest.raises(OSError, match="disk full"):
        model.save_weights(path)
    assert path.read_bytes() == original
    assert sorted(os.listdir(tmp_path)) == ["w.weights.h5"]  # no temporary file left behind


def test_overwrite_false_asks(tmp_path, monkeypatch):
    model = mlp()
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    original = path.read_bytes()
    model.layers[0].kernel.assign(np.ones((4, 3), "float32"))
    monkeypatch.setattr("builtins.input", lambda prompt="": "n")
    model.save_weights(path, overwrite=False)
    assert path.read_bytes() == original


# -- dispatch on the file name ------------------------------------------------------------------
def test_dispatch_errors(tmp_path):
    model = mlp()
    txt = tmp_path / "x.txt"
    with pytest.raises(ValueError) as e:
        model.load_weights(txt)
    assert str(e.value) == (
        f"File format not supported: filepath={txt}. Keras 3 only supports V3 `.keras` files, "
        "`.weights.h5` files, legacy H5 format files (`.h5` extension), or Orbax checkpoints.")
    with pytest.raises(ValueError) as e:
        model.save_weights(txt)
    assert str(e.value) == f"The filename must end in `.weights.h5`. Received: filepath={txt}"
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    with pytest.raises(ValueError) as e:
        model.load_weights(path, by_name=True)
    assert str(e.value) == ("`by_name` only supports loading legacy '.h5' or '.hdf5' files. "
                            f"Received: {path}")
    with pytest.raises(NotImplementedError, match=r"\.weights\.json"):
        model.save_weights(tmp_path / "w.weights.json")
    assert sorted(os.listdir(tmp_path)) == ["w.weights.h5"]


def test_legacy_names_still_use_the_legacy_layout(tmp_path):
    model = mlp()
    for suffix in ("h5", "hdf5"):
        path = tmp_path / f"w.{suffix}"
        model.save_weights(path)
        with h5py.File(path, "r") as f:
            assert "layer_names" in f.attrs and "layers" not in f
        fresh = mlp(names=("a", "b"))
        fresh.load_weights(path)
        np.testing.assert_array_equal(fresh.layers[1].bias.numpy(), model.layers[1].bias.numpy())


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_load_weights_from_keras_archive(tmp_path, compression):
    model = lstm_model()
    for w in model.weights:
        w.assign(rand(*w.shape))
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        kw.save_weights_to_h5_group(f, model)
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w", compression) as zf:
        zf.writestr("config.json", "{}")
        zf.writestr("model.weights.h5", buffer.getvalue())
    fresh = lstm_model()
    fresh.load_weights(path)
    for a, b in zip(model.weights, fresh.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with zipfile.ZipFile(tmp_path / "empty.keras", "w") as zf:
        zf.writestr("config.json", "{}")
    with pytest.raises(ValueError, match=r"^Expected a model\.weights\.h5 or "
                                         r"model\.weights\.npz file\.$"):
        fresh.load_weights(tmp_path / "empty.keras")
