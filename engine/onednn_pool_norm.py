"""oneDNN's pooling and batch-normalization primitives, on the library that ``onednn.py``
loads (the one module that loads it); split from it so each file reads in one sitting. The
functions return None where oneDNN does not take the case, as the conv ones do."""
from __future__ import annotations

import ctypes

import numpy as np

from . import onednn as core
from .onednn import (  # noqa: F401  (the core's constants and helpers)
    _BWD_DATA, _DIFF_DST, _DIFF_SRC, _DST, _FWD_INFERENCE, _FWD_TRAINING, _Memory,
    _POOL_AVG_EXCLUDE, _POOL_MAX, _Primitive, _Q_WORKSPACE, _SRC, _VP, _WORKSPACE, _act_md, _c,
    _cached, _check, _dims, _lock, _md, _query, _takes)


# -- pooling -------------------------------------------------------------------------------------

class _Pool:
    def __init__(self, x_shape, y_shape, alg, pool, strides, pads, training):
        self.x_shape, self.y_shape = x_shape, y_shape
        self.x_md, self.y_md = _act_md(x_shape), _act_md(y_shape)
        self.params = (_dims(strides), _dims(pool), _dims([0] * len(pool)),
                       _dims([a for a, _ in pads]), _dims([b for _, b in pads]))
        self.fwd_pd = _VP()
        _check(core._lib.dnnl_pooling_forward_primitive_desc_create(
            ctypes.byref(self.fwd_pd), core._engine,
            _FWD_TRAINING if training else _FWD_INFERENCE, alg, self.x_md, self.y_md,
            *self.params, None), "pooling forward")
        self.fwd = _Primitive(self.fwd_pd)
        ws = _query(self.fwd_pd, _Q_WORKSPACE)
        self.ws_size = core._lib.dnnl_memory_desc_get_size(ws) if ws.value else 0
        self.ws = _Memory(ws) if self.ws_size else None
        self.x, self.y = _Memory(self.x_md), _Memory(self.y_md)
        self.bwd = None
        if not training:
            return
        pd = _VP()
        _check(core._lib.dnnl_pooling_backward_primitive_desc_create(
            ctypes.byref(pd), core._engine, alg, self.x_md, self.y_md, *self.params, self.fwd_pd,
            None), "pooling backward")
        self.bwd = _Primitive(pd)


def _pool(x_shape, y_shape, mode, pool, strides, pads, training):
    key = ("pool", tuple(x_shape), tuple(y_shape), mode, tuple(pool), tuple(strides), tuple(pads),
           training)
    alg = _POOL_MAX if mode == "max" else _POOL_AVG_EXCLUDE
    return _cached(key, lambda: _Pool(tuple(x_shape), tuple(y_shape), alg, pool, strides, pads,
                                      training))


def pool_forward(x, mode, pool, strides, pads, out, training=True):
    """(y, state for ``pool_backward``) of a max or average ("same": padding excluded) pool of a
    channels-last x; None if not taken. ``training=False``: no backward, no max indices."""
    if not _takes(x):
        return None
    y_shape = x.shape[:1] + tuple(out) + x.shape[-1:]
    with _lock:
        p = _pool(x.shape, y_shape, mode, pool, strides, pads, training)
        if p is None:
            return None
        y = np.empty(y_shape, np.float32)
        ws = np.empty(p.ws_size, np.uint8) if p.ws else None
        args = [(_SRC, p.x.bind(_c(x))), (_DST, p.y.bind(y))]
        if ws is not None:
            args.append((_WORKSPACE, p.ws.mem))
            p.ws.bind(ws)
        p.fwd.run(args)
        return y, (p, ws)


def pool_backward(gy, state):
    """The input gradient of the pool ``pool_forward`` ran (``state`` is what it returned)."""
    p, ws = state
    gx = np.empty(p.x_shape, np.float32)
    with _lock:
        args = [(_DIFF_DST, p.y.bind(_c(gy.astype(np.float32, copy=False)))),
                (_DIFF_SRC, p.x.bind(gx))]
        if ws is not None:
            p.ws.bind(ws)
            args.append((_WORKSPACE, p.ws.mem))
        p.bwd.run(args)
    return gx


# -- batch normalization (training: the batch's own statistics) -------------------------------

_MEAN, _VARIANCE, _SCALE, _SHIFT, _DIFF_SCALE, _DIFF_SHIFT = 49, 50, 51, 52, 255, 256
_BACKWARD, _USE_GLOBAL_STATS, _USE_SCALE, _USE_SHIFT = 128, 0x1, 0x2, 0x4


class _BatchNorm:
    def __init__(self, shape, epsilon, scale, shift):
        self.shape, c = shape, shape[-1]
        self.x_md, self.c_md = _act_md(shape), _md((c,), [1])
        self.flags = (_USE_SCALE if scale else 0) | (_USE_SHIFT if shift else 0)
        eps = ctypes.c_float(epsilon)
        fwd_pd, bwd_pd = _VP(), _VP()
        _check(core._lib.dnnl_batch_normalization_forward_primitive_desc_create(
            ctypes.byref(fwd_pd), core._engine, _FWD_TRAINING, self.x_md, self.x_md, eps,
            self.flags, None), "batch norm forward")
        _check(core._lib.dnnl_batch_normalization_backward_primitive_desc_create(
            ctypes.byref(bwd_pd), core._engine, _BACKWARD if self.flags else _BWD_DATA, self.x_md,
            self.x_md, self.x_md, eps, self.flags, fwd_pd, None), "batch norm backward")
        self.fwd, self.bwd = _Primitive(fwd_pd), _Primitive(bwd_pd)
        self.x, self.y, self.gx = _Memory(self.x_md), _Memory(self.x_md), _Memory(self.x_md)
        vectors = (_MEAN, _VARIANCE, _SCALE, _SHIFT, _DIFF_SCALE, _DIFF_SHIFT)
        self.vec = {k: _Memory(self.c_md) for k in vectors}

    def _params(self, scale, shift):
        args = []
        if scale is not None:
            args.append((_SCALE, self.vec[_SCALE].bind(scale)))
        if shift is not None:
            args.append((_SHIFT, self.vec[_SHIFT].bind(shift)))
        return args


class _BatchNormInference:
    def __init__(self, shape, epsilon, flags):
        self.x_md, c_md = _act_md(shape), _md((shape[-1],), [1])
        pd = _VP()
        _check(core._lib.dnnl_batch_normalization_forward_primitive_desc_create(
            ctypes.byref(pd), core._engine, _FWD_INFERENCE, self.x_md, self.x_md,
            ctypes.c_float(epsilon), flags | _USE_GLOBAL_STATS, None), "batch norm inference")
        self.prim = _Primitive(pd)
        self.x, self.y = _Memory(self.x_md), _Memory(self.x_md)
        self.vec = {k: _Memory(c_md) for k in (_MEAN, _VARIANCE, _SCALE, _SHIFT)}


def batch_norm_inference(x, mean, variance, scale, shift, epsilon, out=None):
    """Batch norm with given statistics over the last axis, into ``out`` (may be x) or a new
    array; None if not taken."""
    vectors = {_MEAN: mean, _VARIANCE: variance, _SCALE: scale, _SHIFT: shift}
    given = {k: v for k, v in vectors.items() if v is not None}
    if not _takes(x, *given.values()) or x.ndim < 2 or not x.flags.c_contiguous or \
            any(v.size != x.shape[-1] for v in given.values()):
        return None
    flags = (_USE_SCALE if scale is not None else 0) | (_USE_SHIFT if shift is not None else 0)
    key = ("batch_norm_inference", x.shape, float(epsilon), flags)
    with _lock:
        bn = _cached(key, lambda: _BatchNormInference(x.shape, epsilon, flags))
        if bn is None:
            return None
        y = np.empty(x.shape, np.float32) if out is None else out
        bn.prim.run([(_SRC, bn.x.bind(x)), (_DST, bn.y.bind(y))]
                    + [(k, bn.vec[k].bind(_c(v.reshape(-1)))) for k, v in given.items()])
    return y


def batch_norm_forward(x, scale, shift, epsilon):
    """(y, mean, variance, state for ``batch_norm_backward``) of training-mode batch norm over
    every axis but the last (channels-last); biased variance. None if not taken."""
    if not _takes(x, *[v for v in (scale, shift) if v is not None]) or x.ndim < 2:
        return None
    scale = None if scale is None else _c(scale.reshape(-1))
    shift = None if shift is None else _c(shift.reshape(-1))
    key = ("batch_norm", x.shape, float(epsilon), scale is not None, shift is not None)
    with _lock:
        bn = _cached(key, lambda: _BatchNorm(x.shape, epsilon, scale is not None,
                                             shift is not None))
        if bn is None:
            return None
        x = _c(x)
        y = np.empty(x.shape, np.float32)
        mean, var = np.empty(x.shape[-1], np.float32), np.empty(x.shape[-1], np.float32)
        bn.fwd.run([(_SRC, bn.x.bind(x)), (_DST, bn.y.bind(y)),
                    (_MEAN, bn.vec[_MEAN].bind(mean)), (_VARIANCE, bn.vec[_VARIANCE].bind(var))]
                   + bn._params(scale, shift))
    return y, mean, var, (bn, x, mean, var, scale, shift)


def batch_norm_backward(gy, state):
    """(gx, g_scale, g_shift) of ``batch_norm_forward``; a gradient is None without its param."""
    bn, x, mean, var, scale, shift = state
    gx = np.empty(x.shape, np.float32)
    gs = np.empty(x.shape[-1], np.float32) if scale is not None else None
    gb = np.empty(x.shape[-1], np.float32) if shift is not None else None
    gy = _c(gy.astype(np.float32, copy=False))
    with _lock:
        args = [(_SRC, bn.x.bind(x)), (_DIFF_DST, bn.y.bind(gy)), (_DIFF_SRC, bn.gx.bind(gx)),
                (_MEAN, bn.vec[_MEAN].bind(mean)), (_VARIANCE, bn.vec[_VARIANCE].bind(var))]
        args += bn._params(scale, None)  # NOTE: backward refuses an unused shift argument
        if gs is not None:
            args.append((_DIFF_SCALE, bn.vec[_DIFF_SCALE].bind(gs)))
        if gb is not None:
            args.append((_DIFF_SHIFT, bn.vec[_DIFF_SHIFT].bind(gb)))
        bn.bwd.run(args)
    return gx, gs, gb
