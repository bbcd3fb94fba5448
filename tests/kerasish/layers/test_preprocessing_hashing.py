"""Hashing and HashedCrossing: bit for bit equal to Keras 3.15 (TensorFlow's FarmHash
Fingerprint64, SipHash-2-4 and FingerprintCat64). Every expected number below was computed once
with Keras 3.15.1 on TensorFlow 2.21, or is a published test vector."""
import numpy as np
import pytest

import kerasish as keras
from kerasish.layers.preprocessing import _hash
from kerasish.sparse import SparseBatch
from tests.helpers import run_layer_test

LETTERS = np.array([["A"], ["B"], ["C"], ["D"], ["E"]])


# -- the hash functions -------------------------------------------------------------------------
def test_siphash24_matches_the_published_vectors():
    # Aumasson & Bernstein, SipHash paper, appendix A: key 00..0f; messages 00..(n-1).
    key = (0x0706050403020100, 0x0F0E0D0C0B0A0908)
    assert _hash.siphash24(key, b"") == 0x726FDB47DD0E0E31
    assert _hash.siphash24(key, bytes(range(15))) == 0xA129CA6149BE45E5
    assert _hash.siphash24(key, bytes(range(8))) == 0x93F5F5799A932462


def test_fingerprint64_is_tensorflows():
    # Keras's documented example: Hashing(num_bins=3) of A..E is [1, 0, 1, 1, 2].
    assert [_hash.fingerprint64(c.encode()) % 3 for c in "ABCDE"] == [1, 0, 1, 1, 2]
    # Whole 64-bit values, through num_bins = 2**62 (Keras 3.15).
    assert _hash.hash_buckets(np.array(["A", "zip_94043"]), 2 ** 62).tolist() == \
        [3080236001339896852, 3457418610748620119]


def test_fingerprint_cat64_chain_is_tf_cross_hashed():
    # tf.sparse.cross_hashed([[1], [2]], [["A"], ["B"]], num_buckets=2**62), via Keras 3.15.
    columns = [np.array([1, 2]), np.array(["A", "B"], dtype=object)]
    assert _hash.cross_hash(columns, 2 ** 62).tolist() == \
        [2289559077581720593, 3316457730380070613]


# -- Hashing --------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, inputs, expected", [
    ({"num_bins": 3}, LETTERS, [[1], [0], [1], [1], [2]]),
    ({"num_bins": 3, "salt": 133}, LETTERS, [[0], [0], [2], [1], [0]]),
    ({"num_bins": 7, "salt": (12345, 67890)},
     np.array(["hello", "kerasish", "a longer string than sixteen bytes", ""]), [2, 2, 4, 3]),
    ({"num_bins": 3, "mask_value": ""}, np.array([["A"], ["B"], [""], ["C"], ["D"]]),
     [[1], [1], [0], [2], [2]]),
    ({"num_bins": 100}, np.array([[1, 2, -3, 100000, 2 ** 40]]), [[49, 59, 99, 0, 78]]),
])
def test_hashing_int_output_equals_keras(kwargs, inputs, expected):
    out = keras.layers.Hashing(**kwargs)(inputs)
    assert out.dtype == np.int64
    assert out.numpy().tolist() == expected


@pytest.mark.parametrize("mode, inputs, expected", [
    ("multi_hot", [["A", "B"], ["C", "C"]], [[0, 0, 0, 1, 1], [0, 0, 1, 0, 0]]),
    ("count", [["A", "B"], ["C", "C"]], [[0, 0, 0, 1, 1], [0, 0, 2, 0, 0]]),
    ("one_hot", [["A"], ["C"]], [[0, 0, 0, 0, 1], [0, 0, 1, 0, 0]]),
])
def test_hashing_encoded_outputs_equal_keras(mode, inputs, expected):
    layer = keras.layers.Hashing(num_bins=5, output_mode=mode)
    out = layer(np.array(inputs))
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), expected)
    sparse = keras.layers.Hashing(num_bins=5, output_mode=mode, sparse=True)(np.array(inputs))
    assert isinstance(sparse, SparseBatch)
    np.testing.assert_array_equal(sparse.to_dense().numpy(), expected)


def test_hashing_takes_lists_and_floats_as_keras():
    layer = keras.layers.Hashing(num_bins=3)
    assert layer(["A", "B", "C"]).numpy().tolist() == [1, 0, 1]
    # Floats are cast to int64 before hashing: 1.7 hashes as "1".
    np.testing.assert_array_equal(layer(np.array([1.7, 2.0], np.float32)).numpy(),
                                  layer(np.array([1, 2])).numpy())


def test_hashing_layer_harness_and_config():
    data = np.array([["a", "b"], ["c", "a"]], dtype=object)
    run_layer_test(keras.layers.Hashing, {"num_bins": 4, "salt": [1, 2]}, (2, 2), (2, 2),
                   input_dtype="string", input_data=data)
    run_layer_test(keras.layers.Hashing, {"num_bins": 4, "output_mode": "multi_hot"}, (2, 2),
                   (2, 4), input_dtype="string", input_data=data)
    config = keras.layers.Hashing(num_bins=3, salt=7, name="h").get_config()
    assert {k: config[k] for k in ("num_bins", "salt", "mask_value", "output_mode", "sparse")} \
        == {"num_bins": 3, "salt": [7, 7], "mask_value": None, "output_mode": "int",
            "sparse": False}
    assert config["dtype"]["config"]["name"] == "int64"


@pytest.mark.parametrize("kwargs, message", [
    ({"num_bins": 0}, "num_bins"),
    ({"num_bins": 3, "salt": "x"}, "salt"),
    ({"num_bins": 3, "output_mode": "tf_idf"}, "output_mode"),
    ({"num_bins": 3, "sparse": True}, "sparse"),
    ({"num_bins": 3, "dtype": "float32"}, "dtype"),
])
def test_hashing_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        keras.layers.Hashing(**kwargs)


# -- HashedCrossing -------------------------------------------------------------------------
def test_hashed_crossing_equals_keras():
    layer = keras.layers.HashedCrossing(num_bins=5)
    out = layer((np.array([1, 2, 3, 4, 5]), np.array(["A", "B", "A", "B", "A"])))
    assert out.dtype == np.int64 and out.numpy().tolist() == [2, 3, 1, 2, 2]
    strings = keras.layers.HashedCrossing(num_bins=1000)(
        (np.array([["x"], ["y"]]), np.array([["A"], ["B"]])))
    assert strings.numpy().tolist() == [[526], [633]]
    one_hot = keras.layers.HashedCrossing(num_bins=4, output_mode="one_hot")(
        (np.array([1, 2]), np.array([3, 4])))
    np.testing.assert_array_equal(one_hot.numpy(), [[0, 0, 0, 1], [0, 0, 0, 1]])


def test_hashed_crossing_harness_and_errors():
    data = (np.array([["a"], ["b"]], dtype=object), np.array([[1], [2]]))
    layer = keras.layers.HashedCrossing(num_bins=8, name="cross")
    assert layer(data).shape == (2, 1)
    assert keras.layers.HashedCrossing.from_config(layer.get_config()).get_config() == \
        layer.get_config()
    assert layer.get_config() == {"num_bins": 8, "output_mode": "int", "sparse": False,
                                  "name": "cross", "dtype": "int64"}
    a, b = keras.Input((1,), dtype="string"), keras.Input((1,), dtype="int64")
    assert keras.layers.HashedCrossing(num_bins=8, output_mode="one_hot")((a, b)).shape == \
        (None, 8)
    with pytest.raises(ValueError, match="at least two inputs"):
        layer((np.array([1]),))
    with pytest.raises(ValueError, match="equal shape"):
        layer((np.array([1, 2]), np.array([1])))
    with pytest.raises(ValueError, match="integer or string"):
        layer((np.array([1.5]), np.array([1])))


def test_hashed_crossing_runs_the_layer_harness():
    class Crossed(keras.layers.HashedCrossing):
        # The harness feeds one input; the cross of a column with itself is still a cross.
        def __call__(self, inputs, *args, **kwargs):
            return super().__call__((inputs, inputs), *args, **kwargs)

        def compute_output_spec(self, inputs, *args, **kwargs):
            return super().compute_output_spec(tuple(inputs), *args, **kwargs)

        @classmethod
        def from_config(cls, config):
            return cls(**config)

    run_layer_test(Crossed, {"num_bins": 16}, (3, 1), (3, 1), input_dtype="int64",
                   input_data=np.array([[1], [2], [3]]))


# -- in a model, saved and loaded -----------------------------------------------------------
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_hashing_in_a_model_saves_and_loads(tmp_path, suffix):
    text = keras.Input((1,), dtype="string", name="text")
    ids = keras.Input((1,), dtype="int64", name="ids")
    hashed = keras.layers.Hashing(num_bins=64, salt=[3, 4])(text)
    crossed = keras.layers.HashedCrossing(num_bins=32)((text, ids))
    model = keras.Model([text, ids], [hashed, crossed])
    x = [np.array([["a"], ["b"], ["zip_94043"]], dtype=object), np.array([[1], [2], [3]])]
    before = model.predict(x, verbose=0)
    path = tmp_path / f"m{suffix}"
    model.save(path)
    loaded = keras.saving.load_model(path)
    for a, b in zip(before, loaded.predict(x, verbose=0)):
        np.testing.assert_array_equal(a, b)
