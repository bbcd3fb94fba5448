"""When a weights file does not fit the model: Keras's message first, then the listing of which
layers and weights did not map and why; `by_name=True` that matches nothing; truncated and
corrupted files; and that a failed load leaves the model's weights as they were. Files are
written here with h5py in Keras's layouts (docs/file-formats.md)."""
import h5py
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers as L
from kerasish.saving import keras_weights_h5, legacy_h5
from kerasish.variables import Variable

RNG = np.random.default_rng(1)
EMPTY = np.zeros((0,), "float64")


def rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


def convnet(c2=32, extra=False, prefix=""):
    x = keras.Input((8, 8, 3), name="img")
    h = L.Conv2D(16, 3, padding="same", name=f"{prefix}c1")(x)
    h = L.Conv2D(c2, 3, padding="same", name=f"{prefix}c2")(h)
    if extra:
        h = L.Conv2D(8, 1, name=f"{prefix}cx")(h)
    h = L.BatchNormalization(scale=False, name=f"{prefix}bn")(h)
    h = L.Conv2D(64, 3, padding="same", name=f"{prefix}c3")(h)
    h = L.GlobalAveragePooling2D(name=f"{prefix}gap")(h)
    return keras.Model(x, L.Dense(5, name=f"{prefix}out")(h))


def convnet_layers(c2=32, extra=False, bn_scale=False):
    """The layer groups tf-keras 2.21 writes for ``convnet``: [(group, [(weight, array)])]."""
    c3_in = 8 if extra else c2
    bn = ["gamma"] * bn_scale + ["beta", "moving_mean", "moving_variance"]
    layers = [("img", []),
              ("c1", [("c1/kernel:0", rand(3, 3, 3, 16)), ("c1/bias:0", rand(16))]),
              ("c2", [("c2/kernel:0", rand(3, 3, 16, c2)), ("c2/bias:0", rand(c2))])]
    if extra:
        layers.append(("cx", [("cx/kernel:0", rand(1, 1, c2, 8)), ("cx/bias:0", rand(8))]))
    return layers + [
        ("bn", [(f"bn/{w}:0", rand(c3_in)) for w in bn]),
        ("c3", [("c3/kernel:0", rand(3, 3, c3_in, 64)), ("c3/bias:0", rand(64))]),
        ("gap", []),
        ("out", [("out/kernel:0", rand(64, 5)), ("out/bias:0", rand(5))])]


def write_legacy(path, layers, top=()):
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [name.encode() for name, _ in layers]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.21.0"
        for name, weights in layers + [("top_level_model_weights", list(top))]:
            group = f.create_group(name)
            group.attrs["weight_names"] = [w.encode() for w, _ in weights] if weights else EMPTY
            for w, value in weights:
                group.create_dataset(w, data=value)
    return path


def write_keras3(path, groups):
    with h5py.File(path, "w") as f:
        for obj_path, arrays in groups.items():
            group = f.require_group(f"{obj_path}/vars" if obj_path else "vars")
            for i, a in enumerate(arrays):
                group[str(i)] = a
    return path


def snapshot(model):
    return [np.array(w.numpy(), copy=True) for w in model.weights]


def assert_unchanged(model, before):
    for w, b in zip(model.weights, before):
        np.testing.assert_array_equal(w.numpy(), b, err_msg=w.path)


def load_error(model, path, **kwargs):
    """Loads, expects a ValueError, checks that no weight changed; returns the message."""
    before = snapshot(model)
    with pytest.raises(ValueError) as e:
        model.load_weights(path, **kwargs)
    assert_unchanged(model, before)
    return str(e.value)


# -- legacy `.h5`, by position -----------------------------------------------------------------
def test_shape_mismatch_lists_every_layer_and_weight(tmp_path):
    path = write_legacy(tmp_path / "w.h5", convnet_layers(c2=16))
    assert load_error(convnet(c2=32), path) == "\n".join([
        "Shape mismatch in layer #1 (named c2)for weight c2/kernel. Weight expects shape "
        "(3, 3, 16, 32). Received saved weight with shape (3, 3, 16, 16)",
        "",
        f"Layers with weights, model -> file {path} (loading pairs them by position; the rows "
        "line them up by weight shapes to show what differs):",
        "Not mapped: 3 with a shape mismatch.",
        "  #0 c1 (Conv2D, 2 weights) -> #0 c1 (2 weights): ok",
        "  #1 c2 (Conv2D, 2 weights) -> #1 c2 (2 weights): shape mismatch",
        "      c2/kernel (3, 3, 16, 32) vs c2/kernel:0 (3, 3, 16, 16)",
        "      c2/bias (32,) vs c2/bias:0 (16,)",
        "  #2 bn (BatchNormalization, 3 weights) -> #2 bn (3 weights): shape mismatch",
        "      bn/beta (32,) vs bn/beta:0 (16,)",
        "      bn/moving_mean (32,) vs bn/moving_mean:0 (16,)",
        "      bn/moving_variance (32,) vs bn/moving_variance:0 (16,)",
        "  #3 c3 (Conv2D, 2 weights) -> #3 c3 (2 weights): shape mismatch",
        "      c3/kernel (3, 3, 32, 64) vs c3/kernel:0 (3, 3, 16, 64)",
        "  #4 out (Dense, 2 weights) -> #4 out (2 weights): ok"])


def test_layer_missing_from_the_file(tmp_path):
    path = write_legacy(tmp_path / "w.h5", convnet_layers())
    msg = load_error(convnet(extra=True), path)
    assert msg.startswith("Layer count mismatch when loading weights from file. Model expected "
                          "6 layers, found 5 saved layers.\n\n")
    assert "Not mapped: 1 missing from the file, 2 with a shape mismatch." in msg
    assert "\n  #2 cx (Conv2D, 2 weights) -> (nothing): missing from the file\n" in msg
    assert "\n  #3 bn (BatchNormalization, 3 weights) -> #2 bn (3 weights): shape mismatch\n" \
        in msg
    assert "\n      c3/kernel (3, 3, 8, 64) vs c3/kernel:0 (3, 3, 32, 64)\n" in msg
    assert msg.endswith("\n  #5 out (Dense, 2 weights) -> #4 out (2 weights): ok")


def test_extra_layer_in_the_file_and_long_runs_fold(tmp_path):
    path = write_legacy(tmp_path / "w.h5", convnet_layers(extra=True))
    msg = load_error(convnet(), path)
    assert msg.startswith("Layer count mismatch when loading weights from file. Model expected "
                          "5 layers, found 6 saved layers.\n\n")
    assert "\n  (nothing) -> #2 cx (2 weights): extra in the file\n" in msg
    # Many layers that map fold into one line.
    x = keras.Input((4,), name="x")
    h = x
    for i in range(8):
        h = L.Dense(4, name=f"d{i}")(h)
    model = keras.Model(x, h)
    dense = [(f"d{i}", [(f"d{i}/kernel:0", rand(4, 4)), (f"d{i}/bias:0", rand(4))])
             for i in range(9)]
    layers = [("x", [])] + dense
    msg = load_error(model, write_legacy(tmp_path / "d.h5", layers))
    assert msg.endswith("Not mapped: 1 extra in the file.\n"
                        "  ... 8 layers that map (model #0 to #7) ...\n"
                        "  (nothing) -> #8 d8 (2 weights): extra in the file")


def test_weight_count_mismatch_lists_both_sides(tmp_path):
    # A file whose BatchNormalization has gamma (scale=True) for a model with scale=False.
    path = write_legacy(tmp_path / "w.h5", convnet_layers(bn_scale=True))
    msg = load_error(convnet(), path)
    assert msg.startswith("Weight count mismatch for layer #2 (named bn in the current model, "
                          "bn in the save file). Layer expects 3 weight(s). Received 4 saved "
                          "weight(s)\n\n")
    assert ("\n  #2 bn (BatchNormalization, 3 weights) -> #2 bn (4 weights): weight count "
            "mismatch: 3 in the model, 4 in the file\n"
            "      model: bn/beta (32,), bn/moving_mean (32,), bn/moving_variance (32,)\n"
            "      file:  bn/gamma:0 (32,), bn/beta:0 (32,), bn/moving_mean:0 (32,), "
            "bn/moving_variance:0 (32,)\n") in msg


def test_top_level_weights_and_keras3_file_hint(tmp_path):
    path = write_legacy(tmp_path / "w.h5", convnet_layers(), top=[("m/extra:0", rand(3))])
    msg = load_error(convnet(), path)
    assert msg.startswith("Weight count mismatch for top-level weights when loading weights "
                          "from file. Model expects 0 top-level weight(s). Received 1 saved "
                          "top-level weight(s)\n\n")
    assert ("\n  the model's own weights (0 weights) -> top_level_model_weights (1 weight): "
            "weight count mismatch: 0 in the model, 1 in the file\n"
            "      model: none\n      file:  m/extra:0 (3,)") in msg
    # A Keras 3 file under a legacy name: Keras's count error, and a hint.
    model = convnet()
    model.save_weights(tmp_path / "k3.weights.h5")
    (tmp_path / "k3.weights.h5").rename(tmp_path / "k3.h5")
    msg = load_error(model, tmp_path / "k3.h5")
    assert msg.startswith("Layer count mismatch when loading weights from file. Model expected "
                          "5 layers, found 0 saved layers.\n\n")
    assert "Not mapped: 5 missing from the file." in msg
    assert msg.endswith("Hint: the file has no `layer_names` attribute but has Keras 3 "
                        "`layers`/`vars` groups: it is a Keras 3 weights file. Load it from a "
                        "name ending in `.weights.h5`.")


def test_skip_mismatch_loads_the_rest(tmp_path):
    layers = convnet_layers(c2=16)
    path = write_legacy(tmp_path / "w.h5", layers)
    model = convnet()
    with pytest.warns(UserWarning) as record:
        model.load_weights(path, skip_mismatch=True)
    assert [str(r.message).split("for weight ")[1].split(".")[0] for r in record] == [
        "c2/kernel", "c2/bias", "bn/beta", "bn/moving_mean", "bn/moving_variance", "c3/kernel"]
    weights = dict(sum((w for _, w in layers), []))
    np.testing.assert_array_equal(model.get_layer("c1").kernel.numpy(), weights["c1/kernel:0"])
    np.testing.assert_array_equal(model.get_layer("c3").bias.numpy(), weights["c3/bias:0"])
    np.testing.assert_array_equal(model.get_layer("out").kernel.numpy(), weights["out/kernel:0"])


# -- Keras 3 `.weights.h5` -----------------------------------------------------------------------
def test_keras3_listing(tmp_path):
    model = keras.Sequential([keras.Input((4,)), L.Dense(5, name="p"), L.Dense(2, name="q"),
                              L.Dense(6, name="r")])
    path = write_keras3(tmp_path / "w.weights.h5", {
        "layers/dense": [rand(4, 3), rand(3)], "layers/dense_1": [rand(3, 2), rand(2)],
        "layers/dense_3": [rand(2, 2), rand(2)]})
    msg = load_error(model, path)
    assert msg.startswith("A total of 3 objects could not be loaded. Example error message for "
                          "object <Dense name=p, built=True>:\n\nThe shape of the target")
    assert msg.split("\n\n")[3:] == ["\n".join([
        f"Objects of the model -> groups of the file {path}:",
        "Not mapped: 1 missing from the file, 1 extra in the file, 2 with a shape mismatch.",
        "  Dense 'p' (2 variables) -> layers/dense/vars (2 variables): shape mismatch",
        "      p/kernel (4, 5) vs layers/dense/vars/0 (4, 3)",
        "      p/bias (5,) vs layers/dense/vars/1 (3,)",
        "  Dense 'q' (2 variables) -> layers/dense_1/vars (2 variables): shape mismatch",
        "      q/kernel (5, 2) vs layers/dense_1/vars/0 (3, 2)",
        "  Dense 'r' (2 variables) -> (nothing at layers/dense_2/vars): missing from the file; "
        "expected: ['kernel', 'bias']",
        "  (nothing) -> layers/dense_3/vars (2 variables): extra in the file: no object of the "
        "model is at this path"])]
    path = write_keras3(tmp_path / "c.weights.h5", {"layers/dense": [rand(4, 5)]})
    msg = load_error(keras.Sequential([keras.Input((4,)), L.Dense(5, name="s")]), path)
    assert msg.endswith(
        "  Dense 's' (2 variables) -> layers/dense/vars (1 variable): variable count mismatch: "
        "2 in the model, 1 in the file\n"
        "      model: s/kernel (4, 5), s/bias (5,)\n"
        "      file:  layers/dense/vars/0 (4, 5)")


# -- by_name -----------------------------------------------------------------------------------
def test_by_name_matching_nothing_is_an_error(tmp_path):
    path = write_legacy(tmp_path / "w.h5", convnet_layers())
    # The weightless input layers share the name `img`: that is not a match.
    assert load_error(convnet(prefix="m_"), path, by_name=True) == (
        "Loading weights by name (`by_name=True`) matched no layer: none of the 5 layers with "
        f"weights in {path} has the name of a layer of the model, so nothing would be loaded.\n"
        "Layers of the model with weights: ['m_c1', 'm_c2', 'm_bn', 'm_c3', 'm_out']\n"
        "Layers of the file with weights: ['c1', 'c2', 'bn', 'c3', 'out']")
    # A model without weights has nothing to load: no error.
    keras.Sequential([keras.Input((4,)), L.Flatten()]).load_weights(path, by_name=True)


def test_by_name_partial_match_warns_and_loads(tmp_path):
    layers = convnet_layers()
    path = write_legacy(tmp_path / "w.h5", layers)
    x = keras.Input((8, 8, 3))
    h = L.Conv2D(16, 3, padding="same", name="c1")(x)
    h = L.Conv2D(64, 3, padding="same", name="new_c2")(h)
    model = keras.Model(x, L.Dense(5, name="out")(L.GlobalAveragePooling2D()(h)))
    before = model.get_layer("new_c2").kernel.numpy().copy()
    with pytest.warns(UserWarning) as record:
        model.load_weights(path, by_name=True)
    assert [str(r.message) for r in record] == [
        f"Loading weights by name from {path}: 1 layer of the model with weights had no layer "
        "of that name in the file and kept their weights: ['new_c2']; 3 layers of the file "
        "with weights matched no layer of the model and were not loaded: ['c2', 'bn', 'c3']."]
    weights = dict(sum((w for _, w in layers), []))
    np.testing.assert_array_equal(model.get_layer("c1").kernel.numpy(), weights["c1/kernel:0"])
    np.testing.assert_array_equal(model.get_layer("out").bias.numpy(), weights["out/bias:0"])
    np.testing.assert_array_equal(model.get_layer("new_c2").kernel.numpy(), before)
    # A full match loads silently (pytest turns any warning into an error here).
    convnet().load_weights(path, by_name=True)


def test_by_name_mismatch_listing(tmp_path):
    path = write_legacy(tmp_path / "w.h5", convnet_layers(c2=16))
    msg = load_error(convnet(), path, by_name=True)
    assert msg.startswith("Shape mismatch in layer #2 (named c2)for weight c2/kernel. Weight "
                          "expects shape (3, 3, 16, 32). Received saved weight with shape "
                          "(3, 3, 16, 16)\n\n")
    assert msg.split("\n\n")[1].splitlines()[:4] == [
        f"Layers matched by name, model -> file {path}:",
        "Not mapped: 3 with a shape mismatch.",
        "  c2 (Conv2D, 2 weights) -> #2 c2 (2 weights): shape mismatch",
        "      c2/kernel (3, 3, 16, 32) vs c2/kernel:0 (3, 3, 16, 16)"]


# -- truncated and corrupted files -------------------------------------------------------------
@pytest.fixture(params=["w.h5", "w.weights.h5"])
def saved(request, tmp_path):
    """(model, path, bytes) of a valid file in each layout, written by kerasish."""
    model = convnet()
    path = tmp_path / request.param
    model.save_weights(path)
    return model, path, path.read_bytes()


def corrupted_error(model, path):
    msg = load_error(model, path)
    assert msg.startswith(f"Could not load weights from {path}: "), msg
    return msg


def test_truncated_and_random_files(saved):
    model, path, data = saved
    for size in (0, 8, 100, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:size])
        assert "it is not a readable HDF5 file; it may be truncated or corrupted" in \
            corrupted_error(model, path)
    path.write_bytes(np.random.default_rng(0).bytes(len(data)))
    assert "it is not a readable HDF5 file" in corrupted_error(model, path)
    with pytest.raises(FileNotFoundError):
        model.load_weights(path.with_name("absent" + path.name))


def test_damaged_bytes_give_a_value_error_or_load(saved):
    """Bytes overwritten in the superblock and the first object headers: a clear ValueError
    (weights untouched) or, where HDF5 does not read those bytes, a normal load."""
    model, path, data = saved
    for offset in range(0, 512, 8):
        path.write_bytes(data[:offset] + b"\xff" * 8 + data[offset + 8:])
        before = snapshot(model)
        try:
            model.load_weights(path)
        except ValueError as e:
            assert str(path) in str(e)
            assert_unchanged(model, before)


def edit(path, fn):
    with h5py.File(path, "a") as f:
        fn(f)


@pytest.mark.parametrize("damage, problem", [
    (lambda f: f["c2/c2"].__delitem__("kernel:0"),
     "the dataset 'c2/kernel:0' listed in the weight_names of layer 'c2' is missing from /c2"),
    (lambda f: f["c2"].attrs.__setitem__("weight_names", [b"c2", b"c2/bias:0"]),
     "weight 'c2' of layer 'c2' at /c2/c2 is a Group, not a dataset"),
    (lambda f: f.attrs.__setitem__("layer_names", np.arange(3)),
     "the attribute 'layer_names' of / should hold strings, but holds int64 values: [0 1 2]"),
    (lambda f: f["bn"].attrs.__setitem__("weight_names", np.ones(3)),
     "the attribute 'weight_names' of /bn should hold strings, but holds float64 values: "
     "[1. 1. 1.]"),
    (lambda f: f.attrs.__setitem__("layer_names", np.array([b"c1\xff"])),
     "the attribute 'layer_names' of / is not valid UTF-8"),
    (lambda f: (f["c1/c1"].__delitem__("bias:0"),
                f["c1/c1"].create_dataset("bias:0", data=np.array([b"abc"] * 16))),
     "weight 'c1/bias:0' of layer 'c1' at /c1/c1/bias:0 holds |S3 values, not numbers"),
])
@pytest.mark.parametrize("by_name", [False, True])
def test_legacy_file_with_bad_structure(tmp_path, damage, problem, by_name):
    model = convnet()
    path = tmp_path / "w.h5"
    model.save_weights(path)
    edit(path, damage)
    msg = load_error(model, path, by_name=by_name)
    assert msg.startswith(f"Could not load weights from {path}: {problem}")


@pytest.mark.parametrize("damage, problem", [
    (lambda f: f.move("layers/conv2d/vars/0", "layers/conv2d/vars/x"),
     "/layers/conv2d/vars holds 2 entries but no dataset '0'. Received: keys=['1', 'x']"),
    (lambda f: (f["layers/conv2d/vars"].__delitem__("0"),
                f["layers/conv2d/vars"].create_group("0")),
     "variable '0' at /layers/conv2d/vars/0 is a Group, not a dataset"),
    (lambda f: (f["layers/dense/vars"].__delitem__("1"),
                f["layers/dense/vars"].create_dataset("1", data=["a"] * 5)),
     "variable '1' at /layers/dense/vars/1 holds object values, not numbers"),
])
def test_keras3_file_with_bad_structure(tmp_path, damage, problem):
    model = convnet()
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    edit(path, damage)
    assert corrupted_error(model, path) == f"Could not load weights from {path}: {problem}"


def test_module_entry_points_give_the_same_errors(tmp_path):
    """The format modules themselves (used by load_model too) raise the clear errors."""
    model = convnet()
    for name, load in (("w.h5", legacy_h5.load_weights),
                       ("w.weights.h5", keras_weights_h5.load_weights_h5)):
        path = tmp_path / name
        path.write_bytes(b"\x89HDF\r\n\x1a\n" + b"\0" * 40)
        with pytest.raises(ValueError, match=r"^Could not load weights from .*: it is not a "
                                             r"readable HDF5 file"):
            load(model, str(path))


# -- a failed assignment is undone --------------------------------------------------------------
@pytest.mark.parametrize("name", ["w.h5", "w.weights.h5"])
def test_assignment_failure_restores_the_weights(tmp_path, monkeypatch, name):
    source, model = convnet(), convnet()
    path = tmp_path / name
    source.save_weights(path)
    before = snapshot(model)
    real, calls = Variable.assign, {"n": 0}

    def flaky(self, value):
        calls["n"] += 1
        if calls["n"] == 4:  # midway: three variables already hold the file's values
            raise MemoryError("out of memory")
        return real(self, value)

    monkeypatch.setattr(Variable, "assign", flaky)
    with pytest.raises(MemoryError):
        model.load_weights(path)
    assert calls["n"] > 4  # the three assignments were undone
    assert_unchanged(model, before)
