"""Array backends: NumPy on the CPU, CuPy on an NVIDIA GPU.

This is the only file that imports cupy, lazily and guarded: the array module is chosen by
the arrays themselves (Chainer's ``get_array_module``), never by a global switch.
"""
from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

_cupy = None
_cupy_checked = False

DEVICES = ("cpu", "gpu")


def _get_cupy():
    """Returns the cupy module when it imports and a CUDA device answers, else None."""
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            import cupy

            if cupy.cuda.runtime.getDeviceCount() > 0:
                _cupy = cupy
        except Exception:  # no cupy, no driver, or no device: the CPU is all we have
            _cupy = None
    return _cupy


def cupy_nccl():
    """CuPy's NCCL binding (``cupy.cuda.nccl``), loaded on demand; ImportError without it."""
    xp_for("gpu")
    import cupy.cuda.nccl as nccl

    return nccl


def cupyx_cudnn():
    """CuPy's cuDNN functions (``cupyx.cudnn``, CuPy 13 and older), loaded on demand; raises
    (ImportError and others) where the installed CuPy or cuDNN has none."""
    import cupyx.cudnn as cudnn

    return cudnn


def cupy_available() -> bool:
    """True when CuPy imports and at least one CUDA device answers."""
    return _get_cupy() is not None


def _is_cupy_array(x) -> bool:
    # NOTE: a type-module check keeps CPU-only runs from ever importing cupy.
    return type(x).__module__.startswith("cupy")


def get_array_module(*arrays):
    """Returns ``cupy`` if any argument is a CuPy array, else ``numpy``."""
    for a in arrays:
        if _is_cupy_array(a):
            return _get_cupy()
    return np


def fuse(fn: Callable) -> Callable:
    """``fn(xp, *args)`` as one call: one fused CuPy kernel (``cupy.fuse``) when an argument is
    a CuPy array, else ``fn(numpy, *args)`` as written.

    ``fn`` holds elementwise ufuncs only and updates its array arguments in place (``+=``,
    ``out=``), so it works on NumPy as it is. Pass scalars as NumPy scalars of the arrays'
    dtype: a fused kernel takes each as a parameter of that type (no recompilation per value,
    no float64 arithmetic on float32 arrays). A ``None`` argument is allowed: ``fn`` may branch
    on ``is None`` (cupy.fuse resolves it when tracing, a kernel per pattern of ``None``s).

    >>> def sgd_update(xp, w, g, lr):
    ...     w -= g * lr
    >>> sgd_step = fuse(sgd_update)  # sgd_step(w, g, np.float32(0.1))
    """
    fused = []  # NOTE: built once; cupy.fuse caches a kernel per argument dtypes and ndims
    name = fn.__name__ if fn.__name__.isidentifier() else "fused"  # a CUDA name, not <lambda>

    @functools.wraps(fn)
    def call(*args):
        xp = get_array_module(*args)
        if xp is np:
            return fn(np, *args)
        if not fused:
            fused.append(xp.fuse(kernel_name=name)(functools.partial(fn, xp)))
        return fused[0](*args)

    return call


def device_of(x) -> str:
    """The device ("cpu" or "gpu") an array lives on."""
    return "gpu" if _is_cupy_array(x) else "cpu"


def xp_for(device: str):
    """The array module of a device name."""
    _check_device(device)
    if device == "gpu":
        cp = _get_cupy()
        if cp is None:
            raise RuntimeError(
                "Device 'gpu' was requested but CuPy with a CUDA device is not available. "
                "Install the `gpu` extra (cupy-cuda12x) on a machine with an NVIDIA GPU. "
                f"Received: device={device!r}"
            )
        return cp
    return np


def to_device(x, device: str):
    """Copies an array (or array-like) to ``device``; returns it unchanged when already there."""
    xp = xp_for(device)
    if device == "cpu":
        return to_numpy(x)
    return xp.asarray(x)


def to_numpy(x) -> np.ndarray:
    """Brings an array back to the host as a NumPy array."""
    if _is_cupy_array(x):
        return x.get()
    return np.asarray(x)


def make_rng(device: str, seed):
    """A seeded random generator for ``device`` with NumPy's Generator interface."""
    if device != "cpu":  # NOTE: counter-based, its state host ints (CuPy's can't be read)
        from .random import CounterGenerator

        _check_device(device)
        return CounterGenerator(seed, device)
    return np.random.default_rng(seed)


def _check_device(device):
    if device not in DEVICES:
        raise ValueError(f"Unknown device; expected one of {DEVICES}. Received: device={device!r}")
