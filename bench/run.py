"""Reference workloads W1-W7 (shared/bench/ref_models.md): kerasish against PyTorch.

    python bench/run.py mlp|cnn|lstm|inception|videoqa|resnet50|mobilenet|W1..W7|all
        [--steps N] [--warmup N]
        [--profile] [--memory] [--spin] [--device cpu|gpu] [--openblas both|env|unset]
        [--schedule step|block] [--gap MS] [--inception auto|builtin|applications]

Per workload: both sides are built in this process, warmed up, then timed alternately (see
``--schedule``); prints the median ms/step (min-max) of each, the ratio kerasish/PyTorch, the
fraction of the GEMM ceiling each reaches and samples/s. ``--profile`` prints where our step's
time goes, per engine op class; ``--memory`` the peak RSS of each side's steps (one fresh
subprocess per side); ``--spin`` how long each side's worker threads busy-wait after a step
(what ``--gap`` is for). Needs the ``bench`` extra (torch==2.13.0, threadpoolctl); the modes
live in modes.py, shared helpers in common.py, the workloads in workloads.py.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# NOTE: run as a script, sys.path[0] is bench/, where profile.py would shadow the stdlib's
# `profile` (cProfile imports it): put the checkout root there instead.
if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":
    sys.path[0] = str(ROOT)
elif str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import inception, workloads  # noqa: E402
from bench.common import (BLAS_VARS, blas_line, build_ours, load_line, setup_torch,  # noqa: E402
                          sync_fn, time_sides, vars_line)
from bench.modes import memory_side, memory_table, profile_workload, spin_table  # noqa: E402

ORDER = ["mlp", "cnn", "lstm", "inception", "videoqa", "resnet50", "mobilenet"]
ALIASES = {f"W{i}": key for i, key in enumerate(ORDER, start=1)}  # W6 = resnet50, ...
# Inference workloads whose torch side also runs in channels-last memory format (a second row).
TWO_LAYOUTS = ("inception", "resnet50")


# -- environment ------------------------------------------------------------------------------

def gemm_rate(device, reps=5):
    """Sustained float32 GEMM GFLOP/s (best of ``reps``) of NumPy, or CuPy on the GPU."""
    if device == "gpu":
        import cupy as xp
        n = 8192
    else:
        xp, n = np, 2048
    sync = sync_fn(device) or (lambda: None)
    rng = np.random.default_rng(1)
    a, b = (xp.asarray(rng.random((n, n), dtype=np.float32)) for _ in range(2))
    a @ b
    best = float("inf")
    for _ in range(reps):
        sync()
        start = time.perf_counter()
        a @ b
        sync()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9, n


def torch_gemm_rate(torch, device, n=2048, reps=5):
    dev = "cuda" if device == "gpu" else "cpu"
    a, b = torch.rand(n, n, device=dev), torch.rand(n, n, device=dev)
    best = float("inf")
    for _ in range(reps + 1):
        start = time.perf_counter()
        (a @ b).sum().item()
        best = min(best, time.perf_counter() - start)
    return 2 * n ** 3 / best / 1e9


# -- timing -----------------------------------------------------------------------------------

def first_step_delta(a, b):
    """Relative difference of the first step's loss (train) or output (inference)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def stats(ts):
    return 1e3 * statistics.median(ts), 1e3 * min(ts), 1e3 * max(ts)


def _fmt_ms(s):
    med, lo, hi = s
    digits = 0 if hi >= 1000 else 1
    return f"{med:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"


HEADER = (f"{'workload':<28}{'kerasish ms (min-max)':>24}{'PyTorch ms (min-max)':>24}"
          f"{'ratio':>7}{'(min)':>7}{'ceil ours':>10}{'torch':>7}{'smp/s ours':>11}"
          f"{'torch':>8}{'1st-step rel diff':>19}")


def _row(label, w, gflops, so, st, delta):
    """One table line: times, ratios of medians and of minima, ceiling fractions, samples/s."""
    best_s = w.gflop / gflops
    cols = [f"{label:<28}{_fmt_ms(so):>24}{_fmt_ms(st):>24}",
            f"{so[0] / st[0]:>7.2f}{so[1] / st[1]:>7.2f}",
            f"{best_s / (so[0] / 1e3):>10.2f}{best_s / (st[0] / 1e3):>7.2f}",
            f"{w.batch / (so[0] / 1e3):>11.1f}{w.batch / (st[0] / 1e3):>8.1f}",
            f"{delta:>19.1e}"]
    return "".join(cols)


def bench_workload(w, args, gflops):
    data = w.data()
    model, ours = build_ours(w, data, args)
    notes = []
    params = model.count_params()
    if params != w.params:
        notes.append(f"params {params:,} != spec {w.params:,}")
    layouts = ["nchw", "channels_last"] if w.key in TWO_LAYOUTS else ["nchw"]
    sides = [("ours", ours)] + [(lay, w.torch(data, model, args.device, lay)) for lay in layouts]
    warmup = w.warmup if args.warmup is None else args.warmup
    steps = w.steps if args.steps is None else args.steps
    times, firsts = time_sides(sides, warmup, steps, args.schedule, args.gap / 1e3)
    so = stats(times["ours"])
    title = w.title + (" infer" if w.mode == "infer" else " train")
    if w.key == "inception":
        notes.append(f"ours: {inception.last_source}")
    rows = []
    for lay in layouts:
        st = stats(times[lay])
        if len(layouts) > 1:  # W4, W6: torch in NCHW and in channels-last (NHWC) format
            label = title + (" (NCHW)" if lay == "nchw" else " (NHWC)")
        else:
            label = title
        rows.append(_row(label, w, gflops, so, st,
                         first_step_delta(firsts["ours"], firsts[lay])))
    return rows, notes, steps, warmup


def run_table(keys, args):
    torch = setup_torch(args.device)  # NOTE: after main() chose who starts libgomp (--omp)
    print(f"== OpenBLAS {args.openblas_label}: {vars_line()}")
    print(blas_line())
    print(f"libgomp started by {args.omp}'s import"
          + (" (libgomp's defaults)" if args.omp == "torch" else " (the engine's settings)"))
    gflops, n = gemm_rate(args.device)
    print(f"numpy {np.__version__}, torch {torch.__version__} (threads "
          f"{torch.get_num_threads()}), device {args.device}; GEMM ceiling: float32 {n}x{n} "
          f"matmul {gflops:.1f} GFLOP/s (best of 5; torch's: "
          f"{torch_gemm_rate(torch, args.device):.1f})")
    print(f"schedule {args.schedule}, {args.gap:g} ms sleep before each timed step; "
          f"{load_line()}\n")
    print(HEADER)
    print("-" * len(HEADER), flush=True)
    all_notes = []
    for key in keys:
        w = workloads.WORKLOADS[key]
        rows, notes, steps, warmup = bench_workload(w, args, gflops)
        print("\n".join(rows), flush=True)
        all_notes += [f"{w.title}: {warmup} warm-up + {steps} timed steps"
                      + "".join(f"; {n}" for n in notes)]
    print("\n" + "\n".join(all_notes + [f"at the end: {load_line()}"]))


# -- CLI ----------------------------------------------------------------------------------------

def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workload", choices=ORDER + list(ALIASES) + ["all"])
    p.add_argument("--steps", type=int, default=None, help="timed steps (default: the spec's)")
    p.add_argument("--warmup", type=int, default=None, help="warm-up steps (default: spec's)")
    p.add_argument("--profile", action="store_true", help="per-op profile of our steps")
    p.add_argument("--memory", action="store_true", help="peak RSS per side (subprocesses)")
    p.add_argument("--top", type=int, default=25, help="rows of the profile table")
    p.add_argument("--device", choices=["cpu", "gpu"], default="cpu")
    p.add_argument("--openblas", choices=["both", "env", "unset"], default="both",
                   help=f"run with {' and '.join(BLAS_VARS)} as set, removed, or both")
    p.add_argument("--schedule", choices=["step", "block"], default="step")
    p.add_argument("--gap", type=float, default=150.0, help="ms of sleep before a timed step")
    p.add_argument("--spin", action="store_true", help="how long threads spin after a step")
    p.add_argument("--inception", choices=["auto", "builtin", "applications"], default="auto")
    p.add_argument("--omp", choices=["kerasish", "torch"], default="kerasish",
                   help="whose import starts the shared libgomp: the engine's (its OpenMP "
                        "settings, as a kerasish user runs) or torch's (libgomp's defaults, as "
                        "a PyTorch user runs); it applies to both sides")
    p.add_argument("--jit", choices=["auto", "off"], default="auto",
                   help="kerasish's compiled step (compile's jit_compile) or the eager one")
    p.add_argument("--_memory-side", dest="memory_side", default=None, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def _main_here(keys, args):
    if args.memory:
        memory_table(keys, args)
    elif args.spin:
        spin_table(keys, args)
    elif args.profile:
        for key in keys:
            profile_workload(workloads.WORKLOADS[key], args)
    else:
        run_table(keys, args)


def main(argv=None):
    # NOTE: the environment before the engine adds its OpenMP settings: a re-run for the other
    # OpenBLAS setting must start its libgomp as this process did (--omp)
    child_env = {k: v for k, v in os.environ.items() if k not in BLAS_VARS}
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    workloads.JIT_COMPILE = False if args.jit == "off" else "auto"
    keys = ORDER if args.workload == "all" else [ALIASES.get(args.workload, args.workload)]
    if args.memory_side:
        return memory_side(workloads.WORKLOADS[keys[0]], args.memory_side, args)
    # NOTE: one libgomp serves both sides, set up by whichever import starts it: the engine's
    # (OMP_WAIT_POLICY, GOMP_SPINCOUNT from onednn.py) or torch's (libgomp's defaults).
    if args.omp == "kerasish":
        from engine import onednn  # noqa: F401
    if not args.profile and not args.memory or args.spin or args.omp == "torch":
        try:
            import torch  # noqa: F401
        except ImportError:
            sys.exit("bench/run.py needs PyTorch (CPU) to compare against: "
                     "pip install torch==2.13.0 threadpoolctl  (the `bench` extra)")
    is_set = any(v in os.environ for v in BLAS_VARS)
    if args.openblas == "unset" and is_set:  # OpenBLAS reads them at load: re-run without
        return subprocess.run([sys.executable, str(Path(__file__).resolve())] + argv,
                              env=child_env).returncode
    args.openblas_label = "as the environment sets it" if args.openblas != "unset" else \
        "with both variables unset"
    if args.openblas == "both" and not is_set:
        args.openblas_label = "(both variables unset in the environment: one run covers both)"
    _main_here(keys, args)
    if args.openblas == "both" and is_set:
        print(flush=True)
        # the last --openblas wins in argparse; the child sees neither variable
        return subprocess.run([sys.executable, str(Path(__file__).resolve())] + argv
                              + ["--openblas=unset"], env=child_env).returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
