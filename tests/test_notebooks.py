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


def execute_notebook(name):
    """Executes ``notebooks/<name>.ipynb`` in the repository root; returns the notebook."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    assert not any(cell.get("outputs") for cell in notebook.cells), "store notebooks clean"
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT)}}).execute()
    return notebook


def run_notebook(name, notebook=None):
    """Executes ``notebooks/<name>.ipynb`` (unless given executed); returns its output text."""
    notebook = notebook or execute_notebook(name)
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


def screen_lines(text):
    """The lines a notebook shows for a stream: each line is what follows its last ``\\r``."""
    return [line.rsplit("\r", 1)[-1] for line in text.split("\n") if line.rsplit("\r", 1)[-1]]


@jupyter_warnings
def test_mnist_tensorboard_notebook_logs_and_shows_one_progress_line_per_epoch(
        notebook_env, tmp_path, monkeypatch):
    from tests.kerasish.tb_helpers import load

    monkeypatch.setenv("KERASISH_NOTEBOOK_LOGDIR", str(tmp_path / "logs"))
    notebook = execute_notebook("mnist_tensorboard")
    text = run_notebook("mnist_tensorboard", notebook)
    assert "scikit-learn's digits" in text and "test accuracy" in text
    fit_cell, = [c for c in notebook.cells if "model.fit(" in c.source]
    raw = "".join(o["text"] for o in fit_cell.outputs
                  if o["output_type"] == "stream" and o["name"] == "stdout")
    lines = screen_lines(ANSI_ESCAPE.sub("", raw))
    # Small settings: 2 epochs of 2 batches -> "Epoch i/2" and one bar line per epoch, whose
    # frames (one per update) are rewritten in place with "\r", never a line per batch.
    assert [line.split()[0] for line in lines] == ["Epoch", "2/2", "Epoch", "2/2"], lines
    assert "val_accuracy" in lines[1] and "val_accuracy" in lines[3]
    bars = [line for line in raw.split("\n") if "/step" in line]
    assert len(bars) == 2 and all(bar.count("\r") >= 2 for bar in bars)
    outputs = [o for c in notebook.cells for o in c.get("outputs", [])]
    assert any("image/png" in o.get("data", {}) for o in outputs)  # the matplotlib plot
    logs = tmp_path / "logs" / "mnist"
    assert {p.name for p in logs.iterdir()} >= {"train", "validation", "test",
                                                "projector_config.pbtxt", "sprite.png"}
    train = load(logs / "train")
    assert [e.step for e in train.Tensors("epoch_accuracy")] == [0, 1]
    assert "mnist/conv2/kernel/histogram" in train.Tags()["tensors"]
    assert "fc1/MatMul" in {node.name for node in train.Graph().node}
    assert "cross_entropy" in load(logs / "test").Tags()["tensors"]


@jupyter_warnings
def test_hparam_search_notebook_logs_twelve_runs_with_hparams(notebook_env, tmp_path,
                                                              monkeypatch):
    from tests.kerasish.tb_helpers import load

    monkeypatch.setenv("KERASISH_NOTEBOOK_LOGDIR", str(tmp_path / "logs"))
    text = run_notebook("hparam_search")
    assert "12 runs logged" in text and "best run: lr_" in text
    root = tmp_path / "logs" / "hparam_search"
    runs = sorted(p.name for p in root.iterdir() if p.is_dir())
    assert len(runs) == 12 and "lr_1E-04,conv=2,fc=1" in runs
    assert "_hparams_/experiment" in load(root).Tags()["tensors"]
    for run in runs:
        assert {"_hparams_/session_start_info", "_hparams_/session_end_info"} <= set(
            load(root / run).Tags()["tensors"])
        assert [e.step for e in load(root / run / "validation").Tensors("epoch_accuracy")] == [0]


@jupyter_warnings
def test_models_in_a_box_notebook_trains_both_premade_models(notebook_env):
    pytest.importorskip("pandas")
    pytest.importorskip("statsmodels")  # ships the election table (anes96.csv) it reads
    text = run_notebook("models_in_a_box")
    assert "Small settings: 2048 houses" in text
    assert "zip_code kernel: 100,000 weights" in text
    assert "Held-out accuracy: " in text and "(189 voters)" in text
    assert "identical predictions: True" in text


@jupyter_warnings
def test_pretrained_gallery_notebook_says_which_files_are_missing_and_loads_the_cached_ones(
        notebook_env):
    from applications import MobileNetV2
    from tests.applications.zoo_helpers import write_keras2_weights_file as write_keras_file

    # Small settings: MobileNetV2 at 96x96, whose Keras files are in the cache with and without
    # the top; the files of the other gallery models are not.
    models = notebook_env / "models"
    mobilenet = "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_96{}.h5"
    kerasish.utils.clear_session()
    for suffix, include_top in (("", True), ("_no_top", False)):
        layout = MobileNetV2(weights=None, include_top=include_top, input_shape=(96, 96, 3))
        write_keras_file(models / mobilenet.format(suffix), layout.layers, seed=7)
    text = run_notebook("pretrained_gallery")
    assert "Small settings: 16 crops per photo at 96x96" in text
    assert "photos: (2, 427, 640, 3) uint8 - china, flower" in text
    for fname in ("resnet50_weights_tf_dim_ordering_tf_kernels.h5",
                  "inception_v3_weights_tf_dim_ordering_tf_kernels.h5", "efficientnetb0.h5",
                  "convnext_tiny.h5"):
        assert f"{fname} is not in the Keras cache" in text
        assert f"put it at {models / fname} " in text
    assert text.count("-> Using weights=None (random initialization)") == 4
    for suffix in ("", "_no_top"):
        assert f"Using weights='imagenet': found {models / mobilenet.format(suffix)}" in text
    for name in ("resnet50", "mobilenetv2_1.00_96", "inception_v3", "efficientnetb0",
                 "convnext_tiny"):  # each model's top 3 classes for both photos
        assert re.search(rf"^{name}: input \d+x\d+", text, re.M), name
    assert len(re.findall(r"^ +(china|flower): \w+ \(0\.\d{3}\), ", text, re.M)) == 10
    # The cached notop weights were loaded: MobileNetV2's features from random initialization
    # (weights=None) are of order 1e-12, from the written file of order 0.1 to 1.
    std = float(re.search(r"features \(1280,\); mean \S+, standard deviation (\S+)", text)[1])
    assert std > 1e-3
    assert "Epoch 3/3" in text and "feature extractor weights='imagenet')" in text
    assert re.search(r"Held-out accuracy: [01]\.\d{3} on 8 crops", text)
