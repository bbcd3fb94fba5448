"""Dynamic batching: concurrent requests merge, answers equal unbatched ones, a full queue
answers 503 at once."""
import concurrent.futures
import json
import threading
import time

import numpy as np
import pytest

from kerasish.serving.batcher import QUEUE_FULL, Batcher
from kerasish.serving.errors import ServingError

from .helpers import mlp, rows, running, save_version


def double(arrays):
    return {"y": arrays["x"] * 2}


def test_concurrent_tasks_merge_into_one_batch_and_split_back():
    sizes = []

    def run(arrays):
        sizes.append(len(arrays["x"]))
        return double(arrays)

    batcher = Batcher(run, max_batch_size=8, batch_timeout_micros=200_000, num_batch_threads=1)
    try:
        xs = [np.full((2, 3), i, np.float32) for i in range(4)]
        futures = [batcher.submit({"x": x}) for x in xs]
        results = [f.result(5)["y"] for f in futures]
    finally:
        batcher.stop()
    assert sizes == [8]  # four tasks of 2 rows: one full batch, run at once
    for x, y in zip(xs, results):
        np.testing.assert_array_equal(y, x * 2)


def test_timeout_closes_a_partial_batch():
    batcher = Batcher(double, max_batch_size=64, batch_timeout_micros=50_000,
                      num_batch_threads=1)
    try:
        start = time.monotonic()
        out = batcher.submit({"x": np.ones((1, 2), np.float32)}).result(5)
        waited = time.monotonic() - start
    finally:
        batcher.stop()
    np.testing.assert_array_equal(out["y"], [[2, 2]])
    assert 0.04 <= waited < 2


def test_different_shapes_go_to_different_batches():
    sizes = []
    batcher = Batcher(lambda a: (sizes.append(a["x"].shape), double(a))[1], max_batch_size=8,
                      batch_timeout_micros=100_000, num_batch_threads=1)
    try:
        a = batcher.submit({"x": np.ones((1, 3), np.float32)})
        b = batcher.submit({"x": np.ones((1, 5), np.float32)})
        assert a.result(5)["y"].shape == (1, 3) and b.result(5)["y"].shape == (1, 5)
    finally:
        batcher.stop()
    assert sizes == [(1, 3), (1, 5)]


def test_allowed_batch_sizes_pad_and_trim():
    shapes = []
    batcher = Batcher(lambda a: (shapes.append(a["x"].shape), double(a))[1], max_batch_size=8,
                      batch_timeout_micros=0, allowed_batch_sizes=[2, 4, 8],
                      num_batch_threads=1)
    try:
        out = batcher.submit({"x": np.arange(3, dtype=np.float32)[:, None]}).result(5)
    finally:
        batcher.stop()
    assert shapes == [(4, 1)]
    np.testing.assert_array_equal(out["y"], [[0], [2], [4]])
    with pytest.raises(ValueError, match="must equal `max_batch_size`"):
        Batcher(double, max_batch_size=8, allowed_batch_sizes=[2, 4])


def test_full_queue_fails_at_once_and_too_large_tasks_are_refused():
    gate, started = threading.Event(), threading.Event()

    def blocked(arrays):
        started.set()
        gate.wait(10)
        return double(arrays)

    batcher = Batcher(blocked, max_batch_size=1, batch_timeout_micros=0,
                      max_enqueued_batches=1, num_batch_threads=1)
    try:
        one = {"x": np.ones((1, 2), np.float32)}
        running_task = batcher.submit(one)
        assert started.wait(5)
        assert not batcher.full()
        waiting = batcher.submit(one)  # the one batch allowed to wait
        assert batcher.full()
        start = time.monotonic()
        with pytest.raises(ServingError) as info:
            batcher.submit(one)
        assert time.monotonic() - start < 0.1
        assert (info.value.http_status, info.value.message) == (503, QUEUE_FULL)
        with pytest.raises(ServingError, match="larger than maximum input batch size 1"):
            batcher.submit({"x": np.ones((2, 2), np.float32)})
        gate.set()
        assert running_task.result(5)["y"].shape == (1, 2) and waiting.result(5)
    finally:
        gate.set()
        batcher.stop()


def test_batching_through_http_merges_requests_and_matches_unbatched(tmp_path):
    model = mlp(3)
    save_version(model, str(tmp_path / "m"), 1)
    batching = {"max_batch_size": 32, "batch_timeout_micros": 100_000, "num_batch_threads": 1}
    xs = [rows(2, seed=i) for i in range(12)]
    with running([{"name": "m", "base_path": str(tmp_path / "m")}], batching=batching) as (
            server, client):
        import httpx

        def ask(x):
            with httpx.Client(base_url=server.url, timeout=30) as c:
                return c.post("/v1/models/m:predict",
                              content=json.dumps({"instances": x.tolist()}))

        with concurrent.futures.ThreadPoolExecutor(len(xs)) as pool:
            answers = list(pool.map(ask, xs))
        metrics = client.get("/monitoring/prometheus/metrics").text
    for x, r in zip(xs, answers):
        assert r.status_code == 200, r.text
        np.testing.assert_allclose(r.json()["predictions"], model.predict(x, verbose=0),
                                   rtol=1e-6, atol=1e-6)
    count = _sample(metrics, 'kerasish_serving_batch_size_count{model="m"}')
    total = _sample(metrics, 'kerasish_serving_batch_size_sum{model="m"}')
    assert total == 2 * len(xs)  # every row went through a batch (the warm-up does not)
    assert count < len(xs)  # so some batches held several requests


def _sample(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    raise AssertionError(f"{name} not in the metrics")


def test_full_queue_answers_503_over_http(tmp_path):
    save_version(mlp(3), str(tmp_path / "m"), 1)
    batching = {"max_batch_size": 1, "batch_timeout_micros": 0, "max_enqueued_batches": 1,
                "num_batch_threads": 1}
    with running([{"name": "m", "base_path": str(tmp_path / "m")}], batching=batching) as (
            server, client):
        servable = server.core.models["m"].versions[1].servable
        gate, started = threading.Event(), threading.Event()
        real = servable.batcher._run

        def blocked(arrays):
            started.set()
            gate.wait(10)
            return real(arrays)

        servable.batcher._run = blocked
        body = json.dumps({"instances": rows(1).tolist()})
        import httpx

        def ask():
            with httpx.Client(base_url=server.url, timeout=30) as c:
                return c.post("/v1/models/m:predict", content=body)

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            first = pool.submit(ask)
            assert started.wait(10)
            second = pool.submit(ask)
            deadline = time.monotonic() + 5
            while servable.batcher.queued_tasks < 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            start = time.monotonic()
            third = client.post("/v1/models/m:predict", content=body)
            elapsed = time.monotonic() - start
            gate.set()
            assert first.result().status_code == 200 and second.result().status_code == 200
    assert third.status_code == 503 and third.json() == {"error": QUEUE_FULL}
    assert elapsed < 1.0
