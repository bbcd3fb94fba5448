"""bench/run.py's other modes: --profile (per-op), --spin (threads) and --memory (peak RSS)."""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench import workloads
from bench.common import build_ours, load_line, setup_torch, sync_fn, time_sides, vars_line
from bench.profile import OpProfiler

RUN = Path(__file__).resolve().parent / "run.py"


SPIN_MARKS_MS = (1, 2, 5, 10, 20, 50, 100, 150, 200, 300)


def _cpu_after(fn, reps=5):
    """Process CPU ms (all threads) used at each mark after ``fn`` returns, main thread idle."""
    total = [0.0] * len(SPIN_MARKS_MS)
    for _ in range(reps):
        fn()
        c0, t0 = time.process_time(), time.perf_counter()
        for i, ms in enumerate(SPIN_MARKS_MS):
            while time.perf_counter() - t0 < ms / 1e3:
                time.sleep(0.0005)
            total[i] += 1e3 * (time.process_time() - c0) / reps
    return total


def spin_table(keys, args):
    """How long each side's worker threads keep spinning after a step (chooses ``--gap``).

    CPU time growing ~1 ms per ms while our main thread sleeps = one worker busy-waiting; the
    other framework's step, started then, would share a core with it.
    """
    torch = setup_torch(args.device)
    rng = np.random.default_rng(0)
    a = rng.random((1024, 1024), dtype=np.float32)
    ta = torch.from_numpy(a)
    print(f"== CPU ms used by the process, at each time after the call (main thread asleep); "
          f"{vars_line()}; {load_line()}")
    print(f"{'after':<32}" + "".join(f"{m:>6}" for m in SPIN_MARKS_MS) + "  ms")
    fns = [("numpy 1024^2 matmul", lambda: a @ a), ("torch 1024^2 matmul", lambda: ta @ ta)]
    for key in keys:
        w = workloads.WORKLOADS[key]
        data = w.data()
        model, ours = build_ours(w, data, args)
        fns += [(f"{w.title} kerasish step", ours),
                (f"{w.title} torch step", w.torch(data, model, args.device, "nchw"))]
    for name, fn in fns:
        fn()
        print(f"{name:<32}" + "".join(f"{c:>6.1f}" for c in _cpu_after(fn)), flush=True)


def profile_workload(w, args):
    _, ours = build_ours(w, w.data(), args)
    warmup = w.warmup if args.warmup is None else args.warmup
    steps = w.steps if args.steps is None else args.steps
    for _ in range(max(warmup, 1)):
        ours()
    plain, _ = time_sides([("ours", ours)], 0, steps, "step", 0)
    with OpProfiler(sync=sync_fn(args.device)) as prof:
        for _ in range(steps):
            prof.step(ours)
    med = statistics.median(plain["ours"]) * 1e3
    print(f"\n== profile: {w.title} (kerasish), {steps} steps after {warmup} warm-up; "
          f"unprofiled median {med:.1f} ms/step; {vars_line()}")
    print(prof.table(top=args.top), flush=True)


def _rss_kib(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def memory_side(w, side, args):
    """In a fresh process: build, reset the RSS high-water mark, run warm-up + timed steps.

    ``before`` (VmRSS after the build) holds the libraries, weights and data; ``peak - before``
    what the steps add: gradients, optimizer slots, activations, allocator caches.
    """
    data = w.data()
    if side == "ours":
        _, fn = build_ours(w, data, args)
    else:
        setup_torch(args.device)
        fn = w.torch(data, None, args.device, side)
    before = _rss_kib("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
    for _ in range(max(w.warmup if args.warmup is None else args.warmup, 1)):
        fn()
    peak_warmup = _rss_kib("VmHWM")
    # NOTE: the timed steps alone too: kerasish's first steps of a shape run eagerly (trace and
    # check of the compiled step); later ones replay the plan.
    Path("/proc/self/clear_refs").write_text("5")
    for _ in range(w.steps if args.steps is None else args.steps):
        fn()
    timed = _rss_kib("VmHWM")
    print(json.dumps({"before": before, "peak": max(peak_warmup, timed), "timed": timed}))


def memory_table(keys, args):
    print(f"== peak RSS (VmHWM) over warm-up + timed steps, one fresh process per side; "
          f"{vars_line()}")
    print(f"{'workload':<26}{'side':>15}{'peak MiB':>10}{'steps MiB':>11}{'peak ratio':>12}"
          f"{'steps ratio':>13}{'timed MiB':>11}{'timed ratio':>13}")
    for key in keys:
        w = workloads.WORKLOADS[key]
        res = {}
        sides = ["ours", "nchw"] + (["channels_last"] if key == "inception" else [])
        for side in sides:
            cmd = [sys.executable, str(RUN), key, "--_memory-side", side,
                   "--device", args.device]
            cmd += [f"--steps={args.steps}"] if args.steps is not None else []
            cmd += [f"--warmup={args.warmup}"] if args.warmup is not None else []
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            res[side] = json.loads(out.strip().splitlines()[-1])
        o = res["ours"]
        o_step, o_timed = o["peak"] - o["before"], o["timed"] - o["before"]
        for side in sides:
            r = res[side]
            step, timed = r["peak"] - r["before"], r["timed"] - r["before"]
            ratios = f"{'':>12}{'':>13}{timed / 1024:>11.0f}" if side == "ours" else (
                f"{o['peak'] / r['peak']:>12.2f}{o_step / max(step, 1):>13.2f}"
                f"{timed / 1024:>11.0f}{o_timed / max(timed, 1):>13.2f}")
            name = {"ours": "kerasish", "nchw": "torch", "channels_last": "torch NHWC"}[side]
            print(f"{w.title:<26}{name:>15}{r['peak'] / 1024:>10.0f}{step / 1024:>11.0f}"
                  f"{ratios}", flush=True)
    print("peak = VmHWM over the steps (whole process: libraries, weights, data included); "
          "steps = peak - VmRSS after the build; timed = the same over the timed steps only "
          "(after warm-up); ratios = kerasish / torch")
