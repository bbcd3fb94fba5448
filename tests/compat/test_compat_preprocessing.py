"""Lookup, hashing and text layers against the real Keras 3 on TensorFlow, both ways.

The ``compat`` test runs ``preprocessing_keras.py`` under the interpreter named by
``KERASISH_KERAS3_PYTHON`` (a venv with Keras 3 and TensorFlow; never a dependency of kerasish)
and skips when it is unset or has no TensorFlow. The same adapted model is built in both; the
test checks that kerasish's outputs equal Keras's, that kerasish loads Keras's ``.keras`` file
(vocabulary assets, IDF weights) with the same outputs, and that Keras loads kerasish's.
"""
import json
import os
import subprocess

import numpy as np
import pytest

import kerasish
from tests.compat import preprocessing_keras as shared

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "preprocessing_keras.py")


def _close(a, b):
    np.testing.assert_allclose(np.asarray(a, np.float64), np.asarray(b, np.float64),
                               rtol=1e-6, atol=1e-6)


def _assert_same(ours, theirs):
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        _close(a, b)


def _real_keras():
    python = os.environ.get("KERASISH_KERAS3_PYTHON")
    if not python:
        pytest.skip("set KERASISH_KERAS3_PYTHON to a python with keras and tensorflow")
    probe = subprocess.run([python, "-c", "import keras, tensorflow"], capture_output=True)
    if probe.returncode:
        pytest.skip(f"{python} cannot import keras and tensorflow")
    return python


@pytest.mark.compat
def test_lookup_hashing_and_text_layers_equal_real_keras(tmp_path):
    python = _real_keras()
    model = shared.build(kerasish)
    ours = [np.asarray(y).tolist() for y in model.predict(shared.inputs(), verbose=0)]
    model.save(tmp_path / "kerasish.keras")
    env = dict(os.environ, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3",
               CUDA_VISIBLE_DEVICES="", PYTHONWARNINGS="ignore")
    done = subprocess.run([python, SCRIPT, str(tmp_path)], env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    theirs = json.loads((tmp_path / "keras.json").read_text())
    _assert_same(ours, theirs["keras"])
    _assert_same(ours, theirs["kerasish_file"])
    loaded = kerasish.saving.load_model(tmp_path / "keras.keras")
    _assert_same([np.asarray(y).tolist() for y in loaded.predict(shared.inputs(), verbose=0)],
                 theirs["keras"])
