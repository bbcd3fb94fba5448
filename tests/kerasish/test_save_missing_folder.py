"""Saving into a folder that does not exist names that folder (not a hidden temporary file),
and the README's serving snippet, which creates its version folder, runs as written."""
import os
import pathlib
import re

import pytest

import kerasish as keras
from kerasish import layers

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def mlp():
    return keras.Sequential([keras.Input((4,)), layers.Dense(2)])


@pytest.mark.parametrize("name", ["model.keras", "model.weights.h5"])
def test_a_missing_folder_is_named(tmp_path, name):
    missing = tmp_path / "models" / "mlp" / "1"
    model = mlp()
    save = model.save_weights if name.endswith(".weights.h5") else model.save
    with pytest.raises(FileNotFoundError) as e:
        save(str(missing / name))
    assert f"the folder '{missing}' does not exist" in str(e.value)
    assert ".tmp" not in str(e.value)


def test_a_legacy_h5_model_creates_its_folder_as_tf_keras_does(tmp_path):
    mlp().save(str(tmp_path / "new" / "model.h5"))
    assert os.path.isfile(tmp_path / "new" / "model.h5")


def test_the_readme_serving_snippet_runs_as_written(tmp_path, monkeypatch):
    text = README.read_text()
    snippet = next(block for block in re.findall(r"```python\n(.*?)```", text, re.S)
                   if 'model.save("models/mlp/1/model.keras")' in block)
    monkeypatch.chdir(tmp_path)
    exec(compile(snippet, "README.md", "exec"), {"model": mlp()})
    assert os.path.isfile(tmp_path / "models" / "mlp" / "1" / "model.keras")
