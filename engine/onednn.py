"""CPU kernels through oneDNN (``libdnnl.so.3``, the ``onednn`` extra), driven by ctypes.

The only engine module that loads the library. It is a kernel provider for the fat ops
(conv, pooling): each function here returns the op's result, or None when the provider does
not take the case (library absent, ``KERASISH_ONEDNN=0``, not float32 NumPy arrays, or a
primitive oneDNN refuses), and the op then runs its NumPy reference path.

Activations are used as they are (channels-last, contiguous); kernels are described in their
Keras layout and reordered, each call, into the layout the primitive picks (``format_tag_any``),
as PyTorch does: plain HWIO weights send backward to oneDNN's slow GEMM path. Primitives are
made once per (op, shapes, parameters, direction) and cached: making one costs 4-290 ms.
"""
from __future__ import annotations

import ctypes
import os
import sys
import threading

import numpy as np

__all__ = ["available", "batch_norm_backward", "batch_norm_forward", "batch_norm_inference",
           "conv_forward",
           "conv_grad_input", "conv_grad_kernel", "enabled", "matmul", "pool_backward",
           "pool_forward"]

ENV_VAR = "KERASISH_ONEDNN"  # "0" forces the NumPy path
MAX_CACHED = 512  # primitives (with their descriptors) kept, per shape and direction

# dnnl_types.h / dnnl_common_types.h (oneDNN 3.x; unchanged up to 3.12)
_F32, _CPU, _IN_ORDER, _ANY = 3, 1, 1, 1
_FWD_TRAINING, _FWD_INFERENCE, _BWD_DATA, _BWD_WEIGHTS = 64, 96, 160, 192
_CONV_DIRECT, _POOL_MAX, _POOL_AVG_EXCLUDE, _RELU = 0x1, 0x1FF, 0x3FF, 0x20
_BINARY_ADD, _BINARY_MUL, _POST_OP_BASE, _SRC_1 = 0x1FFF0, 0x1FFF1, 32768, 2
_Q_WEIGHTS, _Q_DIFF_WEIGHTS, _Q_WORKSPACE = 131, 132, 135
_SRC, _DST, _WEIGHTS, _BIAS, _WORKSPACE = 1, 17, 33, 41, 64
_DIFF_SRC, _DIFF_DST, _DIFF_WEIGHTS = 129, 145, 161
_Dims = ctypes.c_int64 * 12
_VP = ctypes.c_void_p


class _Arg(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_int), ("memory", _VP)]


# NOTE: read once, when libgomp starts (with libdnnl, or earlier with another library): idle
# OpenMP threads then sleep instead of spinning, and do not take the cores OpenBLAS's threads
# need between two oneDNN calls (README, "Threads"). But first they spin 30,000 rounds (a
# tenth of a millisecond; libgomp's default is 300,000): they stay awake between the parallel
# regions of one step (the LSTM primitive opens a few per time step: W3 60 -> 36 ms, W2
# 49 -> 30 ms side by side with torch), and sleep before OpenBLAS wants the cores. A value set
# by the user wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "30000")

_lib = None
_engine = _stream = None
_load_error: str | None = None
_tried = False
_cache: dict = {}
_lock = threading.Lock()


def _library_paths():
    names = ("libdnnl.so.3",)
    roots = [os.path.join(sys.prefix, "lib"), os.path.join(sys.base_prefix, "lib")]
    return [os.path.join(r, n) for r in roots for n in names] + list(names)


def _load():
    """Loads libdnnl once and makes the CPU engine and stream; sets ``_load_error`` if not."""
    global _lib, _engine, _stream, _load_error, _tried
    _tried = True
    if not sys.platform.startswith("linux"):
        _load_error = f"oneDNN's wheel exists for Linux x86_64 only (platform {sys.platform})"
        return
    errors = []
    for path in _library_paths():
        try:
            lib = ctypes.CDLL(path)
            break
        except OSError as e:
            errors.append(str(e))
    else:
        _load_error = "; ".join(errors[-1:]) or "libdnnl.so.3 not found"
        return
    lib.dnnl_primitive_desc_query_md.restype = _VP
    lib.dnnl_memory_desc_get_size.restype = ctypes.c_size_t
    lib.dnnl_memory_desc_equal.restype = ctypes.c_int
    engine, stream = _VP(), _VP()
    if lib.dnnl_engine_create(ctypes.byref(engine), _CPU, 0) or lib.dnnl_stream_create(
            ctypes.byref(stream), engine, _IN_ORDER):
        _load_error = "oneDNN could not make a CPU engine"
        return
    _lib, _engine, _stream = lib, engine, stream


def available() -> bool:
    """True when libdnnl loaded (whatever ``KERASISH_ONEDNN`` says)."""
    if not _tried:
        _load()
    return _lib is not None


def enabled() -> bool:
    """True when the provider is used: the library loaded and ``KERASISH_ONEDNN`` is not 0."""
    return os.environ.get(ENV_VAR, "1") != "0" and available()


def describe() -> str:
    """One line for bench headers: which provider the CPU fat ops use, and why."""
    if os.environ.get(ENV_VAR, "1") == "0":
        return f"numpy (im2col + BLAS; {ENV_VAR}=0)"
    if not available():
        return f"numpy (im2col + BLAS; oneDNN not loaded: {_load_error})"
    _lib.dnnl_version.restype = ctypes.POINTER(ctypes.c_int * 4)
    v = _lib.dnnl_version().contents
    env = " ".join(f"{k}={os.environ.get(k)}" for k in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT"))
    return f"onednn {v[0]}.{v[1]}.{v[2]} ({env})"


def _takes(*arrays) -> bool:
    return all(type(a) is np.ndarray and a.dtype == np.float32 for a in arrays) and enabled()


# -- descriptors, primitives, execution ---------------------------------------------------------

def _check(status, what):
    if status:
        raise RuntimeError(f"oneDNN: {what} failed with status {status}")


def _dims(values):
    return _Dims(*values)


def _md(dims, strides=None):
    """A float32 memory descriptor: explicit strides (in elements), or any layout."""
    md = _VP()
    if strides is None:
        _check(_lib.dnnl_memory_desc_create_with_tag(ctypes.byref(md), len(dims), _dims(dims),
                                                     _F32, _ANY), "memory_desc_create")
    else:
        _check(_lib.dnnl_memory_desc_create_with_strides(
            ctypes.byref(md), len(dims), _dims(dims), _F32, _dims(strides)), "memory_desc")
    return md


def _row_major(shape):
    out, step = [], 1
    for n in reversed(shape):
        out.append(step)
        step *= n
    return out[::-1]


def _act_md(shape):
    """(N, *S, C) contiguous, as oneDNN's logical (N, C, *S)."""
    s = _row_major(shape)
    return _md((shape[0], shape[-1]) + tuple(shape[1:-1]), [s[0], s[-1]] + s[1:-1])


def _kernel_md(kshape, groups):
    """A (*K, I/G, O) contiguous Keras kernel as oneDNN's (O, I, *K) or (G, O/G, I/G, *K)."""
    s = _row_major(kshape)
    k, cin, cout = tuple(kshape[:-2]), kshape[-2], kshape[-1]
    if groups == 1:
        return _md((cout, cin) + k, [1, cout] + s[:-2])
    return _md((groups, cout // groups, cin) + k, [cout // groups, 1, cout] + s[:-2])


class _Memory:
    """A oneDNN memory bound to a NumPy buffer at each call (set_data_handle)."""

    def __init__(self, md):
        self.md, self.mem = md, _VP()
        _check(_lib.dnnl_memory_create(ctypes.byref(self.mem), md, _engine, None), "memory")

    def __del__(self):
        if _lib is not None and self.mem:
            _lib.dnnl_memory_destroy(self.mem)

    def bind(self, a):
        _lib.dnnl_memory_set_data_handle(self.mem, _VP(a.ctypes.data))
        return self.mem


class _Primitive:
    def __init__(self, pd):
        self.pd, self.prim = pd, _VP()
        _check(_lib.dnnl_primitive_create(ctypes.byref(self.prim), pd), "primitive_create")

    def __del__(self):
        if _lib is not None:
            _lib.dnnl_primitive_destroy(self.prim)
            _lib.dnnl_primitive_desc_destroy(self.pd)

    def run(self, args):
        arr = (_Arg * len(args))(*[_Arg(k, m) for k, m in args])
        _check(_lib.dnnl_primitive_execute(self.prim, _stream, len(args), arr), "execute")


class _Reorder:
    """Copies between the Keras kernel layout and the layout a primitive chose."""

    def __init__(self, src_md, dst_md):
        pd = _VP()
        _check(_lib.dnnl_reorder_primitive_desc_create(ctypes.byref(pd), src_md, _engine,
                                                       dst_md, _engine, None), "reorder")
        self.prim = _Primitive(pd)
        self.src, self.dst = _Memory(src_md), _Memory(dst_md)

    def run(self, src, dst):
        self.prim.run([(_SRC, self.src.bind(src)), (_DST, self.dst.bind(dst))])


_scratch_buffer = np.empty(0, np.float32)


def _scratch(size):
    """A float32 buffer of ``size`` for a kernel in a primitive's layout, shared by every call
    (they run one at a time, under ``_lock``): the reordered kernels cost one buffer, not one
    per conv."""
    global _scratch_buffer
    if _scratch_buffer.size < size:
        _scratch_buffer = np.empty(size, np.float32)
    return _scratch_buffer[:size]


def _query(pd, what):
    return _VP(_lib.dnnl_primitive_desc_query_md(pd, what, 0))


def _cached(key, make):
    """The cached entry for ``key``, made once; None (cached too) when oneDNN refuses it."""
    try:
        return _cache[key]
    except KeyError:
        pass
    if len(_cache) >= MAX_CACHED:
        _cache.clear()  # NOTE: shapes that keep changing; ops holding an entry keep it alive
    try:
        entry = make()
    except RuntimeError:
        entry = None  # NOTE: the op's NumPy path takes this case from now on
    _cache[key] = entry
    return entry


# -- convolution ---------------------------------------------------------------------------------

def _conv_params(g):
    # NOTE: oneDNN counts dilation from 0 (no dilation).
    return (_dims(g.strides), _dims([d - 1 for d in g.dilation]), _dims(g.pad_before),
            _dims(g.pad_after))


def _post_ops(channels, ndim, relu, affine):
    """The attribute of a fused conv: [y * scale + shift per channel] [then ReLU], or None."""
    if not (relu or affine):
        return None
    ops, attr = _VP(), _VP()
    _check(_lib.dnnl_post_ops_create(ctypes.byref(ops)), "post_ops")
    if affine:
        channel_md = _md((1, channels) + (1,) * (ndim - 2), [channels] + [1] * (ndim - 1))
        for alg in (_BINARY_MUL, _BINARY_ADD):
            _check(_lib.dnnl_post_ops_append_binary(ops, alg, channel_md), "binary post-op")
    if relu:
        _check(_lib.dnnl_post_ops_append_eltwise(ops, _RELU, ctypes.c_float(0),
                                                 ctypes.c_float(0)), "eltwise post-op")
    _check(_lib.dnnl_primitive_attr_create(ctypes.byref(attr)), "attr")
    _check(_lib.dnnl_primitive_attr_set_post_ops(attr, ops), "set_post_ops")
    return attr


class _Conv:
    """The three primitives of one conv geometry share descriptors; each is made on first use."""

    def __init__(self, x_shape, kshape, y_shape, g, groups, bias=False, relu=False,
                 affine=False):
        self.x_md, self.y_md = _act_md(x_shape), _act_md(y_shape)
        self.k_md, self.any_k = _kernel_md(kshape, groups), None
        self.kshape, self.groups, self.params = kshape, groups, _conv_params(g)
        any_dims = ((kshape[-1], kshape[-2]) if groups == 1 else
                    (groups, kshape[-1] // groups, kshape[-2])) + tuple(kshape[:-2])
        self.any_k = _md(any_dims)
        self.bias_md = _md((kshape[-1],), [1]) if bias else None
        attr = _post_ops(kshape[-1], len(x_shape), relu, affine)
        self.fwd_pd = _VP()
        _check(_lib.dnnl_convolution_forward_primitive_desc_create(
            ctypes.byref(self.fwd_pd), _engine, _FWD_INFERENCE if affine else _FWD_TRAINING,
            _CONV_DIRECT, self.x_md, self.any_k, self.bias_md, self.y_md, *self.params, attr),
            "conv forward")
        self.fwd = self.bwd_data = self.bwd_weights = None
        self.x, self.y = _Memory(self.x_md), _Memory(self.y_md)
        self.b = _Memory(self.bias_md) if bias else None
        channel_md = _md((1, kshape[-1]) + (1,) * (len(x_shape) - 2),
                         [kshape[-1]] + [1] * (len(x_shape) - 1))
        self.affine = (_Memory(channel_md), _Memory(channel_md)) if affine else None

    def _weights(self, pd, query, to_user):
        """(memory in the primitive's layout, its buffer, reorder from/to the Keras layout)."""
        md = _query(pd, query)
        if _lib.dnnl_memory_desc_equal(md, self.k_md):
            return _Memory(self.k_md), None, None
        size = _lib.dnnl_memory_desc_get_size(md) // 4
        reorder = _Reorder(md, self.k_md) if to_user else _Reorder(self.k_md, md)
        return _Memory(md), size, reorder

    def forward(self, x, w, b=None, affine=None):
        global _gemm_budget
        _gemm_budget = GEMMS_PER_CONV
        if self.fwd is None:
            self.fwd = (_Primitive(self.fwd_pd),) + self._weights(self.fwd_pd, _Q_WEIGHTS, False)
        prim, wmem, size, reorder = self.fwd
        y = np.empty(self.y_shape, np.float32)
        if reorder is not None:
            reorder.run(w, _scratch(size))
            w = _scratch(size)
        args = [(_SRC, self.x.bind(x)), (_WEIGHTS, wmem.bind(w)), (_DST, self.y.bind(y))]
        if self.b is not None:
            args.append((_BIAS, self.b.bind(b)))
        if self.affine is not None:  # y * scale + shift, per channel, as the kernel writes y
            args += [(_POST_OP_BASE * (i + 1) | _SRC_1, m.bind(a))
                     for i, (m, a) in enumerate(zip(self.affine, affine))]
        prim.run(args)
        return y

    def grad_input(self, gy, w):
        if self.bwd_data is None:
            pd = _VP()
            _check(_lib.dnnl_convolution_backward_data_primitive_desc_create(
                ctypes.byref(pd), _engine, _CONV_DIRECT, self.x_md, self.any_k, self.y_md,
                *self.params, self.fwd_pd, None), "conv backward data")
            self.bwd_data = (_Primitive(pd),) + self._weights(pd, _Q_WEIGHTS, False)
        prim, wmem, size, reorder = self.bwd_data
        gx = np.empty(self.x_shape, np.float32)
        if reorder is not None:
            reorder.run(w, _scratch(size))
            w = _scratch(size)
        prim.run([(_DIFF_DST, self.y.bind(gy)), (_WEIGHTS, wmem.bind(w)),
                  (_DIFF_SRC, self.x.bind(gx))])
        return gx

    def grad_kernel(self, x, gy):
        if self.bwd_weights is None:
            pd = _VP()
            _check(_lib.dnnl_convolution_backward_weights_primitive_desc_create(
                ctypes.byref(pd), _engine, _CONV_DIRECT, self.x_md, self.any_k, None,
                self.y_md, *self.params, self.fwd_pd, None), "conv backward weights")
            self.bwd_weights = (_Primitive(pd),) + self._weights(pd, _Q_DIFF_WEIGHTS, True)
        prim, wmem, size, reorder = self.bwd_weights
        gw = np.empty(self.kshape, np.float32)
        wbuf = None if reorder is None else _scratch(size)
        prim.run([(_SRC, self.x.bind(x)), (_DIFF_DST, self.y.bind(gy)),
                  (_DIFF_WEIGHTS, wmem.bind(gw if reorder is None else wbuf))])
        if reorder is not None:
            reorder.run(wbuf, gw)
        return gw


def _conv(x_shape, kshape, g, groups, bias=False, relu=False, affine=False):
    y_shape = (x_shape[0],) + tuple(g.out_shape) + (kshape[-1],)
    key = ("conv", tuple(x_shape), tuple(kshape), tuple(g), groups, bias, relu, affine)

    def make():
        c = _Conv(x_shape, kshape, y_shape, g, groups, bias, relu, affine)
        c.x_shape, c.y_shape = tuple(x_shape), y_shape
        return c

    return _cached(key, make)


def _c(a):
    return np.ascontiguousarray(a)


def conv_forward(x, w, g, groups=1, bias=None, relu=False, affine=None):
    """conv(x, w) [+ bias] [* scale + shift] [then ReLU] for a (*K, C/groups, O) kernel, where
    ``affine`` is (scale, shift), one each per output channel; None if not taken."""
    extra = ([] if bias is None else [bias]) + list(affine or ())
    if not _takes(x, w, *extra):
        return None
    with _lock:
        c = _conv(x.shape, w.shape, g, groups, bias is not None, relu, affine is not None)
        if c is None:
            return None
        return c.forward(_c(x), _c(w), None if bias is None else _c(bias),
                         None if affine is None else [_c(a) for a in affine])


def conv_grad_input(gy, w, g, groups=1):
    """The input gradient of ``conv_forward`` (also conv_transpose's forward); None if not taken."""
    if not _takes(gy, w):
        return None
    x_shape = (gy.shape[0],) + tuple(g.in_shape) + (w.shape[-2] * groups,)
    with _lock:
        c = _conv(x_shape, w.shape, g, groups)
        try:
            return None if c is None else c.grad_input(_c(gy), _c(w))
        except RuntimeError:
            return None


def conv_grad_kernel(x, gy, g, kernel_shape, groups=1):
    """The kernel gradient of ``conv_forward``, shaped ``kernel_shape``; None if not taken."""
    if not _takes(x, gy):
        return None
    with _lock:
        c = _conv(x.shape, tuple(kernel_shape), g, groups)
        try:
            return None if c is None else c.grad_kernel(_c(x), _c(gy))
        except RuntimeError:
            return None


# -- matrix product ------------------------------------------------------------------------------

_MM_MIN_FLOPS = 1 << 20  # NOTE: below this a GEMM is too short to be worth a oneDNN call
# NOTE: each oneDNN conv lets the next GEMMS_PER_CONV GEMMs run on oneDNN's pool. Alone,
# OpenBLAS's GEMMs are faster (W1's MLP: 1.2x, W3's LSTM: 1.7x); between oneDNN convs,
# OpenBLAS's spinning pool and oneDNN's take each other's cores, and GEMMs on oneDNN's pool
# make W2's step 1.3-1.6x faster (README, "Threads").
GEMMS_PER_CONV = 64
_gemm_budget = 0


def _strided_md(a):
    return _md(a.shape, [st // a.itemsize for st in a.strides])


class _Matmul:
    def __init__(self, a, b):
        self.a, self.b = _Memory(_strided_md(a)), _Memory(_strided_md(b))
        self.y = _Memory(_md((a.shape[0], b.shape[1]), [b.shape[1], 1]))
        pd = _VP()
        _check(_lib.dnnl_matmul_primitive_desc_create(
            ctypes.byref(pd), _engine, self.a.md, self.b.md, None, self.y.md, None), "matmul")
        self.prim = _Primitive(pd)


def matmul(a, b):
    """a @ b for 2-D float32 arrays (plain or transposed views) shortly after a oneDNN conv
    (a conv model's step): the GEMM on oneDNN's OpenMP pool, the one its convs use, so that a
    step's parallel work all runs on one pool. None if not taken."""
    global _gemm_budget
    if _gemm_budget <= 0 or not (_takes(a, b) and a.ndim == b.ndim == 2) or \
            a.shape[1] != b.shape[0] or \
            2 * a.shape[0] * a.shape[1] * b.shape[1] < _MM_MIN_FLOPS or \
            any(st <= 0 or st % 4 for st in a.strides + b.strides):
        return None
    key = ("matmul", a.shape, a.strides, b.shape, b.strides)
    _gemm_budget -= 1
    with _lock:
        m = _cached(key, lambda: _Matmul(a, b))
        if m is None:
            return None
        y = np.empty((a.shape[0], b.shape[1]), np.float32)
        m.prim.run([(_SRC, m.a.bind(a)), (_WEIGHTS, m.b.bind(b)), (_DST, m.y.bind(y))])
    return y


def reset():
    """Forgets the cached primitives and the load attempt (tests simulate a missing library)."""
    global _tried, _lib, _load_error, _gemm_budget
    with _lock:
        _cache.clear()
        _tried, _lib, _load_error, _gemm_budget = False, None, None, 0


# NOTE: at the end: that module reads this one's helpers (and _lib, _engine through it).
from .onednn_pool_norm import (  # noqa: E402
    batch_norm_backward, batch_norm_forward, batch_norm_inference, pool_backward, pool_forward)
