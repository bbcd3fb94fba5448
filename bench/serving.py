"""Load test of the model server with wrk (Debian's package) on loopback.

For the MLP (W1's architecture) and the CNN (W2's), one instance per request: requests/s and
p50/p99 latency at 1, 8 and 64 connections, batching off and on; an overload run (256
connections) with batching off (the queue is unbounded: latency grows) and on with a short
queue (503s, latency stays bounded); and the same model called directly, without HTTP, as the
ceiling (batch 1, and batch 32 in rows/s).

    apt-get install -y wrk      # this script installs nothing
    python bench/serving.py [--models mlp cnn] [--duration 5]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
BATCHING = """max_batch_size { value: %d }
batch_timeout_micros { value: %d }
max_enqueued_batches { value: %d }
num_batch_threads { value: 1 }
"""


def build(name):
    import kerasish as keras

    L = keras.layers
    keras.utils.set_random_seed(0)
    if name == "mlp":
        return keras.Sequential([keras.Input((784,), name="x"), L.Dense(512, activation="relu"),
                                 L.Dense(512, activation="relu"), L.Dense(10)])
    return keras.Sequential([
        keras.Input((28, 28, 1), name="x"),
        L.Conv2D(32, 5, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(64, 5, padding="same", activation="relu"), L.MaxPooling2D(2),
        L.Flatten(), L.Dense(1024, activation="relu"), L.Dense(10)])


def instance(name):
    shape = (784,) if name == "mlp" else (28, 28, 1)
    return np.random.default_rng(0).random(shape, dtype=np.float32)


def direct(model, x, batch, seconds=3.0):
    """The ceiling: the server's own predict path, called in a loop without HTTP."""
    from kerasish.serving.signature import Signature

    sig = Signature(model)
    arrays = sig.coerce({"x": np.repeat(x[None], batch, axis=0)})
    sig.predict(arrays)
    times, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end:
        t = time.perf_counter()
        sig.predict(arrays)
        times.append(time.perf_counter() - t)
    times = np.array(times)
    return {"rps": batch * len(times) / times.sum(), "p50": np.percentile(times, 50) * 1e3,
            "p99": np.percentile(times, 99) * 1e3, "errors": 0}


def start_server(base, batching_file=None):
    args = [sys.executable, "-m", "kerasish.serving", "--rest_api_port=0", "--model_name=m",
            f"--model_base_path={base}", "--file_system_poll_wait_seconds=0"]
    if batching_file:
        args += ["--enable_batching", f"--batching_parameters_file={batching_file}"]
    proc = subprocess.Popen(args, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=dict(os.environ, PYTHONUNBUFFERED="1"))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        if "Serving m on " in line:
            subprocess.Popen(["cat"], stdin=proc.stderr, stdout=subprocess.DEVNULL)  # drain
            return proc, line.strip().rsplit(" ", 1)[-1]
    proc.kill()
    raise RuntimeError("the server did not start")


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}


def _ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * _UNITS[unit]


def wrk(url, script, connections, seconds):
    threads = max(1, min(2, connections))
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s",
                          "--latency", "--timeout", "10s", "-s", script,
                          f"{url}/v1/models/m:predict"],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": rps, "p50": p50, "p99": p99, "errors": int(errors.group(1)) if errors else 0,
            "total": total}


def row(model, mode, conns, r):
    errors = f"{r['errors']}/{r['total']}" if "total" in r else "-"
    return (f"| {model} | {mode} | {conns} | {r['rps']:,.0f} | {r['p50']:.2f} | "
            f"{r['p99']:.2f} | {errors} |")


def run_model(name, work, duration, print_row):
    model = build(name)
    x = instance(name)
    print_row(row(name, "direct, batch 1 (no HTTP)", "-", direct(model, x, 1)))
    print_row(row(name, "direct, batch 32 (no HTTP), rows/s", "-", direct(model, x, 32)))
    base = os.path.join(work, name)
    os.makedirs(os.path.join(base, "1"))
    model.save(os.path.join(base, "1", "model.keras"))
    script = os.path.join(work, f"{name}.lua")
    body = '{"instances": [%s]}' % ",".join(
        ["[" + ",".join(f"{v:.6g}" for v in x.ravel()) + "]" if name == "mlp" else
         str(x.tolist())])
    with open(script, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                f"wrk.body = [==[{body}]==]\n")
    configs = [("batching off", None, (1, 8, 64, 256)),
               ("batching on (32, 2 ms)", (32, 2000, 100), (1, 8, 64)),
               ("batching on, short queue (8, 2 ms, 2 batches)", (8, 2000, 2), (256,))]
    for mode, params, connections in configs:
        batching_file = None
        if params:
            batching_file = os.path.join(work, f"{name}-{params[0]}-{params[2]}.config")
            with open(batching_file, "w") as f:
                f.write(BATCHING % params)
        proc, url = start_server(base, batching_file)
        try:
            subprocess.run(["wrk", "-t1", "-c1", "-d1s", "-s", script,
                            f"{url}/v1/models/m:predict"], capture_output=True, check=True)
            for c in connections:
                label = mode + (" (overload)" if c == 256 else "")
                print_row(row(name, label, c, wrk(url, script, c, duration)))
        finally:
            proc.terminate()
            proc.wait(30)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", nargs="+", default=["mlp", "cnn"], choices=["mlp", "cnn"])
    p.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    p.add_argument("--blas-threads", default="1",
                   help="OPENBLAS_NUM_THREADS for the server and the ceiling (default 1: the "
                   "server runs requests in several threads; 'env' keeps the environment's)")
    args = p.parse_args(argv)
    if args.blas_threads != "env" and os.environ.get("OPENBLAS_NUM_THREADS") != args.blas_threads:
        # OpenBLAS reads it once, when NumPy loads: run again with it set.
        env = dict(os.environ, OPENBLAS_NUM_THREADS=args.blas_threads)
        os.execve(sys.executable, [sys.executable, os.path.abspath(__file__)] + sys.argv[1:], env)
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    print(f"# kerasish model server on loopback, {os.cpu_count()} CPUs, wrk {args.duration} s "
          "per run, one instance per request; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}; load average before: "
          f"{os.getloadavg()[0]:.2f}\n")
    print("| model | mode | connections | req/s | p50 ms | p99 ms | non-2xx/total |")
    print("| --- | --- | --- | --- | --- | --- | --- |")

    def print_row(line):
        print(line, flush=True)

    with tempfile.TemporaryDirectory() as work:
        for name in args.models:
            run_model(name, work, args.duration, print_row)
    print(f"\nload average after: {os.getloadavg()[0]:.2f} (above the CPU count: other processes "
          "took cores from the server, wrk and the ceiling; every number is suspect)")


if __name__ == "__main__":
    main()
