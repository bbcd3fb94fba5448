"""What bench/run.py's modes share: environment lines, device sync, building, timing."""
from __future__ import annotations

import os
import time

from bench import workloads

BLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def blas_line():
    """threadpoolctl's view of the BLAS NumPy runs (the kernel OpenBLAS picked: arch)."""
    try:
        import threadpoolctl
    except ImportError:
        return "BLAS: (pip install threadpoolctl to see the runtime kernel and threads)"
    from engine import onednn

    provider = onednn.describe()  # NOTE: loads libdnnl (and its libgomp) before the pools are read
    parts = []
    for p in threadpoolctl.threadpool_info():
        fields = [p.get("internal_api"), p.get("version"), p.get("architecture") and
                  f"arch={p['architecture']}", f"threads={p.get('num_threads')}"]
        parts.append(" ".join(str(f) for f in fields if f))
    return ("BLAS/OpenMP pools: " + ("; ".join(parts) or "none loaded")
            + f"\nCPU kernel provider (conv, pooling, batch norm): {provider}")


def vars_line():
    return " ".join(f"{v}={os.environ.get(v, 'unset')}" for v in BLAS_VARS)


def load_line():
    """The 1-minute load average: above the core count, timings are polluted by others."""
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    warn = " (busy machine: timings unreliable)" if load > cores + 1 else ""
    return f"load average {load:.1f} on {cores} cores{warn}"


def sync_fn(device):
    if device != "gpu":
        return None
    import cupy

    return lambda: cupy.cuda.Device().synchronize()


def setup_torch(device):
    import torch

    torch.set_num_threads(2)
    if device == "gpu":  # the spec is float32: no TF32 in torch's matmuls and convolutions
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
    return torch


def build_ours(w, data, args):
    if w.key == "inception":
        return workloads.ours_inception(data, args.device, args.inception)
    return w.ours(data, args.device)


def time_sides(sides, warmup, steps, schedule, gap):
    """Warm-up, then ``steps`` timed steps of every side; returns (times, first outputs).

    ``step``: one step of each side in turn, each after ``gap`` seconds of sleep (untimed),
    so that the other side's spinning worker threads have gone idle (see ``spin_table``).
    ``block``: all steps of one side, then the next (also with the sleeps).
    """
    firsts = {}
    for i in range(max(warmup, 1)):
        for name, fn in sides:
            out = fn()
            firsts.setdefault(name, out)
    times = {name: [] for name, _ in sides}

    def one(name, fn):
        if gap:
            time.sleep(gap)
        start = time.perf_counter()
        fn()
        times[name].append(time.perf_counter() - start)

    if schedule == "step":
        for _ in range(steps):
            for name, fn in sides:
                one(name, fn)
    else:
        for name, fn in sides:
            for _ in range(steps):
                one(name, fn)
    return times, firsts
