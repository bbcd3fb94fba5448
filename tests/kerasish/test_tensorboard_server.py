"""The real TensorBoard server on the callback's logs: started on a free loopback port, asked
over HTTP for its scalar tags, histograms, graphs, and projector data, then stopped."""
import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

import kerasish as keras
from kerasish import layers

pytest.importorskip("tensorboard")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port, route, post=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{route}", headers={"Content-Type": "application/json"},
        data=None if post is None else json.dumps(post).encode())
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if response.headers.get_content_type() == "application/json" \
        else body


def wait_for(port, route, ready, server, timeout=60, post=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stdout.read()
        try:
            answer = get(port, route, post)
            if ready(answer):
                return answer
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.25)
    raise AssertionError(f"TensorBoard did not answer {route} in {timeout} s")


@pytest.fixture
def run_dir(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,), name="features"),
                              layers.Dense(5, activation="relu", name="fc1"),
                              layers.Dense(2, name="fc2")], name="net")
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    x = np.random.default_rng(0).random((40, 6)).astype("float32")
    y = (x[:, 0] > 0.5).astype("int32")
    model.fit(x, y, epochs=2, batch_size=10, validation_split=0.25, verbose=0, callbacks=[
        keras.callbacks.TensorBoard(tmp_path, histogram_freq=1, embeddings_freq=1,
                                    embeddings_data=x[:8], embeddings_metadata=y[:8])])
    return tmp_path


@contextlib.contextmanager
def serve(logdir):
    """``tensorboard --logdir <logdir>`` on a free loopback port; yields (port, process)."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir), "--port",
         str(port), "--host", "127.0.0.1", "--load_fast=false", "--reload_interval=1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield port, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stdout.close()


def test_tensorboard_serves_the_logs(run_dir):
    with serve(run_dir) as (port, server):
        tags = wait_for(port, "/data/plugin/scalars/tags",
                        lambda answer: {"train", "validation"} <= set(answer), server)
        assert set(tags) == {"train", "validation"}
        assert set(tags["train"]) == {"epoch_accuracy", "epoch_loss", "epoch_learning_rate"}
        assert set(tags["validation"]) == {
            "epoch_accuracy", "epoch_loss", "evaluation_accuracy_vs_iterations",
            "evaluation_loss_vs_iterations"}
        histograms = get(port, "/data/plugin/histograms/tags")
        assert set(histograms["train"]) == {"net/fc1/kernel/histogram", "net/fc1/bias/histogram",
                                            "net/fc2/kernel/histogram", "net/fc2/bias/histogram"}
        graphs = get(port, "/data/plugin/graphs/info")
        assert graphs["train"]["run_graph"] and "keras" in graphs["train"]["tags"]
        op_graph = get(port, "/data/plugin/graphs/graph?run=train&conceptual=false").decode()
        assert 'name: "fc1/MatMul"' in op_graph and 'input: "fc1/kernel"' in op_graph
        keras_graph = get(port, "/data/plugin/graphs/graph?run=train&tag=keras&conceptual=true")
        assert 'name: "net/fc2"' in keras_graph.decode()
        assert get(port, "/data/plugin/projector/runs") == ["."]
        tensor = get(port, "/data/plugin/projector/tensor?run=.&name=fc1/output")
        assert len(tensor) == 8 * 5 * 4  # 8 points of fc1's 5 float32 outputs


def test_hparams_dashboard_lists_the_runs_with_their_final_metrics(tmp_path):
    from kerasish.summary import hparams as hp

    lr = hp.HParam("learning_rate", hp.Discrete([0.1, 0.01]))
    with keras.summary.create_file_writer(tmp_path).as_default():
        hp.hparams_config([lr], [hp.Metric("epoch_accuracy", group="validation")])
    x = np.random.default_rng(1).random((30, 4)).astype("float32")
    y = (x[:, 1] > 0.5).astype("int32")
    final = {}
    for rate in (0.1, 0.01):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
        model.compile(keras.optimizers.SGD(rate), keras.losses.SparseCategoricalCrossentropy(
            from_logits=True), metrics=["accuracy"])
        run = str(tmp_path / f"lr_{rate}")
        history = model.fit(x, y, epochs=2, validation_split=0.5, verbose=0, callbacks=[
            keras.callbacks.TensorBoard(run), hp.KerasCallback(run, {lr: rate})])
        final[rate] = history.history["val_accuracy"][-1]
    request = {"experimentName": "", "allowedStatuses": ["STATUS_SUCCESS"], "colParams": [],
               "startIndex": 0, "sliceSize": 10}
    with serve(tmp_path) as (port, server):
        answer = wait_for(port, "/data/plugin/hparams/session_groups",
                          lambda a: len(a.get("sessionGroups", [])) == 2, server, post=request)
        experiment = get(port, "/data/plugin/hparams/experiment", {"experimentName": ""})
    assert [h["name"] for h in experiment["hparamInfos"]] == ["learning_rate"]
    groups = {g["hparams"]["learning_rate"]: g for g in answer["sessionGroups"]}
    assert set(groups) == {0.1, 0.01}
    for rate, group in groups.items():
        (session,) = group["sessions"]
        assert session["name"] == f"lr_{rate}" and session["status"] == "STATUS_SUCCESS"
        (metric,) = group["metricValues"]
        assert metric["name"] == {"group": "validation", "tag": "epoch_accuracy"}
        assert metric["trainingStep"] == 1 and metric["value"] == pytest.approx(final[rate])
