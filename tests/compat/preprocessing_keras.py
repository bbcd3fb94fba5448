"""Run by the real Keras 3 (on TensorFlow, which its lookup, hashing and text layers need):

    python preprocessing_keras.py FOLDER

Adapts the preprocessing layers of ``preprocessing_model`` in real Keras, saves
``FOLDER/keras.keras``, and writes ``FOLDER/keras.json``: the predictions of that model, and of
the model kerasish saved at ``FOLDER/kerasish.keras`` (when it exists), on the inputs below.
Never imported by kerasish; the same model is built by ``test_compat_preprocessing.py``.
"""
import json
import os
import sys

import numpy as np

DOCS = ["The quick brown fox.", "the lazy dog!  The END", "Fox's \u00c9 caf\u00e9, tab\there",
        "a-b_c (d) [e]", "zip 94043 and zip 10001", "the fox, the dog and THE cat"]
CITIES = ["paris", "lima", "oslo", "paris", "quito", "lima", "paris", "kyiv", "", "oslo"]
ZIPS = [94043, 10001, 94043, 60601, 73301, 10001, 94043, 2139, 0, 60601]


def inputs():
    """The model's inputs: text (n, 1), city (n, 1), zip (n, 1), as NumPy arrays."""
    n = len(DOCS)
    return [np.array(DOCS, dtype=object).reshape(n, 1),
            np.array(CITIES[:n], dtype=object).reshape(n, 1),
            np.array(ZIPS[:n], dtype=np.int64).reshape(n, 1)]


def build(keras):
    """The model, with every layer adapted on the module's data (same code for both)."""
    layers = keras.layers
    text = keras.Input((1,), dtype="string", name="text")
    city = keras.Input((1,), dtype="string", name="city")
    zip_code = keras.Input((1,), dtype="int64", name="zip_code")
    words = layers.TextVectorization(max_tokens=12, output_sequence_length=6, name="words")
    words.adapt(np.array(DOCS))
    bag = layers.TextVectorization(output_mode="tf_idf", ngrams=2, name="bag")
    bag.adapt(np.array(DOCS))
    cities = layers.StringLookup(mask_token="", num_oov_indices=2, name="cities")
    cities.adapt(np.array(CITIES))
    zips = layers.IntegerLookup(output_mode="count", name="zips")
    zips.adapt(np.array(ZIPS))
    outputs = [words(text), bag(text), cities(city), zips(zip_code),
               layers.Hashing(num_bins=97, salt=[7, 11], name="hashed")(city),
               layers.HashedCrossing(num_bins=1009, name="crossed")((city, zip_code))]
    return keras.Model([text, city, zip_code], outputs)


def _predict(model):
    import tensorflow as tf

    x = [tf.constant(a.astype(str) if a.dtype == object else a) for a in inputs()]
    return [np.asarray(y).tolist() for y in model(x)]


def main(folder):
    import keras

    model = build(keras)
    model.save(os.path.join(folder, "keras.keras"))
    result = {"keras": _predict(model)}
    ours = os.path.join(folder, "kerasish.keras")
    if os.path.exists(ours):
        result["kerasish_file"] = _predict(keras.saving.load_model(ours))
    with open(os.path.join(folder, "keras.json"), "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1])
