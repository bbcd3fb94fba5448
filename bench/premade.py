"""The talk's linear regressor (square_foot, num_rooms, zip_code of N categories) through
``keras.experimental.LinearModel``: the dense path (``CategoryEncoding(sparse=False)``, a
``(batch, N)`` one-hot matrix per step) against the sparse one (``sparse=True``: a gather-and-sum
of the kernel's rows, docs/sparse.md). Steps/s, and the peak memory of the run (tracemalloc,
which sees NumPy's buffers: data, weights, optimizer state and steps), each case in a fresh
process. The sparse path's peak grows only by kernel-sized arrays (kernel, its gradient, the
optimizer's copy), never by ``batch * N``.

    python bench/premade.py [--categories 1000 100000] [--batch 256] [--steps 20]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _model(num_zip, sparse):
    import kerasish as keras
    from kerasish import layers
    from kerasish.experimental import LinearModel

    square_foot = keras.Input((1,), name="square_foot")
    num_rooms = keras.Input((1,), name="num_rooms")
    zip_code = keras.Input((1,), name="zip_code", dtype="int64")
    zip_one_hot = layers.CategoryEncoding(num_zip, output_mode="one_hot",
                                          sparse=sparse)(zip_code)
    output = LinearModel()([square_foot, num_rooms, zip_one_hot])
    model = keras.Model({"square_foot": square_foot, "num_rooms": num_rooms,
                         "zip_code": zip_code}, output)
    model.compile(keras.optimizers.SGD(1e-3), "mse")
    return model


def run_case(num_zip, sparse, batch, steps):
    """One case in this process: {steps_per_s, peak_mb, kernel_mb}."""
    # NOTE: traced from the start: a compiled step keeps its buffers from the first step on,
    # so the peak of the whole run (data, weights, optimizer, steps) is what a step costs.
    tracemalloc.start()
    rng = np.random.default_rng(0)
    x = {"square_foot": rng.uniform(0, 1, (batch, 1)).astype("float32"),
         "num_rooms": rng.integers(1, 6, (batch, 1)).astype("float32"),
         "zip_code": rng.integers(0, num_zip, (batch, 1))}
    y = rng.standard_normal((batch, 1)).astype("float32")
    model = _model(num_zip, sparse)
    for _ in range(2):  # warm up: builds the weights and the optimizer's state
        model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"steps_per_s": steps / elapsed, "peak_mb": peak / 2 ** 20,
            "kernel_mb": num_zip * 4 / 2 ** 20}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--categories", type=int, nargs="+", default=[1_000, 100_000])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--case", help=argparse.SUPPRESS)  # "N,sparse": run one case, print it
    args = parser.parse_args()
    if args.case:
        num_zip, sparse = args.case.split(",")
        print(json.dumps(run_case(int(num_zip), sparse == "1", args.batch, args.steps)))
        return
    print(f"LinearModel regressor, batch {args.batch}, {args.steps} timed steps, "
          "one fresh process per case")
    print(f"{'categories':>10} {'path':>6} {'steps/s':>9} {'peak MB':>9} "
          f"{'kernel MB':>10}")
    for num_zip in args.categories:
        for sparse in (False, True):
            out = subprocess.run(
                [sys.executable, __file__, "--case", f"{num_zip},{int(sparse)}",
                 "--batch", str(args.batch), "--steps", str(args.steps)],
                capture_output=True, text=True, check=True, cwd=ROOT,
                env={**os.environ, "PYTHONPATH": ROOT})
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{num_zip:>10} {'sparse' if sparse else 'dense':>6} "
                  f"{r['steps_per_s']:>9.1f} {r['peak_mb']:>9.2f} {r['kernel_mb']:>10.3f}")


if __name__ == "__main__":
    main()
