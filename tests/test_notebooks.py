"""The notebooks run: each executed top to bottom in a fresh Jupyter kernel (nbclient), with their
tiny settings (KERASISH_NOTEBOOK_SMALL=1) and a KERAS_HOME of the test's own."""
import json
import os
import pathlib
import re
import sys

import pytest

import kerasish
from applications import InceptionV3
from tests.applications.test_inception_v3 import NOTOP_FILE, write_keras2_weights_file

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")  # summary() and the progress bars are colored

# Warnings the Jupyter libraries raise in this process while they start and talk to a kernel.
JUPYTER_WARNINGS = [
    # jupyter_core, until JUPYTER_PLATFORM_DIRS becomes its default.
    "ignore:Jupyter is migrating its paths to use standard platformdirs:DeprecationWarning",
    # jupyter_client before 8 asking asyncio for a loop outside one (Python 3.10-3.11).
    "ignore:There is no current event loop:DeprecationWarning",
    # pyzmq's asyncio sockets on Windows' default (proactor) event loop.
    "ignore:Proactor event loop does not implement add_reader:RuntimeWarning",
]


def jupyter_warnings(test):
    for spec in JUPYTER_WARNINGS:
        test = pytest.mark.filterwarnings(spec)(test)
    return test


@pytest.fixture
def notebook_env(tmp_path, monkeypatch):
    """KERAS_HOME in ``tmp_path``, the repository importable, and a ``python3`` kernelspec that
    runs this very interpreter (the installed one may name another ``python`` on the PATH)."""
    pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    kernel_dir = tmp_path / "jupyter" / "kernels" / "python3"
    kernel_dir.mkdir(parents=True)
    (kernel_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("KERASISH_NOTEBOOK_SMALL", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    home = tmp_path / "keras_home"
    (home / "models").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    return home


def run_notebook(name):
    """Executes ``notebooks/<name>.ipynb`` in the repository root; returns its output text."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells), "store notebooks clean"
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            assert output["output_type"] != "error", "\n".join(output.get("traceback", []))
            if output["output_type"] == "stream":
                texts.append(output["text"])
            elif "data" in output:
                texts.append(output["data"].get("text/plain", ""))
    return ANSI_ESCAPE.sub("", "\n".join(texts))


@jupyter_warnings
def test_video_qa_notebook_runs_with_imagenet_weights(notebook_env):
    kerasish.utils.clear_session()
    notop = InceptionV3(weights=None, include_top=False)
    write_keras2_weights_file(notebook_env / "models" / NOTOP_FILE, notop, seed=5)
    text = run_notebook("video_qa")
    assert "Using weights='imagenet'" in text
    assert "Small settings: 2 videos of 2 frames" in text
    assert "Trainable params: 5,295,720" in text  # model.summary()
    assert "identical predictions" in text


@jupyter_warnings
def test_transfer_learning_notebook_runs_without_weights_file(notebook_env):
    text = run_notebook("transfer_learning")
    assert "Using weights=None" in text
    assert "frozen weights unchanged: True" in text
    assert "Held-out accuracy: " in text and "weights=None)" in text
