"""Keras's legacy HDF5 weights layout: files written here with h5py in the Keras layouts
(docs/file-formats.md, "Weights file"), loading by position and by name, Keras's error texts, the
round trip, and the atomic write."""
import h5py
import numpy as np
import pytest

import engine
import kerasish as keras
from kerasish.layers import Dense, Layer
from kerasish.saving import legacy_h5

RNG = np.random.default_rng(0)


def rand(*shape):
    return RNG.standard_normal(shape).astype("float32")


class Scaler(Layer):
    """A trainable scale and a non-trainable shift (like BatchNormalization's two kinds)."""

    def build(self, input_shape):
        self.shift = self.add_weight(shape=(input_shape[-1],), initializer="zeros",
                                     trainable=False, name="shift")
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, inputs):
        return engine.ops.add(engine.ops.multiply(inputs, self.scale), self.shift)

    def compute_output_shape(self, input_shape):
        return input_shape


class Outer(Layer):
    """A layer that owns a sub-layer, as an RNN owns its cell: ``outer/inner_cell/kernel:0``."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.cell = Dense(units, name="inner_cell")

    def build(self, input_shape):
        self.gain = self.add_weight(shape=(self.units,), initializer="ones", name="gain")
        self.cell.build(input_shape)
        self.cell.built = True

    def call(self, inputs):
        return engine.ops.multiply(self.cell(inputs), self.gain)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)


def functional_model(prefix="m"):
    """Input x(4) -> Dense d1(3) -> Scaler sc -> Dense d2(2)."""
    x = keras.Input((4,), name=f"{prefix}_x")
    h = Dense(3, name=f"{prefix}_d1")(x)
    h = Scaler(name=f"{prefix}_sc")(h)
    y = Dense(2, name=f"{prefix}_d2")(h)
    return keras.Model(x, y, name=f"{prefix}_model")


def vlen(names):
    """h5py 3.x style: a list of bytes becomes an array of variable-length strings."""
    return [n.encode("utf8") for n in names]


def fixed(names):
    """Old h5py style: fixed-length byte strings (``S7``)."""
    return np.array([n.encode("utf8") for n in names])


EMPTY = np.zeros((0,), dtype="float64")


def write_layer(f, group_name, weights, style):
    """One layer group: ``weight_names`` and a dataset per weight (nested by '/')."""
    g = f.create_group(group_name)
    if not weights:
        g.attrs["weight_names"] = EMPTY
        return
    g.attrs["weight_names"] = style([name for name, _ in weights])
    for name, value in weights:
        g.create_dataset(name, data=value)


def tf_keras_file(path, layers, style=vlen, top_level=True, root=None):
    """A weights file as tf-keras 2.21 writes it. ``layers``: [(group name, [(weight name,
    array)])] in ``layer_names`` order."""
    with h5py.File(path, "w") as f:
        g = f if root is None else f.create_group(root)
        g.attrs["layer_names"] = style([name for name, _ in layers])
        g.attrs["backend"] = b"tensorflow" if style is vlen else np.bytes_(b"tensorflow")
        g.attrs["keras_version"] = b"2.21.0" if style is vlen else np.bytes_(b"2.21.0")
        # Created in reverse order: HDF5 lists groups alphabetically anyway.
        for name, weights in reversed(layers):
            write_layer(g, name, weights, style)
        if top_level:
            g.create_group("top_level_model_weights").attrs["weight_names"] = EMPTY


def expected_values():
    return {
        "k1": rand(4, 3), "b1": rand(3), "scale": rand(3), "shift": rand(3),
        "k2": rand(3, 2), "b2": rand(2),
    }


def keras_layout(v, names=("x", "dense", "scaler", "dense_1")):
    x, d1, sc, d2 = names
    return [
        (x, []),
        (d1, [(f"{d1}/kernel:0", v["k1"]), (f"{d1}/bias:0", v["b1"])]),
        # Legacy order: trainable first, then non-trainable.
        (sc, [(f"{sc}/scale:0", v["scale"]), (f"{sc}/shift:0", v["shift"])]),
        (d2, [(f"{d2}/kernel:0", v["k2"]), (f"{d2}/bias:0", v["b2"])]),
    ]


def check_landed(model, v, prefix="m"):
    d1, sc, d2 = (model.get_layer(f"{prefix}_{n}") for n in ("d1", "sc", "d2"))
    np.testing.assert_array_equal(d1.kernel.numpy(), v["k1"])
    np.testing.assert_array_equal(d1.bias.numpy(), v["b1"])
    np.testing.assert_array_equal(sc.scale.numpy(), v["scale"])
    np.testing.assert_array_equal(sc.shift.numpy(), v["shift"])
    np.testing.assert_array_equal(d2.kernel.numpy(), v["k2"])
    np.testing.assert_array_equal(d2.bias.numpy(), v["b2"])
    # The model computes with them: a plain-NumPy forward pass.
    x = rand(5, 4)
    ref = ((x @ v["k1"] + v["b1"]) * v["scale"] + v["shift"]) @ v["k2"] + v["b2"]
    np.testing.assert_allclose(model(x).numpy(), ref, rtol=1e-5, atol=1e-5)


# -- reading Keras's files ----------------------------------------------------------------------
@pytest.mark.parametrize("style", [vlen, fixed], ids=["vlen", "fixed"])
def test_load_tf_keras_file(tmp_path, style):
    v = expected_values()
    path = tmp_path / "w.h5"
    # Nested weight names: the datasets sit at dense/dense/kernel:0.
    tf_keras_file(path, keras_layout(v), style=style)
    with h5py.File(path, "r") as f:
        assert isinstance(f["dense/dense/kernel:0"], h5py.Dataset)
        assert f["x"].attrs["weight_names"].dtype == np.float64
        if style is fixed:
            assert f.attrs["layer_names"].dtype.kind == "S"
    model = functional_model()
    model.load_weights(path)
    check_landed(model, v)


def test_load_goes_by_layer_names_order_not_by_root_keys(tmp_path):
    """Group names sort differently from layer_names; loading follows layer_names."""
    v = expected_values()
    path = tmp_path / "w.h5"
    tf_keras_file(path, keras_layout(v, names=("input_1", "zz_dense", "mm_scale", "aa_dense")))
    model = functional_model()
    model.load_weights(path)
    check_landed(model, v)


def test_load_split_attributes(tmp_path):
    """layer_names split into layer_names0/1 (fixed-length chunks) and weight_names0/1."""
    v = expected_values()
    path = tmp_path / "w.h5"
    layout = keras_layout(v)
    with h5py.File(path, "w") as f:
        names = fixed([n for n, _ in layout])
        f.attrs["layer_names0"] = names[:2]
        f.attrs["layer_names1"] = names[2:]
        f.attrs["backend"] = "tensorflow"
        for name, weights in layout:
            write_layer(f, name, weights, vlen)
        del f["dense_1"].attrs["weight_names"]
        f["dense_1"].attrs["weight_names0"] = fixed(["dense_1/kernel:0"])
        f["dense_1"].attrs["weight_names1"] = fixed(["dense_1/bias:0"])
    model = functional_model()
    model.load_weights(path)
    check_landed(model, v)
    with h5py.File(path, "r") as f:
        assert legacy_h5.load_attributes_from_hdf5_group(f, "layer_names") == \
            ["x", "dense", "scaler", "dense_1"]


def test_load_keras3_full_model_file_sequential(tmp_path):
    """Keras 3 `model.save('m.h5')`: weights under model_weights, names without ':0' that start
    with the Sequential's name; no input layer listed for a Sequential."""
    v = expected_values()
    path = tmp_path / "m.h5"
    with h5py.File(path, "w") as f:
        f.attrs["backend"] = "tensorflow"
        f.attrs["keras_version"] = "3.15.1"
        f.attrs["model_config"] = '{"class_name": "Sequential"}'
        g = f.create_group("model_weights")
        g.attrs["layer_names"] = vlen(["dense", "scaler", "dense_1"])
        g.attrs["backend"] = "tensorflow"
        g.attrs["keras_version"] = "3.15.1"
        write_layer(g, "dense", [("seq/dense/kernel", v["k1"]), ("seq/dense/bias", v["b1"])], vlen)
        write_layer(g, "scaler", [("seq/scaler/scale", v["scale"]),
                                  ("seq/scaler/shift", v["shift"])], vlen)
        write_layer(g, "dense_1", [("seq/dense_1/kernel", v["k2"]),
                                   ("seq/dense_1/bias", v["b2"])], vlen)
        g.create_group("top_level_model_weights").attrs["weight_names"] = EMPTY
    model = keras.Sequential([keras.Input((4,)), Dense(3, name="s_d1"), Scaler(name="s_sc"),
                              Dense(2, name="s_d2")])
    model.load_weights(str(path))
    check_landed(model, v, prefix="s")


def test_load_file_without_top_level_group_and_hdf5_suffix(tmp_path):
    v = expected_values()
    path = tmp_path / "w.hdf5"
    tf_keras_file(path, keras_layout(v), top_level=False)
    model = functional_model()
    model.load_weights(path)
    check_landed(model, v)


def test_load_nested_sublayer_weights(tmp_path):
    """Weights of a sub-layer (an RNN's cell) are named `<layer>/<sub-layer>/<weight>:0`."""
    kernel, bias, gain = rand(4, 3), rand(3), rand(3)
    path = tmp_path / "w.h5"
    tf_keras_file(path, [("input_1", []), ("outer", [
        ("outer/gain:0", gain), ("outer/inner_cell/kernel:0", kernel),
        ("outer/inner_cell/bias:0", bias)])])
    x = keras.Input((4,))
    model = keras.Model(x, Outer(3, name="outer_n1")(x))
    model.load_weights(path)
    layer = model.get_layer("outer_n1")
    np.testing.assert_array_equal(layer.gain.numpy(), gain)
    np.testing.assert_array_equal(layer.cell.kernel.numpy(), kernel)
    np.testing.assert_array_equal(layer.cell.bias.numpy(), bias)
    xv = rand(2, 4)
    np.testing.assert_allclose(model(xv).numpy(), (xv @ kernel + bias) * gain, rtol=1e-5,
                               atol=1e-6)


def test_load_top_level_model_weights_of_subclassed_model(tmp_path):
    class WithOwn(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d = Dense(2, name="own_d")

        def build(self, input_shape):
            self.offset = self.add_weight(shape=(2,), initializer="zeros", name="offset")

        def call(self, inputs):
            return engine.ops.add(self.d(inputs), self.offset)

    model = WithOwn(name="with_own")
    model(np.zeros((1, 3), "float32"))
    k, b, off = rand(3, 2), rand(2), rand(2)
    path = tmp_path / "w.h5"
    tf_keras_file(path, [("own_d", [("own_d/kernel:0", k), ("own_d/bias:0", b)])],
                  top_level=False)
    with h5py.File(path, "a") as f:
        g = f.create_group("top_level_model_weights")
        g.attrs["weight_names"] = vlen(["with_own/offset:0"])
        g.create_dataset("with_own/offset:0", data=off)
    model.load_weights(path)
    np.testing.assert_array_equal(model.offset.numpy(), off)
    np.testing.assert_array_equal(model.d.kernel.numpy(), k)
    # Round trip of the same model.
    out = tmp_path / "again.h5"
    model.save_weights(out)
    with h5py.File(out, "r") as f:
        assert legacy_h5.load_attributes_from_hdf5_group(f["top_level_model_weights"],
                                                         "weight_names") == ["with_own/offset:0"]
        assert list(f.attrs["layer_names"]) == ["own_d"]
    fresh = WithOwn(name="with_own_2")
    fresh(np.zeros((1, 3), "float32"))
    fresh.load_weights(out)
    np.testing.assert_array_equal(fresh.offset.numpy(), off)
    np.testing.assert_array_equal(fresh.d.bias.numpy(), b)


# -- writing ------------------------------------------------------------------------------------
def set_all(model, v, prefix="m"):
    model.get_layer(f"{prefix}_d1").set_weights([v["k1"], v["b1"]])
    model.get_layer(f"{prefix}_sc").set_weights([v["scale"], v["shift"]])
    model.get_layer(f"{prefix}_d2").set_weights([v["k2"], v["b2"]])


def test_save_writes_tf_keras_layout_functional(tmp_path):
    v = expected_values()
    model = functional_model("w")
    set_all(model, v, "w")
    path = tmp_path / "w.h5"
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        # Superblock version 0, as tf-keras files.
        assert f.id.get_create_plist().get_version()[0] == 0
        assert f.attrs["layer_names"].dtype == object  # variable-length strings
        assert list(f.attrs["layer_names"]) == ["w_x", "w_d1", "w_sc", "w_d2"]
        assert f.attrs["backend"] == "tensorflow"
        assert f.attrs["keras_version"] == "2.21.0"
        empty = f["w_x"].attrs["weight_names"]
        assert empty.dtype == np.float64 and empty.shape == (0,)
        assert list(f["w_d1"].attrs["weight_names"]) == ["w_d1/kernel:0", "w_d1/bias:0"]
        assert list(f["w_sc"].attrs["weight_names"]) == ["w_sc/scale:0", "w_sc/shift:0"]
        kernel = f["w_d1/w_d1/kernel:0"]
        assert kernel.dtype == np.dtype("<f4") and kernel.chunks is None
        assert kernel.compression is None
        np.testing.assert_array_equal(kernel[()], v["k1"])
        np.testing.assert_array_equal(f["w_sc/w_sc/shift:0"][()], v["shift"])
        top = f["top_level_model_weights"].attrs["weight_names"]
        assert top.dtype == np.float64 and top.shape == (0,)
        assert sorted(f.keys()) == sorted(["w_x", "w_d1", "w_sc", "w_d2",
                                           "top_level_model_weights"])


def test_save_sequential_lists_no_input_layer(tmp_path):
    model = keras.Sequential([keras.Input((4,)), Dense(3, name="q_d1"), Dense(2, name="q_d2")])
    path = tmp_path / "w.h5"
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        assert list(f.attrs["layer_names"]) == ["q_d1", "q_d2"]
        assert "q_d1/q_d1/kernel:0" in f


def test_round_trip_into_fresh_model(tmp_path):
    v = expected_values()
    model = functional_model("r")
    set_all(model, v, "r")
    path = tmp_path / "w.h5"
    model.save_weights(path)
    fresh = functional_model("f")  # other layer names: loading goes by position
    fresh.load_weights(path)
    check_landed(fresh, v, prefix="f")
    for a, b in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_round_trip_sequential_with_nested_layers_and_models(tmp_path):
    inner_in = keras.Input((3,), name="in_x")
    inner = keras.Model(inner_in, Dense(2, name="in_d")(inner_in), name="inner")
    model = keras.Sequential([keras.Input((4,)), Outer(3, name="rt_outer"), inner,
                              Scaler(name="rt_sc")])
    for w in model.weights:
        w.assign(rand(*w.shape))
    path = tmp_path / "w.h5"
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        assert list(f.attrs["layer_names"]) == ["rt_outer", "inner", "rt_sc"]
        assert list(f["rt_outer"].attrs["weight_names"]) == [
            "rt_outer/gain:0", "rt_outer/inner_cell/kernel:0", "rt_outer/inner_cell/bias:0"]
        # A nested functional model: its layers keep their own names (tf-keras).
        assert list(f["inner"].attrs["weight_names"]) == ["in_d/kernel:0", "in_d/bias:0"]
        assert "inner/in_d/kernel:0" in f
    inner2_in = keras.Input((3,))
    inner2 = keras.Model(inner2_in, Dense(2)(inner2_in))
    fresh = keras.Sequential([keras.Input((4,)), Outer(3), inner2, Scaler()])
    fresh.load_weights(path)
    for a, b in zip(model.weights, fresh.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    x = rand(2, 4)
    np.testing.assert_allclose(model(x).numpy(), fresh(x).numpy(), rtol=1e-6)


def test_frozen_layer_keeps_legacy_order(tmp_path):
    v = expected_values()
    model = functional_model("fz")
    set_all(model, v, "fz")
    model.get_layer("fz_sc").trainable = False
    path = tmp_path / "w.h5"
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        assert list(f["fz_sc"].attrs["weight_names"]) == ["fz_sc/scale:0", "fz_sc/shift:0"]
    fresh = functional_model("fz2")
    fresh.load_weights(path)
    check_landed(fresh, v, prefix="fz2")


def test_save_splits_large_layer_names(tmp_path):
    """Over 64512 bytes of names: Keras's fixed-length chunks layer_names0, layer_names1."""
    x = keras.Input((2,), name="i" * 600)
    h = x
    for i in range(110):
        h = Scaler(name=f"s{i:05d}".ljust(600, "z"))(h)
    model = keras.Model(x, h)
    path = tmp_path / "big.h5"
    model.save_weights(path)
    with h5py.File(path, "r") as f:
        assert "layer_names" not in f.attrs
        assert f.attrs["layer_names0"].dtype.kind == "S"
        assert len(f.attrs["layer_names0"]) + len(f.attrs["layer_names1"]) == 111
    model.layers[5].scale.assign(np.array([3.0, 4.0], "float32"))
    model.save_weights(path)
    fresh_x = keras.Input((2,))
    h = fresh_x
    for _ in range(110):
        h = Scaler()(h)
    fresh = keras.Model(fresh_x, h)
    fresh.load_weights(path)
    np.testing.assert_array_equal(fresh.layers[5].scale.numpy(), [3.0, 4.0])
