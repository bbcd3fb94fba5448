"""StringLookup and IntegerLookup: vocabulary order, index layout, OOV buckets, output modes,
invert, files, config, saving. Every expected number was computed once with Keras 3.15.1 on
TensorFlow 2.21 (the same calls, printed), unless a comment says it is a hand computation."""
import io
import json
import math
import zipfile

import h5py
import numpy as np
import pytest

import kerasish as keras
from kerasish.sparse import SparseBatch
from tests.helpers import run_layer_test

L = keras.layers
DATA = np.array([["b", "a", "c", "a"], ["c", "d", "a", "b"], ["e", "b", "z", "a"]])


def _np(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x).tolist()


# -- vocabulary order and index layout -----------------------------------------------------
def test_adapt_orders_by_count_then_token_high_to_low():
    layer = L.StringLookup()
    layer.adapt(np.array([["a", "b", "c"], ["c", "d", "a"], ["a", "e", "b"]]))
    # a:3, then b, c:2 (ties high to low: c before b), then d, e:1 (e before d).
    assert layer.get_vocabulary() == ["[UNK]", "a", "c", "b", "e", "d"]
    layer = L.StringLookup(max_tokens=4)
    layer.adapt(DATA)
    assert layer.get_vocabulary() == ["[UNK]", "a", "b", "c"]


def test_mask_and_several_oov_indices():
    layer = L.StringLookup(mask_token="", num_oov_indices=2)
    layer.adapt(DATA)
    assert layer.get_vocabulary() == ["", "[UNK]", "[UNK]", "a", "b", "c", "z", "e", "d"]
    assert layer.get_vocabulary(include_special_tokens=False) == ["a", "b", "c", "z", "e", "d"]
    assert layer.vocabulary_size() == 9
    # OOV strings go to 1 + Fingerprint64 % 2; the mask to 0.
    assert _np(layer(np.array([["a", "", "q", "zzz", "hello", "b"]]))) == [[3, 0, 2, 1, 1, 4]]
    salted = L.StringLookup(vocabulary=["a", "b", "c"], num_oov_indices=3, salt=42)
    assert _np(salted(np.array(["x", "y", "z", "w", "a"]))) == [1, 1, 1, 2, 3]


def test_integer_lookup_oov_methods_and_mask():
    vocab = [10, 20, 30]
    x = np.array([7, 8, 9, -4, 20])
    assert _np(L.IntegerLookup(vocabulary=vocab, num_oov_indices=3)(x)) == [1, 2, 0, 2, 4]
    farm = L.IntegerLookup(vocabulary=vocab, num_oov_indices=3, oov_method="farmhash")
    assert _np(farm(x)) == [1, 1, 2, 1, 4]
    salted = L.IntegerLookup(vocabulary=vocab, num_oov_indices=3, oov_method="farmhash",
                             salt=(1, 2))
    assert _np(salted(x)) == [1, 0, 1, 0, 4]
    layer = L.IntegerLookup(mask_token=0)
    layer.adapt(np.array([3, 3, 1, 0, 0, 0, 7, 7, 1, 2]))
    assert layer.get_vocabulary() == [0, -1, 7, 3, 1, 2]
    out = layer(np.array([[0, 3, 1, 99]]))
    assert out.dtype == np.int64 and _np(out) == [[0, 3, 4, 1]]


def test_invert():
    layer = L.StringLookup(vocabulary=["a", "b", "c"], invert=True, mask_token="[M]")
    assert layer.get_vocabulary() == ["[M]", "[UNK]", "a", "b", "c"]
    assert _np(layer(np.array([0, 1, 2, 3, 4, 9]))) == ["[M]", "[UNK]", "a", "b", "c", "[UNK]"]
    ints = L.IntegerLookup(vocabulary=[10, 20, 30], invert=True)
    assert _np(ints(np.array([[0, 1, 2, 3, 5]]))) == [[-1, 10, 20, 30, -1]]
    forward = L.StringLookup(vocabulary=["x", "y"])
    back = L.StringLookup(vocabulary=forward.get_vocabulary(), invert=True)
    assert _np(back(forward(np.array(["y", "x", "q"])))) == ["y", "x", "[UNK]"]


# -- output modes ----------------------------------------------------------------------------
def test_encoded_output_modes():
    vocab = ["a", "b", "c"]
    one_hot = L.StringLookup(vocabulary=vocab, output_mode="one_hot")
    out = one_hot(np.array([["a"], ["q"], ["c"]]))
    assert out.dtype == np.float32
    assert _np(out) == [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]
    multi = L.StringLookup(vocabulary=vocab, output_mode="multi_hot", mask_token="")
    assert multi.get_vocabulary() == ["[UNK]", "a", "b", "c"]
    assert _np(multi(np.array([["a", "", "a", "q"], ["c", "b", "", ""]]))) == \
        [[1, 1, 0, 0], [0, 0, 1, 1]]
    count = L.StringLookup(vocabulary=vocab, output_mode="count", pad_to_max_tokens=True,
                           max_tokens=6)
    assert _np(count(np.array([["a", "a", "q", "c"]]))) == [[1, 2, 0, 1, 0, 0]]
    ints = L.IntegerLookup(vocabulary=[10, 20, 30], output_mode="multi_hot")
    assert _np(ints(np.array([10, 30, 99]))) == [1, 1, 0, 1]  # a 1-D input is one sample
    sparse = L.StringLookup(vocabulary=vocab, output_mode="count", sparse=True)
    batch = sparse(np.array([["a", "a", "q"], ["c", "c", "c"]]))
    assert isinstance(batch, SparseBatch)
    assert batch.indices.tolist() == [[0, 0], [0, 1], [1, 3]]
    assert _np(batch.to_dense()) == [[1, 2, 0, 0], [0, 0, 0, 3]]


def test_tf_idf():
    given = L.StringLookup(vocabulary=["a", "b", "c"], output_mode="tf_idf",
                           idf_weights=[0.5, 0.25, 0.125])
    # The OOV slot's weight is the mean of the given ones (hand: 0.875 / 3).
    np.testing.assert_allclose(_np(given(np.array([["a", "a", "q", "c"]]))),
                               [[0.2916666567325592, 1.0, 0.0, 0.125]], rtol=1e-7)
    adapted = L.StringLookup(output_mode="tf_idf", max_tokens=5, pad_to_max_tokens=True)
    adapted.adapt(DATA)
    assert adapted.get_vocabulary() == ["[UNK]", "a", "b", "c", "z"]
    np.testing.assert_allclose(_np(adapted(np.array([["a", "b", "q", "b"]]))),
                               [[0.6821674108505249, 0.5596157908439636, 1.1192315816879272,
                                 0.0, 0.0]], rtol=1e-6)
    # Hand check of one weight: "a" is in all 3 documents, idf = log(1 + 3 / (1 + 3)).
    assert math.isclose(adapted.idf_weights[1], math.log(1 + 3 / 4), rel_tol=1e-6)


# -- vocabularies given as lists or files -------------------------------------------------
def test_vocabulary_file_and_special_tokens(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("earth\nwind\nfire\n")
    layer = L.StringLookup(vocabulary=str(path))
    assert _np(layer(np.array(["fire", "earth", "water"]))) == [3, 1, 0]
    assert layer.get_vocabulary() == ["[UNK]", "earth", "wind", "fire"]
    assert layer.get_config()["vocabulary"] is None
    assert L.StringLookup(vocabulary=["[UNK]", "a", "b"]).get_vocabulary() == ["[UNK]", "a", "b"]
    with pytest.raises(ValueError, match="repeated term"):
        L.StringLookup(vocabulary=["a", "a"])
    with pytest.raises(ValueError, match="reserved mask token"):
        L.StringLookup(vocabulary=["a", ""], mask_token="")
    with pytest.raises(ValueError, match="larger than the maximum"):
        L.StringLookup(vocabulary=["a", "b", "c"], max_tokens=3)
    with pytest.raises(ValueError, match="Cannot adapt"):
        L.StringLookup(vocabulary=["a"]).adapt(np.array(["a"]))
    with pytest.raises(ValueError, match="num_oov_indices=0"):
        L.StringLookup(vocabulary=["a"], num_oov_indices=0)(np.array(["b"]))


def test_adapt_takes_batches_and_lists():
    layer = L.IntegerLookup()
    layer.adapt(iter([np.array([[5, 5]]), np.array([[6, 5]])]))
    assert layer.get_vocabulary() == [-1, 5, 6]
    strings = L.StringLookup()
    strings.adapt(["x", "y", "y", b"x", "x"])
    assert strings.get_vocabulary() == ["[UNK]", "x", "y"]
    assert _np(strings(["y", "x"])) == [2, 1]


def test_config_is_keras():
    config = L.IntegerLookup(vocabulary=[10, 20, 30], name="il").get_config()
    assert config == {
        "name": "il", "trainable": True,
        "dtype": {"module": "keras", "class_name": "DTypePolicy",
                  "config": {"name": "float32"}, "registered_name": None},
        "invert": False, "max_tokens": None, "num_oov_indices": 1, "oov_token": -1,
        "mask_token": None, "output_mode": "int", "sparse": False, "pad_to_max_tokens": False,
        "vocabulary_dtype": "int64", "idf_weights": None, "vocabulary": [10, 20, 30],
        "vocabulary_size": 4, "oov_method": "floormod", "salt": None}
    strings = L.StringLookup(vocabulary=["a"]).get_config()
    assert "vocabulary_dtype" not in strings and strings["encoding"] == "utf-8"


@pytest.mark.parametrize("cls, kwargs, data, out_shape", [
    (L.StringLookup, {"vocabulary": ["a", "b", "c"]}, [["a", "q"], ["c", "b"]], (2, 2)),
    (L.StringLookup, {"vocabulary": ["a", "b"], "output_mode": "multi_hot"},
     [["a", "q"], ["b", "b"]], (2, 3)),
    (L.IntegerLookup, {"vocabulary": [3, 1], "output_mode": "one_hot"}, [[3], [7]], (2, 3)),
    (L.IntegerLookup, {"vocabulary": [3, 1], "output_mode": "count"}, [[3, 3], [1, 7]], (2, 3)),
])
def test_layer_harness(cls, kwargs, data, out_shape):
    dtype = "string" if cls is L.StringLookup else "int64"
    data = np.array(data, dtype=object if dtype == "string" else np.int64)
    run_layer_test(cls, kwargs, data.shape, out_shape, input_dtype=dtype, input_data=data)


# -- saving --------------------------------------------------------------------------------
def _adapted_model():
    text = keras.Input((4,), dtype="string", name="text")
    ids = keras.Input((3,), dtype="int64", name="ids")
    strings = L.StringLookup(name="string_lookup")
    strings.adapt(DATA)
    ints = L.IntegerLookup(output_mode="tf_idf", name="integer_lookup")
    ints.adapt(np.array([[1, 2, 3], [3, 4, 1], [1, 5, 5]]))
    model = keras.Model([text, ids], [strings(text), ints(ids)])
    x = [DATA.astype(object), np.array([[1, 2, 3], [3, 4, 1], [1, 5, 9]])]
    return model, x


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_adapted_lookups_save_and_load(tmp_path, suffix):
    model, x = _adapted_model()
    before = model.predict(x, verbose=0)
    path = tmp_path / f"m{suffix}"
    model.save(path)
    loaded = keras.saving.load_model(path)
    for a, b in zip(before, loaded.predict(x, verbose=0)):
        np.testing.assert_array_equal(a, b)
    assert loaded.get_layer("string_lookup").get_vocabulary() == \
        model.get_layer("string_lookup").get_vocabulary()


def test_keras_archive_layout_of_a_vocabulary(tmp_path):
    # What Keras 3.15 writes for these layers: the vocabulary (special tokens first) as an
    # asset of the layer's path, the IDF weights as the named dataset vars/idf_weights.
    model, _ = _adapted_model()
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert archive.read("assets/layers/string_lookup/vocabulary.txt") == \
            b"[UNK]\na\nb\nc\nz\ne\nd"
        assert archive.read("assets/layers/integer_lookup/vocabulary.txt") == \
            b"-1\n1\n5\n3\n4\n2"
        config = json.loads(archive.read("config.json"))
        with h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r") as f:
            np.testing.assert_allclose(
                f["layers/integer_lookup/vars/idf_weights"][()],
                [0.8003271222114563, 0.5596157908439636, 0.9162907600402832,
                 0.6931471824645996, 0.9162907600402832, 0.9162907600402832], rtol=1e-7)
            assert list(f["layers/string_lookup/vars"]) == []
    entry = [e for e in config["config"]["layers"] if e["name"] == "string_lookup"][0]
    assert entry["config"]["vocabulary"] is None and entry["config"]["vocabulary_size"] == 7


def test_sparse_lookup_feeds_dense_as_the_dense_encoding_does():
    ids = np.random.default_rng(0).integers(0, 1000, (64, 1))
    dense_lookup = L.IntegerLookup(output_mode="one_hot")
    dense_lookup.adapt(ids)
    sparse_lookup = L.IntegerLookup(output_mode="one_hot", sparse=True,
                                    vocabulary=dense_lookup.get_vocabulary())
    inp = keras.Input((1,), dtype="int64")
    assert sparse_lookup(inp).sparse
    sparse_model = keras.Model(inp, L.Dense(1)(sparse_lookup(inp)))
    dense_model = keras.Model(inp, L.Dense(1)(dense_lookup(inp)))
    dense_model.set_weights(sparse_model.get_weights())
    np.testing.assert_allclose(sparse_model.predict(ids, verbose=0),
                               dense_model.predict(ids, verbose=0), rtol=1e-6, atol=1e-6)
    sparse_model.compile("sgd", "mse")
    history = sparse_model.fit(ids, (ids % 7).astype("float32"), epochs=3, batch_size=16,
                               verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_string_lookup_in_a_trained_model():
    text = keras.Input((1,), dtype="string")
    model = keras.Model(text, L.Dense(1)(L.StringLookup(vocabulary=["a", "b", "c"],
                                                        output_mode="one_hot")(text)))
    model.compile("sgd", "mse")
    x = np.array([["a"], ["b"], ["c"], ["d"]] * 8, dtype=object)
    history = model.fit(x, np.arange(32, dtype="float32") % 4, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_a_compiled_step_never_replays_one_batchs_lookups():
    # Batches 1 and 2 look up the same ids: a traced plan would pass its check and then replay
    # their one-hot constants for batch 3. Lookup layers set supports_jit = False (as Keras).
    def trained(jit_compile):
        keras.utils.set_random_seed(0)
        ids = keras.Input((1,), dtype="int64")
        lookup = L.IntegerLookup(vocabulary=list(range(10)), output_mode="one_hot")
        model = keras.Model(ids, L.Dense(1, kernel_initializer="ones")(lookup(ids)))
        model.compile("sgd", "mse", jit_compile=jit_compile)
        x = np.array([[1], [2], [1], [2], [7], [8]])
        y = np.array([0, 0, 0, 0, 5, 5], "float32")
        model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)
        return model.get_weights()[0]

    np.testing.assert_array_equal(trained(True), trained(False))
    assert not trained(False)[8:10].tolist() == [[1.0], [1.0]]  # batch 3 did train
