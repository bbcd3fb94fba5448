"""The command line (TF Serving's flag names) and the text-proto config files."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from kerasish.serving import cli, textproto

from .helpers import mlp, rows, save_version


def test_text_proto_parser_reads_nested_messages_lists_and_comments():
    parsed = textproto.parse('a: 1 b { c: "x\\ty" d: [1, 2] } # note\n e: true f: ENUM g: 1.5e3 '
                             "h < i: 'q' > j: -2")
    assert parsed == {"a": [1], "b": [{"c": ["x\ty"], "d": [1, 2]}], "e": [True],
                      "f": ["ENUM"], "g": [1500.0], "h": [{"i": ["q"]}], "j": [-2]}
    with pytest.raises(ValueError, match="line 2"):
        textproto.parse("a: 1\n b: @")
    with pytest.raises(ValueError, match="Missing '}'"):
        textproto.parse("a { b: 1")


def test_model_config_list_policies_and_labels():
    models = textproto.model_config_list("""
        model_config_list {
          config { name: 'a' base_path: '/x' model_platform: "tensorflow"
                   model_version_policy { specific { versions: 42 versions: 7 } }
                   version_labels { key: 'stable' value: 7 }
                   version_labels { key: 'canary' value: 42 } }
          config { name: 'b' base_path: '/y' model_version_policy { all {} } }
          config { name: 'c' base_path: '/z' model_version_policy { latest { num_versions: 2 } } }
          config: { name: 'd', base_path: '/w' }
        }""")
    assert [(m["name"], m["policy"]) for m in models] == [
        ("a", ("specific", (7, 42))), ("b", ("all", None)), ("c", ("latest", 2)),
        ("d", ("latest", 1))]
    assert models[0]["labels"] == {"stable": 7, "canary": 42}
    with pytest.raises(ValueError, match="unique"):
        textproto.model_config_list("model_config_list { config { name: 'a' base_path: '/x' } "
                                    "config { name: 'a' base_path: '/y' } }")
    with pytest.raises(ValueError, match="needs a `name` and a `base_path`"):
        textproto.model_config_list("model_config_list { config { name: 'a' } }")
    with pytest.raises(ValueError, match="must hold a `model_config_list"):
        textproto.model_config_list("config { name: 'a' }")


def test_batching_parameters_file():
    params = textproto.batching_parameters("""
        max_batch_size { value: 128 }
        batch_timeout_micros { value: 0 }
        max_enqueued_batches { value: 1000000 }
        num_batch_threads { value: 8 }
        allowed_batch_sizes: 32
        allowed_batch_sizes: 128
    """)
    assert params == {"max_batch_size": 128, "batch_timeout_micros": 0,
                      "max_enqueued_batches": 1000000, "num_batch_threads": 8,
                      "allowed_batch_sizes": [32, 128]}


def test_flags_as_tensorflow_model_server_spells_them(tmp_path):
    config = tmp_path / "models.config"
    config.write_text("model_config_list { config { name: 'm' base_path: '/m' } }")
    batching = tmp_path / "batching.config"
    batching.write_text("max_batch_size { value: 16 } batch_timeout_micros { value: 500 }")
    opts = cli.options([f"--model_config_file={config}", "--rest_api_port=9000",
                        "--enable_batching=true", f"--batching_parameters_file={batching}",
                        "--file_system_poll_wait_seconds=0.5", "--port=8500"])
    assert opts == {"models": [{"name": "m", "base_path": "/m", "policy": ("latest", 1),
                                "labels": {}}],
                    "host": "127.0.0.1", "port": 9000, "poll_seconds": 0.5,
                    "batching": {"max_batch_size": 16, "batch_timeout_micros": 500}}
    opts = cli.options(["--model_name", "m", "--model_base_path", "/m", "--enable_batching"])
    assert opts["batching"] == {} and opts["models"] == [{"name": "m", "base_path": "/m"}]
    for bad in ([], ["--model_base_path=/m", f"--model_config_file={config}"],
                ["--model_base_path=/m", f"--batching_parameters_file={batching}"],
                ["--model_base_path=/m", "--enable_batching=maybe"]):
        with pytest.raises(SystemExit):
            cli.options(bad)
    assert cli.console_main(["predict"]) == 2


def test_python_m_kerasish_serving_serves_a_repository(tmp_path):
    import httpx

    model = mlp(5)
    save_version(model, str(tmp_path / "m"), 3)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kerasish.serving", "--rest_api_port=0", "--model_name=m",
         f"--model_base_path={tmp_path / 'm'}", "--file_system_poll_wait_seconds=0"],
        stderr=subprocess.PIPE, text=True, env=env)
    try:
        url, deadline = None, time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            if "Serving m on " in line:
                url = line.strip().rsplit(" ", 1)[-1]
        assert url and url.startswith("http://127.0.0.1:"), "the server did not start"
        x = rows(2)
        r = httpx.post(f"{url}/v1/models/m:predict", json={"instances": x.tolist()}, timeout=30)
        np.testing.assert_allclose(r.json()["predictions"], model.predict(x, verbose=0),
                                   rtol=1e-6, atol=1e-6)
        assert httpx.get(f"{url}/v1/models/m").json()["model_version_status"][0][
            "version"] == "3"
    finally:
        proc.terminate()
        proc.wait(30)
        proc.stderr.close()
