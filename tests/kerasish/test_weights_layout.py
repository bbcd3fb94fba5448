"""Files WRITTEN by kerasish, re-read by an independent h5py walker and checked field by field
against Keras's layouts (docs/file-formats.md): the legacy `.h5` weights file (tf-keras 2.21
dialect) and Keras 3's `.weights.h5`. The expectations below are written by hand from
docs/file-formats.md, not derived from kerasish's writers."""
import h5py
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers as L

F4 = "<f4"


def build_model():
    """Every kind of weight layout in one chain: Embedding, LSTM, TimeDistributed(Dense),
    Bidirectional(GRU), Conv2D, BatchNormalization(scale=False) and a nested Sequential."""
    head = keras.Sequential([keras.Input((4,)), L.Dense(3, name="h1"), L.Dense(2, name="h2")],
                            name="head")
    tok = keras.Input((5,), name="tok")
    h = L.Embedding(20, 6, name="emb")(tok)
    h = L.LSTM(8, return_sequences=True, name="lstm")(h)
    h = L.TimeDistributed(L.Dense(6, name="td_dense"), name="td")(h)
    h = L.Bidirectional(L.GRU(4, return_sequences=True, name="gru"), name="bidi")(h)
    h = L.Reshape((5, 8, 1), name="reshape")(h)
    h = L.Conv2D(4, 3, name="conv")(h)
    h = L.BatchNormalization(scale=False, name="bn")(h)
    h = L.GlobalAveragePooling2D(name="gap")(h)
    model = keras.Model(tok, head(h), name="layout_model")
    rng = np.random.default_rng(7)
    for w in model.weights:  # distinct values, so a weight in the wrong place is caught
        w.assign(rng.standard_normal(w.shape).astype("float32"))
    return model


@pytest.fixture(scope="module")
def model():
    return build_model()


def walk(path):
    """The independent reader: every object of an HDF5 file as plain Python data.

    Returns (root attrs, {path: entry}); a group entry is ("group", attrs), a dataset entry
    ("dataset", shape, dtype str, contiguous and uncompressed?, value). Attr values keep what
    the file holds: (kind, value) with kind "vlen-ascii", "vlen-utf8", "fixed" or "array".
    """
    def attr(obj, name):
        aid = obj.attrs.get_id(name)
        info = h5py.check_string_dtype(aid.dtype)
        value = obj.attrs[name]
        if info is None:
            return ("array", np.asarray(value).dtype.str, np.asarray(value).tolist())
        kind = ("fixed" if info.length is not None
                else "vlen-utf8" if info.encoding == "utf-8" else "vlen-ascii")
        value = value.tolist() if isinstance(value, np.ndarray) else value
        return (kind, aid.shape, value)

    entries = {}
    with h5py.File(path, "r") as f:
        plist = f.id.get_create_plist()
        assert plist.get_version()[0] == 0  # superblock version 0, as Keras's files
        assert plist.get_link_creation_order() == 0
        root = {name: attr(f, name) for name in f.attrs}

        def visit(name, obj):
            attrs = {a: attr(obj, a) for a in obj.attrs}
            if isinstance(obj, h5py.Group):
                entries[name] = ("group", attrs)
            else:
                plain = (obj.id.get_create_plist().get_layout() == h5py.h5d.CONTIGUOUS
                         and obj.chunks is None and obj.compression is None)
                entries[name] = ("dataset", obj.shape, obj.dtype.str, plain, obj[()])
                assert attrs == {}
        f.visititems(visit)
    return root, entries


def datasets(entries):
    return {k: v for k, v in entries.items() if v[0] == "dataset"}


def check_dataset(entry, variable):
    kind, shape, dtype, plain, value = entry
    assert (kind, shape, dtype, plain) == ("dataset", tuple(variable.shape), F4, True)
    np.testing.assert_array_equal(value, variable.numpy())


# -- legacy `.h5` (tf-keras 2.21 dialect) ------------------------------------------------------
EMPTY = ("array", "<f8", [])  # a weightless layer's weight_names: an empty float64 array


def legacy_expected(model):
    """{group: [(weight name, variable)]} as docs/file-formats.md's legacy weights file has it."""
    get = model.get_layer
    lstm, td, bidi = get("lstm"), get("td"), get("bidi")
    fwd, bwd = bidi.forward_layer, bidi.backward_layer
    head = get("head")
    return {
        "tok": [], "reshape": [], "gap": [],
        "emb": [("emb/embeddings:0", get("emb").embeddings)],
        "lstm": [("lstm/lstm_cell/kernel:0", lstm.cell.kernel),
                 ("lstm/lstm_cell/recurrent_kernel:0", lstm.cell.recurrent_kernel),
                 ("lstm/lstm_cell/bias:0", lstm.cell.bias)],
        # TimeDistributed drops the wrapped layer's name.
        "td": [("td/kernel:0", td.layer.kernel), ("td/bias:0", td.layer.bias)],
        "bidi": [(f"bidi/{side}_gru/gru_cell/{w}:0", getattr(rnn.cell, w))
                 for side, rnn in (("forward", fwd), ("backward", bwd))
                 for w in ("kernel", "recurrent_kernel", "bias")],
        "conv": [("conv/kernel:0", get("conv").kernel), ("conv/bias:0", get("conv").bias)],
        # scale=False: no gamma; trainable beta, then the moving statistics.
        "bn": [("bn/beta:0", get("bn").beta), ("bn/moving_mean:0", get("bn").moving_mean),
               ("bn/moving_variance:0", get("bn").moving_variance)],
        # A nested model: its layers keep their own names, without the group's prefix.
        "head": [("h1/kernel:0", head.layers[0].kernel), ("h1/bias:0", head.layers[0].bias),
                 ("h2/kernel:0", head.layers[1].kernel), ("h2/bias:0", head.layers[1].bias)],
    }


def test_legacy_h5_layout(tmp_path, model):
    path = tmp_path / "w.h5"
    model.save_weights(path)
    root, entries = walk(path)
    order = ["tok", "emb", "lstm", "td", "bidi", "reshape", "conv", "bn", "gap", "head"]
    assert root == {"layer_names": ("vlen-ascii", (10,), order),
                    "backend": ("vlen-ascii", (), "tensorflow"),
                    "keras_version": ("vlen-ascii", (), "2.21.0")}
    expected = legacy_expected(model)
    top_groups = sorted(k for k in entries if "/" not in k)
    assert top_groups == sorted(order + ["top_level_model_weights"])
    assert entries["top_level_model_weights"] == ("group", {"weight_names": EMPTY})
    for group, weights in expected.items():
        kind, attrs = entries[group]
        names = [name for name, _ in weights]
        assert attrs == {"weight_names": ("vlen-ascii", (len(names),), names) if names
                         else EMPTY}, group
        for name, variable in weights:
            check_dataset(entries[f"{group}/{name}"], variable)
    # No other dataset anywhere; the nested groups are only the '/' of the weight names.
    assert sorted(datasets(entries)) == sorted(f"{g}/{n}" for g, ws in expected.items()
                                               for n, _ in ws)
    assert entries["bidi/bidi/forward_gru/gru_cell"] == ("group", {})
    assert entries["bidi/bidi/forward_gru/gru_cell/bias:0"][1] == (2, 12)  # reset_after


def test_legacy_file_reloads_into_fresh_model(tmp_path, model):
    path = tmp_path / "w.h5"
    model.save_weights(path)
    fresh = build_model()
    for w in fresh.weights:
        w.assign(np.zeros(w.shape, "float32"))
    fresh.load_weights(path)
    for a, b in zip(model.weights, fresh.weights):
        assert a.numpy().tobytes() == b.numpy().tobytes()


# -- Keras 3 `.weights.h5` ---------------------------------------------------------------------
def keras3_expected(model):
    """{object path: (vars `name` attr, [variables])} as docs/file-formats.md's "Keras 3 weights
    HDF5" spells it: paths from class names and attribute names, never from layer names."""
    get = model.get_layer
    lstm, td, bidi, head = get("lstm"), get("td"), get("bidi"), get("head")
    cell = ("kernel", "recurrent_kernel", "bias")
    out = {
        "": ("layout_model", []),
        "layers/input_layer": ("tok", []),
        "layers/embedding": ("emb", [get("emb").embeddings]),
        "layers/lstm": ("lstm", []),
        "layers/lstm/cell": ("lstm_cell", [getattr(lstm.cell, w) for w in cell]),
        "layers/time_distributed": ("td", []),
        "layers/time_distributed/layer": ("td_dense", [td.layer.kernel, td.layer.bias]),
        "layers/bidirectional": ("bidi", []),
        "layers/reshape": ("reshape", []),
        "layers/conv2d": ("conv", [get("conv").kernel, get("conv").bias]),
        "layers/batch_normalization": ("bn", [get("bn").beta, get("bn").moving_mean,
                                              get("bn").moving_variance]),
        "layers/global_average_pooling2d": ("gap", []),
        # A model called as a layer: its class name, not its name `head`.
        "layers/sequential": ("head", []),
        "layers/sequential/layers/dense": ("h1", [head.layers[0].kernel, head.layers[0].bias]),
        "layers/sequential/layers/dense_1": ("h2", [head.layers[1].kernel,
                                                    head.layers[1].bias]),
    }
    for side in ("forward", "backward"):
        rnn = getattr(bidi, f"{side}_layer")
        out[f"layers/bidirectional/{side}_layer"] = (f"{side}_gru", [])
        out[f"layers/bidirectional/{side}_layer/cell"] = (
            "gru_cell", [getattr(rnn.cell, w) for w in cell])
    return out


def test_keras3_weights_h5_layout(tmp_path, model):
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    root, entries = walk(path)
    assert root == {}  # no root attrs, no layer_names
    assert "top_level_model_weights" not in entries
    expected = keras3_expected(model)
    vars_groups = {k for k, v in entries.items() if v[0] == "group" and
                   (k == "vars" or k.endswith("/vars"))}
    assert vars_groups == {f"{p}/vars" if p else "vars" for p in expected}
    for obj_path, (name, variables) in expected.items():
        group = f"{obj_path}/vars" if obj_path else "vars"
        assert entries[group] == ("group", {"name": ("vlen-utf8", (), name)}), group
        for i, variable in enumerate(variables):
            check_dataset(entries[f"{group}/{i}"], variable)
    assert sorted(datasets(entries)) == sorted(
        f"{p}/vars/{i}" if p else f"vars/{i}" for p, (_, vs) in expected.items()
        for i in range(len(vs)))
    # Groups other than `vars` only hold children: no attrs on them.
    assert all(v == ("group", {}) for k, v in entries.items()
               if v[0] == "group" and k not in vars_groups)


def test_keras3_file_reloads_into_fresh_model(tmp_path, model):
    path = tmp_path / "w.weights.h5"
    model.save_weights(path)
    fresh = build_model()
    fresh.load_weights(path)
    for a, b in zip(model.weights, fresh.weights):
        assert a.numpy().tobytes() == b.numpy().tobytes()
