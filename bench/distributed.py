"""Data-parallel steps of W1-W3 (shared/bench/ref_models.md) at 1 and 2 MPI ranks: the step
time, and the bytes and time of the gradient all-reduce per step, next to a plain mpi4py
``Allreduce`` of one buffer of the same size.

    python bench/distributed.py [--ranks 1 2] [--workloads mlp cnn lstm] [--steps N]
        [--warmup N]

Each rank count runs as ``mpiexec -n R python -m mpi4py bench/distributed.py --worker``; the
global batch is the spec's (128, 100, 64), each rank trains its half with ``train_on_batch``
under ``DataParallel`` (gradients averaged in the optimizer step). BLAS threads per rank =
cores // ranks (``--threads``). "wait" is a barrier timed before each all-reduce (the skew
between the ranks); "all-reduce" is the rest: packing into buckets, MPI, unpacking. Needs
the ``distributed`` extra (mpi4py, mpich); no torch.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TITLES = {"mlp": "W1 MLP", "cnn": "W2 CNN", "lstm": "W3 LSTM"}


def _median_ms(values):
    return 1e3 * statistics.median(values)


def plain_allreduce(comm, nbytes, reps):
    """Median seconds of one mpi4py Allreduce (in place, float32) of ``nbytes``, started
    together (after a barrier), so unlike ours it includes no wait for a slower rank."""
    import numpy as np
    from mpi4py import MPI

    buffer = np.ones(max(nbytes // 4, 1), np.float32)
    times = []
    for _ in range(reps + 2):
        comm.Barrier()
        start = time.perf_counter()
        comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        times.append(time.perf_counter() - start)
    return statistics.median(times[2:])


def worker(args):
    import kerasish as keras
    from bench import workloads
    from kerasish.distribution import hooks

    keras.distribution.initialize()
    dist = keras.distribution.DataParallel()
    comm = dist.comm
    comm.measure_wait = True  # a barrier before each all-reduce times the wait for the other
    rows = []
    for key in args.workloads:
        spec = workloads.WORKLOADS[key]
        data = spec.data()
        model, _ = spec.ours(data, "cpu")
        keras.distribution.set_distribution(dist)
        hooks.on_fit_begin(model)  # rank 0's weights everywhere, as fit does
        x = data["x"].astype("int32") if key == "lstm" else data["x"]
        y = data["y"] if key == "lstm" else data["y"].astype("int32")
        lo = comm.rank * len(x) // comm.size
        hi = (comm.rank + 1) * len(x) // comm.size
        xl, yl = x[lo:hi], y[lo:hi]
        steps, comm_s, wire_s, wait_s, comm_bytes, calls = [], [], [], [], [], []
        for i in range(args.warmup + args.steps):
            comm.reset_stats()
            comm.barrier()
            start = time.perf_counter()
            float(model.train_on_batch(xl, yl))
            elapsed = time.perf_counter() - start
            if i >= args.warmup:
                steps.append(elapsed)
                comm_s.append(comm.stats["seconds"])
                wire_s.append(comm.stats["wire_seconds"])
                wait_s.append(comm.stats["wait_seconds"])
                comm_bytes.append(comm.stats["bytes"])
                calls.append(comm.stats["calls"])
        keras.distribution.set_distribution(None)
        plain = plain_allreduce(comm.comm, comm_bytes[-1], reps=max(args.steps, 5))
        rows.append({"key": key, "ranks": comm.size, "batch": len(x), "local": len(xl),
                     "step_ms": _median_ms(steps), "min_ms": 1e3 * min(steps),
                     # the barrier's wait is inside "seconds" but not "wire_seconds"
                     "ar_ms": _median_ms([c - w for c, w in zip(comm_s, wait_s)]),
                     "wire_ms": _median_ms(wire_s), "wait_ms": _median_ms(wait_s),
                     "mb": comm_bytes[-1] / 2 ** 20, "calls": calls[-1], "plain_ms": 1e3 * plain})
    if comm.rank == 0:
        print("RESULT " + json.dumps(rows), flush=True)


def launch(ranks, args):
    mpiexec = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or \
        shutil.which("mpiexec")
    if mpiexec is None:
        raise SystemExit("mpiexec not found: pip install -e .[distributed]")
    threads = str(args.threads or max(1, (os.cpu_count() or 1) // ranks))
    env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads,
               PYTHONPATH=str(ROOT))
    command = [mpiexec, "-n", str(ranks), sys.executable, "-m", "mpi4py", __file__, "--worker",
               "--steps", str(args.steps), "--warmup", str(args.warmup),
               "--workloads", *args.workloads]
    done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if done.returncode != 0 or line is None:
        raise SystemExit(f"{ranks}-rank run failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return json.loads(line[len("RESULT "):]), threads


def versions():
    from mpi4py import MPI
    import mpi4py

    return f"mpi4py {mpi4py.__version__}, {MPI.Get_library_version().splitlines()[0].strip()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workloads", nargs="+", default=list(TITLES), choices=list(TITLES))
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None,
                        help="BLAS threads per rank (default: cores // ranks)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    load = os.getloadavg()[0]
    print(f"{versions()}; {os.cpu_count()} cores, load average {load:.1f}; "
          f"{args.warmup} warm-up + {args.steps} timed steps (median)")
    print("| workload | ranks | BLAS thr/rank | local batch | step ms (min) | wait for the "
          "other rank ms | all-reduce ms/step (of which MPI) | MB/step | calls/step | our GB/s "
          "| plain Allreduce ms | plain GB/s |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for ranks in args.ranks:
        rows, threads = launch(ranks, args)
        for r in rows:
            # GB/s of the bytes summed per step; one rank sends nothing (packing only)
            ours = f"{r['mb'] / 1024 / (r['ar_ms'] / 1e3):.2f}" if ranks > 1 else "-"
            plain = f"{r['mb'] / 1024 / (r['plain_ms'] / 1e3):.2f}" if ranks > 1 else "-"
            print(f"| {TITLES[r['key']]} | {r['ranks']} | {threads} | {r['local']} of "
                  f"{r['batch']} | {r['step_ms']:.1f} ({r['min_ms']:.1f}) | {r['wait_ms']:.2f} | "
                  f"{r['ar_ms']:.2f} ({r['wire_ms']:.2f}) | {r['mb']:.2f} | {r['calls']} | "
                  f"{ours} | {r['plain_ms']:.2f} | {plain} |")


if __name__ == "__main__":
    main()
