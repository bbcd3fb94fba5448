"""Keras 3's `.weights.h5` layout: files written here with h5py in Keras 3's layout
(docs/file-formats.md, "Keras 3 weights HDF5"), loaded and checked value by value; the layout that
saving writes; round trips; Keras's error texts; the optimizer group; the atomic write; and the
file-name dispatch of `save_weights`/`load_weights`."""
import os

import h5py
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers as L

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


def write_keras3(target, groups, names=None, extra=()):
    """A file in Keras 3's layout: ``{object path: [arrays]}`` -> ``<path>/vars/<i>``; a
    ``name`` attr on each ``vars`` group when ``names`` gives one; ``extra`` = more groups."""
    with h5py.File(target, "w") as f:
        for path, arrays in groups.items():
            group = f.require_group(f"{path}/vars" if path else "vars")
            if names and path in names:
                group.attrs["name"] = names[path]
            for i, a in enumerate(arrays):
                group[str(i)] = a
        for path in extra:
            f.require_group(path)


def values(layer):
    """{variable name: array} of the layer's own variables (and its cell's, for an RNN)."""
    variables = layer.weights
    return {v.name: v.numpy() for v in variables}


def assert_landed(layer, expected):
    got = values(layer)
    assert sorted(got) == sorted(expected)
    for name, value in expected.items():
        np.testing.assert_array_equal(got[name], value, err_msg=name)


def mlp(names=("a", "b")):
    return keras.Sequential([keras.Input((4,)), L.Dense(3, name=names[0]),
                             L.Dense(2, name=names[1])])


def conv_bn():
    x = keras.Input((6, 6, 1))
    h = L.Conv2D(2, 3, name="c")(x)
    h = L.BatchNormalization(name="bn")(h)
    h = L.Flatten()(h)
    return keras.Model(x, L.Dense(1, name="head")(h))


def lstm_model():
    x = keras.Input((5,))
    h = L.Embedding(10, 3, mask_zero=True, name="emb")(x)
    return keras.Model(x, L.LSTM(4, name="rnn")(h))


def nested_model():
    inner = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Dense(2)], name="inner")
    plain = keras.Sequential([keras.Input((6,)), L.Dense(2)], name="plain")
    x = keras.Input((5, 4))
    h = L.TimeDistributed(inner)(x)
    h = L.Bidirectional(L.GRU(3))(h)
    return keras.Model(x, plain(h))


# -- loading files written in Keras 3's layout ---------------------------------------------------
def test_load_sequential_mlp(tmp_path):
    k0, b0, k1, b1 = rand(4, 3), rand(3), rand(3, 2), rand(2)
    path = tmp_path / "mlp.weights.h5"
    write_keras3(path, {"": [], "layers/dense": [k0, b0], "layers/dense_1": [k1, b1]},
                 names={"": "sequential", "layers/dense": "dense", "layers/dense_1": "dense_1"})
    model = mlp(names=("first", "second"))  # renamed layers load: paths use no layer names
    model.load_weights(path)
    assert_landed(model.layers[0], {"kernel": k0, "bias": b0})
    assert_landed(model.layers[1], {"kernel": k1, "bias": b1})


def test_load_functional_with_batch_normalization(tmp_path):
    a = [rand(3, 3, 1, 2), rand(2), rand(2), rand(2), rand(2), rand(2), rand(32, 1), rand(1)]
    path = tmp_path / "bn.weights.h5"
    write_keras3(path, {"": [], "layers/input_layer": [], "layers/conv2d": a[:2],
                        "layers/batch_normalization": a[2:6], "layers/flatten": [],
                        "layers/dense": a[6:]})
    model = conv_bn()
    model.load_weights(path)
    assert_landed(model.get_layer("c"), {"kernel": a[0], "bias": a[1]})
    assert_landed(model.get_layer("bn"), {"gamma": a[2], "beta": a[3], "moving_mean": a[4],
                                          "moving_variance": a[5]})
    assert_landed(model.get_layer("head"), {"kernel": a[6], "bias": a[7]})


def test_load_lstm_model_without_name_attrs(tmp_path):
    # tf-keras writes no `name` attrs; Keras 3 ignores them when loading.
    emb, k, rk, b = rand(10, 3), rand(3, 16), rand(4, 16), rand(16)
    path = tmp_path / "lstm.weights.h5"
    write_keras3(path, {"layers/embedding": [emb], "layers/lstm": [],
                        "layers/lstm/cell": [k, rk, b]})
    model = lstm_model()
    model.load_weights(path)
    assert_landed(model.get_layer("emb"), {"embeddings": emb})
    assert_landed(model.get_layer("rnn"), {"kernel": k, "recurrent_kernel": rk, "bias": b})


def nested_groups():
    return {"": [], "layers/input_layer": [], "layers/time_distributed": [],
            "layers/time_distributed/layer": [],
            "layers/time_distributed/layer/layers/dense": [rand(4, 3), rand(3)],
            "layers/time_distributed/layer/layers/dense_1": [rand(3, 2), rand(2)],
            "layers/bidirectional": [], "layers/bidirectional/forward_layer": [],
            "layers/bidirectional/forward_layer/cell": [rand(2, 9), rand(3, 9), rand(2, 9)],
            "layers/bidirectional/backward_layer": [],
            "layers/bidirectional/backward_layer/cell": [rand(2, 9), rand(3, 9), rand(2, 9)],
            "layers/sequential": [], "layers/sequential/layers/dense": [rand(6, 2), rand(2)]}


def test_load_nested_models_and_wrappers(tmp_path):
    groups = nested_groups()
    path = tmp_path / "nested.weights.h5"
    # tf-keras extras (metrics, Bidirectional's empty `layer`) are ignored.
    write_keras3(path, groups, extra=["metrics/mean/vars", "layers/bidirectional/layer/vars"])
    model = nested_model()
    model.load_weights(path)
    td, bidi, plain = model.layers[1], model.layers[2], model.layers[3]
    for i, dense in enumerate(td.layer.layers):
        k, b = groups[f"layers/time_distributed/layer/layers/{['dense', 'dense_1'][i]}"]
        assert_landed(dense, {"kernel": k, "bias": b})
    for side, rnn in (("forward", bidi.forward_layer), ("backward", bidi.backward_layer)):
        k, rk, b = groups[f"layers/bidirectional/{side}_layer/cell"]
        assert_landed(rnn, {"kernel": k, "recurrent_kernel": rk, "bias": b})
    k, b = groups["layers/sequential/layers/dense"]
    assert_landed(plain.layers[0], {"kernel": k, "bias": b})


def test_load_tf_keras_213_checkpoint_dependencies(tmp_path):
    k0, b0, k1, b1 = rand(4, 3), rand(3), rand(3, 2), rand(2)
    path = tmp_path / "old.weights.h5"
    write_keras3(path, {"_layer_checkpoint_dependencies/dense": [k0, b0],
                        "_layer_checkpoint_dependencies/dense_1": [k1, b1]})
    model = mlp()
    model.load_weights(path)
    assert_landed(model.layers[1], {"kernel": k1, "bias": b1})


def test_load_bfloat16_dataset(tmp_path):
    k = np.array([[1.5, -2.0, 0.15625]], "float32")
    path = tmp_path / "bf.weights.h5"
    with h5py.File(path, "w") as f:
        bits = (k.view(np.uint32) >> 16).astype("<u2")  # exact: these values fit bfloat16
        ds = f.create_dataset("layers/dense/vars/0", data=bits.view("V2"))
        ds.attrs["dtype"] = "bfloat16"
        f["layers/dense/vars/1"] = np.zeros(3, "float32")
    model = keras.Sequential([keras.Input((1,)), L.Dense(3)])
    model.load_weights(path)
    np.testing.assert_array_equal(model.layers[0].kernel.numpy(), k)


def test_structure_rules(tmp_path):
    a = mlp()
    a.layers[0].kernel.assign(rand(4, 3))
    path = tmp_path / "a.weights.h5"
    a.save_weights(path)
    # A Sequential file loads into an equivalent Functional model with an extra Dropout.
    x = keras.Input((4,))
    f = keras.Model(x, L.Dense(2)(L.Dropout(0.5)(L.Dense(3)(x))))
    f.load_weights(path)
    np.testing.assert_array_equal(f.layers[1].kernel.numpy(), a.layers[0].kernel.numpy())
    # A model without weights loads any file silently.
    keras.Sequential([keras.Input((4,)), L.Flatten()]).load_weights(path)
    # An extra Dense at the front shifts dense -> dense_1: Keras's error, nothing assigned.
    shifted = keras.Sequential([keras.Input((4,)), L.Dense(4), L.Dense(3), L.Dense(2)])
    before = [w.numpy() for w in shifted.weights]
    with pytest.raises(ValueError, match=r"^A total of 3 objects could not be loaded"):
        shifted.load_weights(path)
    for w, b in zip(shifted.weights, before):
        np.testing.assert_array_equal(w.numpy(), b)


# -- what saving writes --------------------------------------------------------------------------
def listing(path):
    """Every group and dataset: (path, `name` attr or shape/dtype)."""
    out = []
    with h5py.File(path, "r") as f:
        assert dict(f.attrs) == {}
        assert f.id.get_create_plist().get_version()[0] == 0  # superblock 0
        assert f.id.get_create_plist().get_link_creation_order() == 0

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                assert obj.chunks is None and obj.compression is None
                out.append((name, obj.shape, obj.dtype.str))
            elif name.endswith("vars"):
                out.append((name, obj.attrs.get("name")))
        f.visititems(visit)
    return out


def test_save_layout_nested(tmp_path):
    model = nested_model()
    path = tmp_path / "n.weights.h5"
    model.save_weights(path)
    td, bidi, plain = model.layers[1], model.layers[2], model.layers[3]
    dense0, dense1 = td.layer.layers
    lt = "layers/time_distributed"
    lb = "layers/bidirectional"
    f4 = "<f4"
    assert listing(path) == [
        (f"{lb}/backward_layer/cell/vars", "gru_cell"),
        (f"{lb}/backward_layer/cell/vars/0", (2, 9), f4),
        (f"{lb}/backward_layer/cell/vars/1", (3, 9), f4),
        (f"{lb}/backward_layer/cell/vars/2", (2, 9), f4),
        (f"{lb}/backward_layer/vars", bidi.backward_layer.name),
        (f"{lb}/forward_layer/cell/vars", "gru_cell"),
        (f"{lb}/forward_layer/cell/vars/0", (2, 9), f4),
        (f"{lb}/forward_layer/cell/vars/1", (3, 9), f4),
        (f"{lb}/forward_layer/cell/vars/2", (2, 9), f4),
        (f"{lb}/forward_layer/vars", bidi.forward_layer.name),
        (f"{lb}/vars", bidi.name),
        ("layers/input_layer/vars", model.layers[0].name),
        ("layers/sequential/layers/dense/vars", plain.layers[0].name),
        ("layers/sequential/layers/dense/vars/0", (6, 2), f4),
        ("layers/sequential/layers/dense/vars/1", (2,), f4),
        ("layers/sequential/vars", "plain"),
        (f"{lt}/layer/layers/dense/vars", dense0.name),
        (f"{lt}/layer/layers/dense/vars/0", (4, 3), f4),
        (f"{lt}/layer/layers/dense/vars/1", (3,), f4),
        (f"{lt}/layer/layers/dense_1/vars", dense1.name),
        (f"{lt}/layer/layers/dense_1/vars/0", (3, 2), f4),
        (f"{lt}/layer/layers/dense_1/vars/1", (2,), f4),
        (f"{lt}/layer/vars", "inner"),
        (f"{lt}/vars", td.name),
        ("vars", model.name)]


def test_save_layout_subclassed_model(tmp_path):
    class Net(keras.Model):
        def __init__(self):
            super().__init__(name="net")
            self.zz = L.Dense(2)
            self.blocks = [L.Dense(3), L.Dense(3)]

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return self.zz(x)

    model = Net()
    model(np.ones((1, 4), "float32"))
    path = tmp_path / "net.weights.h5"
    model.save_weights(path)
    # Attributes in sorted order; an object is written at the first path that reaches it.
    with h5py.File(path, "r") as f:
        keys = ("blocks/dense/vars", "blocks/dense_1/vars", "layers/dense/vars")
        names = {k: f[k].attrs["name"] for k in keys}
        assert sorted(f) == ["blocks", "layers", "vars"] and sorted(f["layers"]) == ["dense"]
    assert names == {"blocks/dense/vars": model.blocks[0].name,
                     "blocks/dense_1/vars": model.blocks[1].name,
                     "layers/dense/vars": model.zz.name}


def test_round_trip_is_bitwise(tmp_path):
    for make in (conv_bn, lstm_model, nested_model):
        model, fresh = make(), make()
        for w in model.weights:
            w.assign(rand(*w.shape))
        path = tmp_path / f"{make.__name__}.weights.h5"
        model.save_weights(path)
        fresh.load_weights(path)
        for a, b in zip(model.weights, fresh.weights):
            assert a.numpy().tobytes() == b.numpy().tobytes()


# -- errors -------------------------------------------------------------------------------------
def test_shape_mismatch_text_nothing_assigned_and_skip_mismatch(tmp_path):
    path = tmp_path / "w.weights.h5"
    mlp().save_weights(path)
    other = keras.Sequential([keras.Input((4,)), L.Dense(5, name="p"), L.Dense(2, name="q")])
    before = [w.numpy() for w in other.weights]
    with pytest.raises(ValueError) as e:
        other.load_weights(path)
    k = other.layers[0].kernel
    # Keras's text first; kerasish's listing of what did not map follows it.
    assert str(e.value).startswith(
        "A total of 2 objects could not be loaded. Example error message for object "
        "<Dense name=p, built=True>:\n\nThe shape of the target variable and the shape of the "
        "target value in `variable.assign(value)` must match. variable.shape=(4, 5), Received: "
        f"value.shape=(4, 3). Target variable: {k!r}\n\nList of objects that could not be "
        "loaded:\n[<Dense name=p, built=True>, <Dense name=q, built=True>]\n\n")
    for w, b in zip(other.weights, before):
        np.testing.assert_array_equal(w.numpy(), b)
    # skip_mismatch: the same text as a warning; the objects that match are loaded.
    saved = mlp(names=("s0", "s1"))
    saved.save_weights(path)
    partial = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Dense(7, name="r")])
    with pytest.warns(UserWarning, match=r"^A total of 1 objects could not be loaded\. "
                                         r"Example error message for object <Dense name=r"):
        partial.load_weights(path, skip_mismatch=True)
    np.testing.assert_array_equal(partial.layers[0].kernel.numpy(),
                                  saved.layers[0].kernel.numpy())


def test_missing_group_text(tmp_path):
    path = tmp_path / "w.weights.h5"
    mlp().save_weights(path)
    bigger = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Dense(2),
                               L.Dense(6, name="dense_5")])
    with pytest.raises(ValueError) as e:
        bigger.load_weights(path)
    assert str(e.value).startswith(
        "A total of 1 objects could not be loaded. Example error message for object "
        "<Dense name=dense_5, built=True>:\n\nLayer 'dense_5' expected 2 variables, but "
        "received 0 variables during loading. Expected: ['kernel', 'bias']\n\n"
        "List of objects that could not be loaded:\n[<Dense name=dense_5, built=True>]\n\n")


def test_unbuilt_model(tmp_path):
    path = tmp_path / "w.weights.h5"
    mlp().save_weights(path)
    unbuilt = keras.Sequential([L.Dense(3)])
    with pytest.raises(ValueError) as e:
        unbuilt.load_weights(path)
    assert str(e.value) == (
        "You are loading weights into a model that has not yet been built. Try building the "
        "model first by calling it on some data or by using `build()`.")
    with pytest.raises(ValueError) as e:
        unbuilt.save_weights(tmp_path / "u.weights.h5")
    assert str(e.value) == (
        "You are saving a model that has not yet been built. Try building the model first by "
        "calling it on some data or by using `build()`.")
    assert sorted(os.listdir(tmp_path)) == ["w.weights.h5"]
