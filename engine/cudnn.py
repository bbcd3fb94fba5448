"""GPU convolutions through cuDNN, by CuPy's ``cupyx.cudnn`` (CuPy 13 and older ship it; CuPy 14
removed cuDNN).

The GPU twin of ``onednn.py``: a kernel provider for the conv ops. Each function returns the
op's result, or None when it does not take the case, and the op then runs its im2col + GEMM
path: no ``cupyx.cudnn``, ``KERASISH_CUDNN=0``, not CuPy arrays of one float dtype (16, 32 or
64 bits), a 3-D conv (``cupyx.cudnn`` describes channels-last tensors of rank 4 only), or a
padding cuDNN cannot express (below), or a case cuDNN itself refuses (remembered: asked once).
``cupyx`` is imported only when CuPy arrays come.

Activations stay channels-last (NHWC); a 1-D conv runs as a 2-D one over a unit axis. Kernels
go from our (*K, C/groups, O) to cuDNN's NHWC filters (O, *K, C/groups) and gradients back.
cuDNN pads both ends of an axis alike; where our geometry wants more zeros after than before
("same" with a stride), those extra zeros are added to the input here.
"""
from __future__ import annotations

import os

import numpy as np

from . import backend

__all__ = ["available", "conv_forward", "conv_grad_input", "conv_grad_kernel", "describe",
           "enabled", "reset"]

ENV_VAR = "KERASISH_CUDNN"  # "0" forces the im2col path
DTYPES = (np.float16, np.float32, np.float64)
# NOTE: cupyx.cudnn's default workspace (8 MiB) rules out cuDNN's faster algorithms for big
# convs; this matches the im2col path's block budget (engine/ops/_im2col.py).
WORKSPACE_BYTES = 256 << 20

_lib = None
_load_error: str | None = None
_tried = False
_refused: set = set()  # cases cuDNN refused (e.g. a dtype with NHWC): im2col runs them


def reset() -> None:
    """Forgets the import's outcome (tests swap ``cupyx.cudnn`` in and out)."""
    global _lib, _load_error, _tried
    _lib, _load_error, _tried = None, None, False
    _refused.clear()


def _load():
    global _lib, _load_error, _tried
    _tried = True
    try:
        lib = backend.cupyx_cudnn()
    except Exception as e:  # no cupyx, CuPy 14 (no cuDNN), or no cuDNN library
        _load_error = f"{type(e).__name__}: {e}"
        return
    if lib.get_max_workspace_size() < WORKSPACE_BYTES:
        lib.set_max_workspace_size(WORKSPACE_BYTES)
    _lib = lib


def available() -> bool:
    """True when ``cupyx.cudnn`` imports (whatever ``KERASISH_CUDNN`` says). Imports cupyx."""
    if not _tried:
        _load()
    return _lib is not None


def enabled() -> bool:
    """True when the provider is used: ``cupyx.cudnn`` imports and ``KERASISH_CUDNN`` is not 0."""
    return os.environ.get(ENV_VAR, "1") != "0" and available()


def describe() -> str:
    """One line for bench headers: which provider the GPU convs use, and why."""
    from .ops._im2col import GPU_BLOCK_BYTES

    chunked = f"im2col + GEMM in blocks of <= {GPU_BLOCK_BYTES >> 20} MiB"
    if os.environ.get(ENV_VAR, "1") == "0":
        return f"{chunked} ({ENV_VAR}=0)"
    if not available():
        return f"{chunked} (no cupyx.cudnn: {_load_error})"
    xp = backend.xp_for("gpu")
    return f"cudnn {xp.cuda.cudnn.getVersion()} (cupyx.cudnn, CuPy {xp.__version__})"


def _lib_for(xp, *arrays):
    """``cupyx.cudnn`` when it takes these arrays, else None (never imports it for NumPy)."""
    if xp is np or not all(backend.device_of(a) == "gpu" for a in arrays):
        return None
    dtype = arrays[0].dtype
    if dtype not in DTYPES or any(a.dtype != dtype for a in arrays) or not enabled():
        return None
    return _lib


def _params(g):
    """(pad, stride, dilation, extra) of a 1-D or 2-D geometry as cuDNN's 2-D conv; ``extra``:
    zeros to add after the input on each axis. None when cuDNN cannot run it."""
    if len(g.kernel) > 2:
        return None
    unit = (1,) * (2 - len(g.kernel))
    rows = zip(unit + g.in_shape, unit + g.out_shape, unit + g.kernel, unit + g.strides,
               unit + g.dilation, (0,) * len(unit) + g.pad_before)
    pad, extra = [], []
    for n, o, k, s, d, p in rows:
        span = (k - 1) * d + 1
        more = max(0, (o - 1) * s + span - (n + 2 * p))  # the last window must fit
        if p < 0 or (n + 2 * p + more - span) // s + 1 != o:
            return None
        pad.append(p)
        extra.append(more)
    return tuple(pad), unit + tuple(g.strides), unit + tuple(g.dilation), tuple(extra)


def _nhwc(a, spatial):
    """(N, *spatial, C) as cuDNN's (N, H, W, C): a unit H for a 1-D conv."""
    return a.reshape(a.shape[:1] + (1,) * (2 - spatial) + a.shape[1:])


def _extended(xp, x, extra):
    """x (N, H, W, C) with ``extra`` zeros after each spatial axis."""
    if not any(extra):
        return x
    out = xp.zeros((x.shape[0],) + tuple(n + e for n, e in zip(x.shape[1:3], extra))
                   + x.shape[3:], dtype=x.dtype)
    out[:, :x.shape[1], :x.shape[2]] = x
    return out


def _filters(xp, w, spatial):
    """Our (*K, C/groups, O) kernel as cuDNN's NHWC filters (O, KH, KW, C/groups)."""
    w = w.reshape((1,) * (2 - spatial) + w.shape)
    return xp.ascontiguousarray(w.transpose(3, 0, 1, 2))


def _taken(xp, g, groups, direction, *arrays):
    """(cupyx.cudnn, cuDNN's params, the case's key) when the provider takes it, else None."""
    lib = _lib_for(xp, *arrays)
    params = None if lib is None else _params(g)
    key = (direction, g, groups, arrays[0].dtype.str) + tuple(a.shape for a in arrays)
    return None if params is None or key in _refused else (lib, params, key)


def _run(xp, key, fn, *args, backward=True):
    """Calls one of cupyx.cudnn's conv functions; False, remembered, where cuDNN refuses."""
    nhwc = xp.cuda.cudnn.CUDNN_TENSOR_NHWC
    options = dict(auto_tune=True, tensor_core="auto", d_layout=nhwc, w_layout=nhwc)
    if backward:
        # NOTE: always: a compiled plan is kept only when its replay equals an eager step bit
        # for bit, which cuDNN's atomics-based backward algorithms would not give.
        options["deterministic"] = True
    try:
        fn(*args, **options)
    except (RuntimeError, ValueError):  # CUDNN_STATUS_NOT_SUPPORTED, no algorithm: im2col's
        _refused.add(key)
        return False
    return True


def conv_forward(xp, x, w, g, groups=1):
    """conv(x, w) for a (*K, C/groups, O) kernel, (N, *out, O); None if not taken."""
    taken = _taken(xp, g, groups, "forward", x, w)
    if taken is None:
        return None
    lib, (pad, stride, dilation, extra), key = taken
    spatial = x.ndim - 2
    y = xp.empty((x.shape[0],) + tuple(g.out_shape) + w.shape[-1:], dtype=x.dtype)
    x4 = _extended(xp, xp.ascontiguousarray(_nhwc(x, spatial)), extra)
    ok = _run(xp, key, lib.convolution_forward, x4, _filters(xp, w, spatial), None,
              _nhwc(y, spatial), pad, stride, dilation, groups, backward=False)
    return y if ok else None


def conv_grad_input(xp, gy, w, g, groups=1):
    """The input gradient of ``conv_forward`` (N, *in, C) (conv_transpose's forward too);
    None if not taken."""
    taken = _taken(xp, g, groups, "data", gy, w)
    if taken is None:
        return None
    lib, (pad, stride, dilation, extra), key = taken
    spatial = gy.ndim - 2
    in_shape = (1,) * (2 - spatial) + tuple(g.in_shape)
    gx = xp.empty((gy.shape[0],) + tuple(n + e for n, e in zip(in_shape, extra))
                  + (w.shape[-2] * groups,), dtype=gy.dtype)
    gy4 = xp.ascontiguousarray(_nhwc(gy, spatial))
    if not _run(xp, key, lib.convolution_backward_data, _filters(xp, w, spatial), gy4, None, gx,
                pad, stride, dilation, groups):
        return None
    if any(extra):  # the gradient of the zeros added after the input is dropped
        gx = xp.ascontiguousarray(gx[:, :in_shape[0], :in_shape[1]])
    return gx.reshape((gy.shape[0],) + tuple(g.in_shape) + gx.shape[-1:])


def conv_grad_kernel(xp, x, gy, g, kernel_shape, groups=1):
    """The kernel gradient of ``conv_forward``, shaped ``kernel_shape`` (*K, C/groups, O);
    None if not taken."""
    taken = _taken(xp, g, groups, "filter", x, gy)
    if taken is None:
        return None
    lib, (pad, stride, dilation, extra), key = taken
    spatial = x.ndim - 2
    kernel = (1,) * (2 - spatial) + tuple(kernel_shape[:-2])
    gw = xp.empty(kernel_shape[-1:] + kernel + kernel_shape[-2:-1], dtype=x.dtype)
    x4 = _extended(xp, xp.ascontiguousarray(_nhwc(x, spatial)), extra)
    if not _run(xp, key, lib.convolution_backward_filter, x4,
                xp.ascontiguousarray(_nhwc(gy, spatial)), gw, pad, stride, dilation, groups):
        return None
    return xp.ascontiguousarray(gw.transpose(1, 2, 3, 0)).reshape(kernel_shape)
