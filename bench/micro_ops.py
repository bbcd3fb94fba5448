"""Micro-benchmark: our engine against PyTorch (CPU) on the CNN and MLP benchmarks' hot ops.

Times forward and forward+backward of conv, matmul and max_pool at the shapes of W1/W2 in
shared/bench/ref_models.md, float32, 2 threads, and prints the median milliseconds of each side
and the ratio ours/torch (< 1: we are faster), plus the largest differences against torch.

    python bench/micro_ops.py [--warmup 3] [--reps 20] [--only conv,matmul,max_pool]

Needs the ``bench`` extra (``pip install torch==2.13.0``).
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

NHWC_TO_NCHW = (0, 3, 1, 2)
HWIO_TO_OIHW = (3, 2, 0, 1)


@dataclasses.dataclass
class Case:
    """One op at one shape; ``perms`` map each input (and the output) to torch's layout."""

    group: str
    label: str
    shapes: Sequence[tuple]
    ours: Callable
    torch: Callable
    perms: Sequence[Optional[tuple]]
    out_perm: Optional[tuple] = None


def _to_torch_layout(a, perm):
    return a if perm is None else np.ascontiguousarray(a.transpose(perm))


def _from_torch_layout(a, perm):
    return a if perm is None else a.transpose(np.argsort(perm))


def build_cases(ops, F):
    def conv_case(x_shape, k_shape):
        n, h, w, cin = x_shape
        kh, kw, _, cout = k_shape
        return Case("conv", f"conv {n}x{h}x{w}x{cin} * {kh}x{kw}x{cin}x{cout} same",
                    [x_shape, k_shape], lambda x, k: ops.conv(x, k, padding="same"),
                    lambda x, k: F.conv2d(x, k, padding="same"),
                    [NHWC_TO_NCHW, HWIO_TO_OIHW], NHWC_TO_NCHW)

    def matmul_case(m, k, n):
        return Case("matmul", f"matmul {m}x{k} @ {k}x{n}", [(m, k), (k, n)], ops.matmul,
                    lambda a, b: a @ b, [None, None])

    return [
        conv_case((100, 28, 28, 1), (5, 5, 1, 32)),
        conv_case((100, 14, 14, 32), (5, 5, 32, 64)),
        matmul_case(100, 3136, 1024),
        matmul_case(128, 784, 512),
        Case("max_pool", "max_pool 2x2 on 100x28x28x32", [(100, 28, 28, 32)],
             lambda x: ops.max_pool(x, 2), lambda x: F.max_pool2d(x, 2),
             [NHWC_TO_NCHW], NHWC_TO_NCHW),
    ]


def median_ms(fn_ours, fn_torch, warmup, reps):
    """Median ms of each side, timed in two blocks, each after its own warm-up.

    NOTE: not interleaved: torch's OpenMP workers keep spinning for a while after each call
    and would slow the NumPy/OpenBLAS call right after it (we measured 7 ms -> 25 ms).
    """
    result = []
    for fn in (fn_ours, fn_torch):
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(reps):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        result.append(1e3 * statistics.median(times))
    return tuple(result)


def run_case(case, engine, torch, warmup, reps):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s, dtype=np.float32) for s in case.shapes]
    t_arrays = [_to_torch_layout(a, p) for a, p in zip(arrays, case.perms)]

    # Forward only: no graph on either side.
    plain = [engine.Tensor(a) for a in arrays]
    t_plain = [torch.from_numpy(a) for a in t_arrays]
    with engine.no_grad(), torch.no_grad():
        y = case.ours(*plain).numpy()
        y_torch = case.torch(*t_plain).numpy()
        fwd_ours, fwd_torch = median_ms(lambda: case.ours(*plain), lambda: case.torch(*t_plain),
                                        warmup, reps)

    # Forward + backward to every input, with one fixed upstream gradient.
    gy = rng.standard_normal(y.shape, dtype=np.float32)
    t_gy = torch.from_numpy(_to_torch_layout(gy, case.out_perm))
    leaves = [engine.Tensor(a, requires_grad=True) for a in arrays]
    t_leaves = [torch.from_numpy(a.copy()).requires_grad_() for a in t_arrays]

    def ours_step():
        return engine.grad(case.ours(*leaves), leaves, grad_outputs=gy)

    def torch_step():
        return torch.autograd.grad(case.torch(*t_leaves), t_leaves, t_gy)

    both_ours, both_torch = median_ms(ours_step, torch_step, warmup, reps)

    dy = np.abs(y - _from_torch_layout(y_torch, case.out_perm)).max()
    # Gradients sum many terms (a conv kernel's over batch x pixels): compare relatively.
    dg = max(np.abs(g.numpy() - ref).max() / np.abs(ref).max()
             for g, ref in ((g, _from_torch_layout(tg.numpy(), p))
                            for g, tg, p in zip(ours_step(), torch_step(), case.perms)))
    return fwd_ours, fwd_torch, both_ours, both_torch, dy, dg


def blas_info():
    try:
        import threadpoolctl
    except ImportError:
        cfg = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return (f"{cfg.get('name')} {cfg.get('version')} "
                "(build info; install threadpoolctl for runtime threads)")
    pools = threadpoolctl.threadpool_info()
    described = []
    for p in pools:  # torch's OpenMP pool shows up too once torch is imported
        parts = [p["internal_api"], p.get("version"), f"threads={p['num_threads']}",
                 p.get("architecture") and f"arch={p['architecture']}"]
        described.append(" ".join(str(x) for x in parts if x))
    return "; ".join(described) or "none loaded"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--only", default="", help="comma-separated groups: conv,matmul,max_pool")
    args = parser.parse_args(argv)
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        sys.exit("bench/micro_ops.py needs PyTorch (CPU) to compare against: "
                 "pip install torch==2.13.0  (the `bench` extra)")
    import engine
    from engine import ops

    torch.set_num_threads(2)
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        print(f"{var}={os.environ.get(var, 'unset')}")
    print(f"numpy {np.__version__}, BLAS: {blas_info()}")
    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}")
    print(f"float32; median of {args.reps} timed runs after {args.warmup} warm-up; "
          "f+b = forward + backward to every input; ratio = ours/torch (< 1: ours faster)")
    print("vs torch: max|dy| = max abs diff of the outputs; rel dgrad = max abs diff of the "
          "input gradients / their max abs value\n")

    groups = {g.strip() for g in args.only.split(",") if g.strip()}
    cases = [c for c in build_cases(ops, F) if not groups or c.group in groups]
    header = (f"{'op':<40}{'ours fwd':>9}{'torch':>8}{'ratio':>7}"
              f"{'ours f+b':>10}{'torch':>8}{'ratio':>7}{'max|dy|':>10}{'rel dgrad':>11}")
    print(header)
    print("-" * len(header))
    for case in cases:
        fo, ft, bo, bt, dy, dg = run_case(case, engine, torch, args.warmup, args.reps)
        print(f"{case.label:<40}{fo:>9.2f}{ft:>8.2f}{fo / ft:>7.2f}"
              f"{bo:>10.2f}{bt:>8.2f}{bo / bt:>7.2f}{dy:>10.1e}{dg:>11.1e}")
    print("\ntimes in ms")


if __name__ == "__main__":
    main()
