"""Hot reload: new versions appear under a live server, load in the background, take over
without a failed request; old versions drain and are freed; broken versions are reported."""
import gc
import json
import os
import threading
import time
import weakref

import numpy as np

from kerasish.serving import repository

from .helpers import mlp, rows, running, save_version

POLL = 0.2


def predictions(r):
    return np.array(r.json()["predictions"])


def test_new_version_takes_over_while_a_client_keeps_asking(tmp_path):
    base, staging = str(tmp_path / "m"), str(tmp_path / "staging")
    os.makedirs(staging)
    v1, v2 = mlp(1), mlp(2)
    x = rows(3)
    want1, want2 = v1.predict(x, verbose=0), v2.predict(x, verbose=0)
    save_version(v1, base, 1)
    body = json.dumps({"instances": x.tolist()})
    with running([{"name": "m", "base_path": base}], poll_seconds=POLL) as (server, client):
        seen, failures, stop = [], [], threading.Event()

        def ask():
            import httpx
            with httpx.Client(base_url=server.url, timeout=30) as c:
                while not stop.is_set():
                    r = c.post("/v1/models/m:predict", content=body)
                    if r.status_code != 200:
                        failures.append((r.status_code, r.text))
                        continue
                    got = predictions(r)
                    seen.append(1 if np.allclose(got, want1, atol=1e-6) else
                                2 if np.allclose(got, want2, atol=1e-6) else 0)

        thread = threading.Thread(target=ask)
        thread.start()
        try:
            time.sleep(3 * POLL)
            save_version(v2, base, 2, staging=staging)  # written elsewhere, renamed into place
            appeared = time.monotonic()
            while time.monotonic() - appeared < 10 and (not seen or seen[-1] != 2):
                time.sleep(0.02)
            switch = time.monotonic() - appeared
            time.sleep(3 * POLL)
        finally:
            stop.set()
            thread.join()
        assert failures == []
        assert 0 not in seen and seen[0] == 1 and seen[-1] == 2
        first2 = seen.index(2)
        assert set(seen[first2:]) == {2}  # once switched, never back
        assert switch < 10 * POLL + 2, f"switched after {switch:.2f} s"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            states = {s["version"]: s["state"] for s in
                      client.get("/v1/models/m").json()["model_version_status"]}
            if states == {"2": "AVAILABLE", "1": "END"}:
                break
            time.sleep(0.05)
        assert states == {"2": "AVAILABLE", "1": "END"}


def _wait_unloaded(core):
    for t in list(core._unloaders):
        t.join()


def test_memory_stays_flat_over_repeated_reloads(tmp_path):
    base = str(tmp_path / "m")
    save_version(mlp(0), base, 1)
    batching = {"max_batch_size": 8, "batch_timeout_micros": 1000, "num_batch_threads": 2}
    with running([{"name": "m", "base_path": base}], batching=batching) as (server, client):
        core = server.core
        models = [weakref.ref(core.models["m"].versions[1].servable.model)]
        threads = threading.active_count()
        for version in range(2, 8):
            save_version(mlp(version), base, version)
            core.poll()
            r = client.post("/v1/models/m:predict", json={"instances": rows(2).tolist()})
            assert r.status_code == 200
            _wait_unloaded(core)
            models.append(weakref.ref(core.models["m"].versions[version].servable.model))
        gc.collect()
        alive = [i + 1 for i, ref in enumerate(models) if ref() is not None]
        assert alive == [7]  # only the serving version's model is still in memory
        assert threading.active_count() == threads  # old batchers' threads are gone
        states = [s["state"] for s in client.get("/v1/models/m").json()["model_version_status"]]
        assert states == ["AVAILABLE"] + ["END"] * 6


def test_broken_version_is_reported_and_the_serving_version_kept(tmp_path):
    base = str(tmp_path / "m")
    good = mlp(2)
    save_version(good, base, 2)
    x = rows(2)
    with running([{"name": "m", "base_path": base}]) as (server, client):
        os.makedirs(f"{base}/3")
        with open(f"{base}/3/model.keras", "wb") as f:
            f.write(b"not a zip archive")
        os.makedirs(f"{base}/4")  # an empty version folder
        server.core.poll()
        status = {s["version"]: s for s in client.get("/v1/models/m").json()[
            "model_version_status"]}
        assert status["2"]["state"] == "AVAILABLE"
        assert status["4"]["state"] == "END"
        assert status["4"]["status"]["error_code"] == "NOT_FOUND"
        assert "model.keras" in status["4"]["status"]["error_message"]
        r = client.post("/v1/models/m:predict", json={"instances": x.tolist()})
        np.testing.assert_allclose(predictions(r), good.predict(x, verbose=0), atol=1e-6)
        assert client.post("/v1/models/m/versions/4:predict",
                           json={"instances": x.tolist()}).status_code == 404
        # Polling again does not retry the unchanged broken folder ...
        server.core.poll()
        assert client.get("/v1/models/m/versions/4").json()["model_version_status"][0][
            "status"]["error_code"] == "NOT_FOUND"
        # ... but a repaired one loads and takes over.
        fixed = mlp(4)
        fixed.save(f"{base}/4/model.keras")
        server.core.poll()
        _wait_unloaded(server.core)
        r = client.post("/v1/models/m:predict", json={"instances": x.tolist()})
        np.testing.assert_allclose(predictions(r), fixed.predict(x, verbose=0), atol=1e-6)
        states = {s["version"]: s["state"] for s in client.get("/v1/models/m").json()[
            "model_version_status"]}
        assert states == {"4": "AVAILABLE", "2": "END"}


def test_a_loading_version_answers_503_and_the_old_one_keeps_serving(tmp_path, monkeypatch):
    base = str(tmp_path / "m")
    save_version(mlp(1), base, 1)
    release, loading = threading.Event(), threading.Event()
    real_load = repository.Servable.load

    def slow_load(*args, **kwargs):
        loading.set()
        release.wait(10)
        return real_load(*args, **kwargs)

    with running([{"name": "m", "base_path": base}], poll_seconds=POLL) as (server, client):
        monkeypatch.setattr(repository.Servable, "load", slow_load)
        save_version(mlp(2), base, 2)
        assert loading.wait(10)
        body = {"instances": rows(1).tolist()}
        r = client.post("/v1/models/m/versions/2:predict", json=body)
        assert r.status_code == 503 and "loading" in r.json()["error"]
        assert client.get("/v1/models/m/versions/2").json()["model_version_status"][0][
            "state"] == "LOADING"
        assert client.post("/v1/models/m:predict", json=body).status_code == 200  # version 1
        release.set()
        server.core.wait_for("m", 2)
        assert client.post("/v1/models/m/versions/2:predict", json=body).status_code == 200
