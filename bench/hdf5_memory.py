"""A fit over an HDF5 file larger than the memory the process may use: the file is written
first, then the address space is capped (``RLIMIT_AS``) below the file's size, loading the
whole dataset is shown to fail, and ``fit`` over ``kerasish.utils.HDF5Matrix`` still runs to
the end, reading one batch at a time.

    MALLOC_ARENA_MAX=2 python bench/hdf5_memory.py [--rows 98304] [--cols 1024] [--budget-mb 128]
"""
from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time

import numpy as np


def _vm_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmSize in /proc/self/status (Linux only)")


def _write(path, rows, cols, rng):
    import h5py

    w_true = rng.standard_normal((cols, 1)).astype("float32") / np.sqrt(cols)
    with h5py.File(path, "w") as f:
        x = f.create_dataset("x", (rows, cols), "float32")
        y = f.create_dataset("y", (rows, 1), "float32")
        for s in range(0, rows, 4096):  # NOTE: written in blocks: the file never is in memory
            block = rng.standard_normal((min(4096, rows - s), cols)).astype("float32")
            x[s:s + len(block)] = block
            y[s:s + len(block)] = block @ w_true


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=98304)
    parser.add_argument("--cols", type=int, default=1024)
    parser.add_argument("--budget-mb", type=int, default=128,
                        help="address space allowed above the process's size after imports")
    parser.add_argument("--batch", type=int, default=512)
    args = parser.parse_args()
    import h5py

    import kerasish as keras

    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "big.h5")
        _write(path, args.rows, args.cols, np.random.default_rng(0))
        file_mb = os.path.getsize(path) / 2 ** 20
        model = keras.Sequential([keras.Input((args.cols,)), keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(0.05), "mse")
        base_mb = _vm_mb()
        limit_mb = base_mb + args.budget_mb
        resource.setrlimit(resource.RLIMIT_AS, (int(limit_mb * 2 ** 20), resource.RLIM_INFINITY))
        try:
            with h5py.File(path, "r") as f:
                f["x"][:]
            loaded = "loading the whole dataset succeeded (the limit is not below the file)"
        except MemoryError:
            loaded = "loading the whole dataset: MemoryError"
        start = time.perf_counter()
        history = model.fit(keras.utils.HDF5Matrix(path, "x"), keras.utils.HDF5Matrix(path, "y"),
                            batch_size=args.batch, epochs=1, verbose=0)
        elapsed = time.perf_counter() - start
        print(f"HDF5 file: {file_mb:.0f} MB ({args.rows} x {args.cols} float32)")
        print(f"address-space limit: {limit_mb:.0f} MB (process after imports {base_mb:.0f} MB "
              f"+ {args.budget_mb} MB)")
        print(loaded)
        print(f"fit over HDF5Matrix, batch {args.batch}: {len(history.history['loss'])} epoch, "
              f"loss {history.history['loss'][0]:.4f}, {elapsed:.1f} s, "
              f"VmSize after {_vm_mb():.0f} MB")


if __name__ == "__main__":
    main()
