"""TF Serving's REST API through a real HTTP client against a running server: routes, both
request formats, several versions, labels, a multi-input (Video-QA) model, errors."""
import json
import threading

import numpy as np
import pytest

from kerasish.serving import textproto

from .helpers import mlp, rows, running, save_version, two_outputs, video_qa

CONFIG = """
model_config_list {
  config {
    name: "mlp"  base_path: "%(base)s/mlp"  model_platform: "tensorflow"
    model_version_policy { all {} }
    version_labels { key: "stable" value: 1 }
    version_labels { key: "canary" value: 2 }
  }
  config { name: "mlp_latest" base_path: "%(base)s/mlp" }   # default policy: latest 1
  config { name: "multi" base_path: "%(base)s/multi" }
  config { name: "vqa" base_path: "%(base)s/vqa" }
}
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = str(tmp_path_factory.mktemp("models"))
    models = {1: mlp(1), 2: mlp(2), "multi": two_outputs(), "vqa": video_qa()}
    save_version(models[1], f"{base}/mlp", 1)
    save_version(models[2], f"{base}/mlp", 2)
    save_version(models["multi"], f"{base}/multi", 7)
    save_version(models["vqa"], f"{base}/vqa", 1)
    config = textproto.model_config_list(CONFIG % {"base": base})
    with running(config) as (server, client):
        yield models, server, client


def post(client, path, body):
    return client.post(path, content=body if isinstance(body, bytes) else json.dumps(body))


def test_status_lists_versions_as_tf_serving(served):
    _, _, client = served
    ok = {"error_code": "OK", "error_message": ""}
    r = client.get("/v1/models/mlp")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == {"model_version_status": [
        {"version": "2", "state": "AVAILABLE", "status": ok},
        {"version": "1", "state": "AVAILABLE", "status": ok}]}
    assert client.get("/v1/models/mlp/versions/1").json()["model_version_status"] == [
        {"version": "1", "state": "AVAILABLE", "status": ok}]
    assert client.get("/v1/models/mlp/labels/canary").json()["model_version_status"][0][
        "version"] == "2"
    # The default policy (latest 1) loads only the newest folder of the same repository.
    assert [s["version"] for s in client.get("/v1/models/mlp_latest").json()[
        "model_version_status"]] == ["2"]


def test_metadata_is_the_serving_default_signature(served):
    _, _, client = served
    r = client.get("/v1/models/mlp/versions/1/metadata").json()
    assert r["model_spec"] == {"name": "mlp", "signature_name": "", "version": "1"}
    sig = r["metadata"]["signature_def"]["signature_def"]["serving_default"]
    assert sig["method_name"] == "tensorflow/serving/predict"
    assert sig["inputs"]["x"]["dtype"] == "DT_FLOAT"
    assert [d["size"] for d in sig["inputs"]["x"]["tensor_shape"]["dim"]] == ["-1", "4"]
    assert list(sig["outputs"]) == ["probs"]
    assert [d["size"] for d in sig["outputs"]["probs"]["tensor_shape"]["dim"]] == ["-1", "3"]
    vqa = client.get("/v1/models/vqa/metadata").json()["metadata"]["signature_def"]
    inputs = vqa["signature_def"]["serving_default"]["inputs"]
    assert inputs["question"]["dtype"] == "DT_INT32"
    assert [d["size"] for d in inputs["video"]["tensor_shape"]["dim"]] == [
        "-1", "-1", "12", "12", "3"]
    assert client.get("/v1/models/mlp/metadata").json()["model_spec"]["version"] == "2"


@pytest.mark.parametrize("path, version", [
    ("/v1/models/mlp:predict", 2), ("/v1/models/mlp/versions/1:predict", 1),
    ("/v1/models/mlp/labels/stable:predict", 1), ("/v1/models/mlp/labels/canary:predict", 2),
    ("/v1/models/mlp_latest:predict", 2), ("/V1/MODELS/mlp/versions/1:PREDICT", 1)])
def test_predict_row_and_columnar_equal_model_predict(served, path, version):
    models, _, client = served
    x = rows(5, seed=version)
    expected = models[version].predict(x, verbose=0)
    r = post(client, path, {"instances": x.tolist()})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(np.array(r.json()["predictions"]), expected, rtol=1e-6,
                               atol=1e-6)
    r = post(client, path, {"signature_name": "serving_default", "inputs": x.tolist()})
    np.testing.assert_allclose(np.array(r.json()["outputs"]), expected, rtol=1e-6, atol=1e-6)
    other = models[3 - version].predict(x, verbose=0)
    assert not np.allclose(other, expected)  # the versions really differ


def test_multi_output_row_objects_and_columnar_dict(served):
    models, _, client = served
    x = rows(3)
    scores, value = models["multi"].predict(x, verbose=0)
    preds = post(client, "/v1/models/multi:predict", {"instances": x.tolist()}).json()[
        "predictions"]
    assert len(preds) == 3 and set(preds[0]) == {"scores", "value"}
    np.testing.assert_allclose([p["scores"] for p in preds], scores, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose([p["value"] for p in preds], value, rtol=1e-6, atol=1e-6)
    out = post(client, "/v1/models/multi:predict", {"inputs": x.tolist()}).json()["outputs"]
    np.testing.assert_allclose(out["scores"], scores, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(out["value"], value, rtol=1e-6, atol=1e-6)


def test_video_qa_named_inputs_in_both_formats(served):
    models, _, client = served
    rng = np.random.default_rng(0)
    video = rng.random((2, 3, 12, 12, 3), dtype=np.float32)
    question = np.zeros((2, 6), np.int32)
    question[0, :2], question[1, :5] = [4, 9], [1, 2, 3, 4, 5]
    expected = models["vqa"].predict([video, question], verbose=0)
    instances = [{"video": video[i].tolist(), "question": question[i].tolist()} for i in (0, 1)]
    r = post(client, "/v1/models/vqa:predict", {"instances": instances})
    assert r.status_code == 200, r.text
    np.testing.assert_allclose(r.json()["predictions"], expected, rtol=1e-5, atol=1e-6)
    r = post(client, "/v1/models/vqa:predict",
             {"inputs": {"video": video.tolist(), "question": question.tolist()}})
    np.testing.assert_allclose(r.json()["outputs"], expected, rtol=1e-5, atol=1e-6)
    bad = post(client, "/v1/models/vqa:predict", {"instances": [video[0].tolist()]})
    assert bad.status_code == 400 and "list of objects" in bad.json()["error"]
    bad = post(client, "/v1/models/vqa:predict", {"inputs": {"video": video.tolist()}})
    assert bad.json() == {"error": "Missing named input: question in 'inputs' object."}


@pytest.mark.parametrize("path, body, status, message", [
    ("/v1/models/nope:predict", {"instances": [[1, 2, 3, 4]]}, 404,
     "Servable not found for request: Latest(nope)"),
    ("/v1/models/mlp/versions/9:predict", {"instances": [[1, 2, 3, 4]]}, 404,
     "Servable not found for request: Specific(mlp, 9)"),
    ("/v1/models/mlp/labels/beta:predict", {"instances": [[1, 2, 3, 4]]}, 400,
     "Unrecognized servable version label: beta"),
    ("/v1/models/mlp:predict", b'{"instances": [[1, 2, 3, 4]', 400, "JSON Parse error"),
    ("/v1/models/mlp:predict", b"", 400, "JSON Parse error: The document is empty"),
    ("/v1/models/mlp:predict", b"[1, 2]", 400, "Is not object"),
    ("/v1/models/mlp:predict", {"instances": [[1, 2, 3]]}, 400,
     "Input 'x' expects shape [-1,4]"),
    ("/v1/models/mlp:predict", {"instances": [[1, 2, 3, 4], [1, 2]]}, 400, "unequal sizes"),
    ("/v1/models/mlp:predict", {"instances": [["a", "b", "c", "d"]]}, 400,
     "is not of expected type: float32"),
    ("/v1/models/mlp:predict", {"instances": []}, 400, "No values in 'instances' array"),
    ("/v1/models/mlp:predict", {"rows": [[1, 2, 3, 4]]}, 400,
     "Missing 'inputs' or 'instances' key"),
    ("/v1/models/mlp:predict", {"instances": [[1] * 4], "inputs": [[1] * 4]}, 400,
     "expecting only one of 'inputs' or 'instances'"),
    ("/v1/models/mlp:predict", {"signature_name": "train", "inputs": [[1] * 4]}, 400,
     'Serving signature name: "train" not found in signature def'),
    ("/v1/models/mlp:predict", {"inputs": [[1e39, 0, 0, 0]]}, 400, "loss of precision"),
    ("/v1/models/mlp:classify", {"examples": []}, 501, "predict` only"),
    ("/v1/models/mlp:explain", {}, 400, "Malformed request: POST /v1/models/mlp:explain"),
])
def test_errors_answer_json_with_tf_serving_status(served, path, body, status, message):
    _, _, client = served
    r = post(client, path, body)
    assert r.status_code == status, r.text
    assert message in r.json()["error"]


def test_status_errors(served):
    _, _, client = served
    r = client.get("/v1/models/nope")
    assert r.status_code == 404
    assert r.json() == {"error": "Could not find any versions of model nope"}
    r = client.get("/v1/models/mlp/versions/5")
    assert (r.status_code, r.json()["error"]) == (404, "Could not find version 5 of model mlp")
    assert client.get("/v1/models").json() == {"error": "Missing model name in request."}
    assert client.get("/v1/models/nope/metadata").status_code == 404


def test_nan_and_infinity_literals_are_accepted_and_written_back(served):
    _, _, client = served
    r = post(client, "/v1/models/mlp:predict",
             b'{"inputs": [[NaN, 1, 2, 3], [-Infinity, 0, 0, 0]]}')
    assert r.status_code == 200, r.text
    assert "NaN" in r.text
    assert np.isnan(np.array(r.json()["outputs"])[0]).all()


def test_integer_input_rejects_floats_and_accepts_ints(served):
    _, _, client = served
    video = np.zeros((1, 1, 12, 12, 3)).tolist()
    r = post(client, "/v1/models/vqa:predict",
             {"inputs": {"video": video, "question": [[1.5, 0, 0, 0, 0, 0]]}})
    assert r.status_code == 400 and "not of expected type: int32" in r.json()["error"]
    r = post(client, "/v1/models/vqa:predict",
             {"inputs": {"video": video, "question": [[1, 0, 0, 0, 0, 0]]}})
    assert r.status_code == 200


def test_two_versions_answer_concurrently_from_many_threads(served):
    models, _, client = served
    x = rows(4, seed=9)
    expected = {v: models[v].predict(x, verbose=0) for v in (1, 2)}
    failures = []

    def work(v):
        import httpx
        with httpx.Client(base_url=client.base_url, timeout=30) as c:
            for _ in range(5):
                r = c.post(f"/v1/models/mlp/versions/{v}:predict",
                           content=json.dumps({"instances": x.tolist()}))
                got = np.array(r.json()["predictions"])
                if not np.allclose(got, expected[v], rtol=1e-6, atol=1e-6):
                    failures.append(v)

    threads = [threading.Thread(target=work, args=(1 + i % 2,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def test_kserve_v2_infer_metadata_and_health(served):
    models, _, client = served
    x = rows(2)
    r = client.post("/v2/models/mlp/versions/1/infer", json={"id": "q1", "inputs": [
        {"name": "x", "shape": [2, 4], "datatype": "FP32", "data": x.ravel().tolist()}]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["model_name"], body["model_version"], body["id"]) == ("mlp", "1", "q1")
    (out,) = body["outputs"]
    assert (out["name"], out["datatype"], out["shape"]) == ("probs", "FP32", [2, 3])
    np.testing.assert_allclose(np.reshape(out["data"], (2, 3)), models[1].predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)
    meta = client.get("/v2/models/mlp").json()
    assert meta["inputs"] == [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}]
    assert sorted(meta["versions"]) == ["1", "2"]
    assert client.get("/v2/models/mlp/ready").status_code == 200
    assert client.get("/v2/models/nope/ready").status_code == 404
    assert client.get("/v2/health/live").status_code == 200
    assert client.get("/v2/health/ready").status_code == 200
    r = client.post("/v2/models/mlp/infer", json={"inputs": [
        {"name": "x", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3, 4]}]})
    assert r.status_code == 400 and "expects datatype FP32" in r.json()["error"]
    r = client.post("/v2/models/mlp/infer", json={"inputs": [
        {"name": "x", "shape": [2, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]})
    assert r.status_code == 400 and "do not fill shape" in r.json()["error"]


def test_prometheus_metrics_count_requests(served):
    _, _, client = served
    post(client, "/v1/models/mlp:predict", {"instances": rows(1).tolist()})
    post(client, "/v1/models/nobody:predict", {"instances": rows(1).tolist()})
    r = client.get("/monitoring/prometheus/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'kerasish_serving_requests_total{api="predict",model="mlp",status="200"}' in text
    assert 'kerasish_serving_requests_total{api="predict",model="nobody",status="404"} 1.0' in text
    assert 'kerasish_serving_request_latency_seconds_bucket{api="predict"' in text
    assert 'kerasish_serving_model_loads_total{model="mlp",outcome="ok"} 2.0' in text


def test_answers_do_not_wait_for_delayed_acks(served):
    # With Nagle's algorithm on, each answer waited ~40 ms for the client's delayed ACK.
    import time
    _, _, client = served
    times = []
    for _ in range(10):
        start = time.perf_counter()
        client.get("/v1/models/mlp")
        times.append(time.perf_counter() - start)
    assert sorted(times)[5] < 0.025, times
