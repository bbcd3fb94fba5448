"""TextVectorization: standardize, split, n-grams, output modes, adapt, files, saving. Every
expected number was computed once with Keras 3.15.1 on TensorFlow 2.21 (the same calls)."""
import zipfile

import numpy as np
import pytest

import kerasish as keras
from tests.helpers import run_layer_test

TV = keras.layers.TextVectorization
DOCS = ["The quick brown fox.", "the lazy dog!  The END", "Fox's \u00c9 caf\u00e9, tab\there",
        "a-b_c (d) [e]"]


def _np(x):
    return np.asarray(x.numpy()).tolist()


def test_default_standardize_split_and_vocabulary():
    layer = TV()
    layer.adapt(DOCS)
    # ASCII letters only are lowered (tf.strings.lower); "-", "_", "'" and brackets go.
    assert layer.get_vocabulary() == [
        "", "[UNK]", "the", "\u00c9", "tab", "quick", "lazy", "here", "foxs", "fox", "end", "e",
        "dog", "d", "caf\u00e9", "brown", "abc"]
    out = layer(np.array(DOCS))
    assert out.dtype == np.int64
    assert _np(out) == [[2, 5, 15, 9, 0], [2, 6, 12, 2, 10], [8, 3, 14, 4, 7],
                        [16, 13, 11, 0, 0]]


def test_max_tokens_and_output_sequence_length():
    layer = TV(max_tokens=6, output_sequence_length=3)
    layer.adapt(DOCS)
    assert layer.get_vocabulary() == ["", "[UNK]", "the", "\u00c9", "tab", "quick"]
    assert _np(layer(np.array([["the fox the dog"], ["zzz"]]))) == [[2, 1, 2], [1, 0, 0]]
    assert layer.vocabulary_size() == 6


def test_ngrams_and_vector_modes():
    counts = TV(ngrams=2, output_mode="count")
    counts.adapt(DOCS[:2])
    assert counts.get_vocabulary() == [
        "[UNK]", "the", "the quick", "the lazy", "the end", "quick brown", "quick", "lazy dog",
        "lazy", "fox", "end", "dog the", "dog", "brown fox", "brown"]
    out = counts(np.array(["the quick the quick fox"]))
    assert out.dtype == np.float32
    assert _np(out) == [[2, 2, 2, 0, 0, 0, 2, 0, 0, 1, 0, 0, 0, 0, 0]]
    tf_idf = TV(output_mode="tf_idf", ngrams=(1, 3))
    tf_idf.adapt(DOCS)
    assert tf_idf.get_vocabulary()[:6] == ["[UNK]", "the", "\u00c9 caf\u00e9 tab", "\u00c9",
                                           "the quick brown", "the lazy dog"]
    out = _np(tf_idf(np.array(["the quick brown fox", "unknown words"])))
    expected = np.zeros((2, 25))
    expected[0, [1, 4, 7, 8, 14, 22]] = [0.8472978472709656] + [1.0986123085021973] * 5
    expected[1, 0] = 2.176281690597534
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    chars = TV(split="character", standardize="lower", output_mode="multi_hot")
    chars.adapt(["AbC", "cbx"])
    assert chars.get_vocabulary() == ["[UNK]", "c", "b", "x", "a"]
    assert _np(chars(np.array(["abz"]))) == [[1, 0, 1, 0, 1]]


def test_no_split_and_given_vocabulary():
    layer = TV(standardize=None, split=None, vocabulary=["A", "b"])
    assert _np(layer(np.array([["A"], ["b"], ["a"]]))) == [[2], [3], [1]]
    layer = TV(standardize="strip_punctuation", vocabulary=["Hello", "world"],
               output_sequence_length=5, name="tv")
    assert _np(layer(np.array(["Hello, world! hello"]))) == [[2, 3, 1, 0, 0]]
    assert layer.get_config() == {
        "name": "tv", "trainable": True,
        "dtype": {"module": "keras", "class_name": "DTypePolicy",
                  "config": {"name": "float32"}, "registered_name": None},
        "max_tokens": None, "standardize": "strip_punctuation", "split": "whitespace",
        "ngrams": None, "output_mode": "int", "output_sequence_length": 5,
        "pad_to_max_tokens": False, "sparse": False, "ragged": False,
        "vocabulary": ["Hello", "world"], "idf_weights": None, "encoding": "utf-8",
        "vocabulary_size": 4}


def test_callables_and_files(tmp_path):
    def standardize(strings):
        return np.char.upper(strings)

    def split(strings):
        return [s.split("|") for s in strings]

    layer = TV(standardize=standardize, split=split, vocabulary=["A", "B C"])
    assert _np(layer(np.array(["a|b c|d"]))) == [[2, 3, 1]]
    path = tmp_path / "vocab.txt"
    path.write_text("cat\ndog\n")
    layer = TV(vocabulary=str(path))
    assert _np(layer(np.array(["Dog cat bird"]))) == [[3, 2, 1]]
    assert layer.get_vocabulary() == ["", "[UNK]", "cat", "dog"]


@pytest.mark.parametrize("kwargs, message", [
    ({"standardize": "upper"}, "standardize"),
    ({"split": "comma"}, "split"),
    ({"ngrams": 1.5}, "ngrams"),
    ({"output_mode": "multi_hot", "output_sequence_length": 3}, "output_sequence_length"),
    ({"ragged": True}, "ragged"),
])
def test_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TV(**kwargs)


def test_refuses_wide_string_inputs():
    with pytest.raises(ValueError, match="last shape dimension must be 1"):
        TV(vocabulary=["a"])(np.array([["a b", "c"]]))


@pytest.mark.parametrize("kwargs, out_shape", [
    ({"vocabulary": ["a", "b"], "output_sequence_length": 4}, (2, 4)),
    ({"vocabulary": ["a", "b"], "output_mode": "count"}, (2, 3)),
])
def test_layer_harness(kwargs, out_shape):
    data = np.array([["a b a"], ["b c"]], dtype=object)
    run_layer_test(TV, kwargs, data.shape, out_shape, input_dtype="string", input_data=data)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_adapted_text_vectorization_saves_and_loads(tmp_path, suffix):
    layer = TV(max_tokens=10, output_sequence_length=4)
    layer.adapt(["The cat sat.", "the dog, the CAT!"])
    tf_idf = TV(output_mode="tf_idf")
    tf_idf.adapt(DOCS)
    text = keras.Input((1,), dtype="string")
    model = keras.Model(text, [layer(text), tf_idf(text)])
    x = np.array([["The cat sat."], ["a dog"], ["fox END"]], dtype=object)
    before = model.predict(x, verbose=0)
    assert before[0].tolist() == [[2, 3, 4, 0], [1, 5, 0, 0], [1, 1, 0, 0]]
    path = tmp_path / f"m{suffix}"
    model.save(path)
    loaded = keras.saving.load_model(path)
    for a, b in zip(before, loaded.predict(x, verbose=0)):
        np.testing.assert_array_equal(a, b)
    if suffix == ".keras":
        # Keras 3.15 writes the vocabulary for the layer and for its inner StringLookup.
        with zipfile.ZipFile(path) as archive:
            assert archive.read("assets/layers/text_vectorization/vocabulary.txt") == \
                b"\n[UNK]\nthe\ncat\nsat\ndog"
            assert "assets/layers/text_vectorization/_lookup_layer/vocabulary.txt" in \
                archive.namelist()


def test_adapt_over_batches_and_a_py_dataset():
    class Texts(keras.utils.PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.array([["b a"], ["b"]]) if i == 0 else np.array([["c b"], ["a"]])

    from_dataset = TV()
    from_dataset.adapt(Texts())
    from_generator = TV()
    from_generator.adapt(iter([np.array(["b a", "b"]), np.array(["c b", "a"])]))
    # b:3, a:2, c:1, as from one array of the four strings.
    assert from_dataset.get_vocabulary() == from_generator.get_vocabulary() == \
        ["", "[UNK]", "b", "a", "c"]


def test_a_registered_standardize_function_saves_and_loads(tmp_path):
    @keras.saving.register_keras_serializable(package="p2_text")
    def shout(strings):
        return np.char.upper(strings)

    layer = TV(standardize=shout, vocabulary=["A", "B"])
    assert layer.get_config()["standardize"] is shout  # serialized when saved, as Keras
    text = keras.Input((1,), dtype="string")
    model = keras.Model(text, layer(text))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert loaded.predict(np.array([["a b c"]], dtype=object), verbose=0).tolist() == [[2, 3, 1]]
