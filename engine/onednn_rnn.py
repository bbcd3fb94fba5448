"""oneDNN's LSTM primitive (the CPU kernel under PyTorch's ``nn.LSTM``), on the library that
``onednn.py`` loads: a whole sequence forward, and its backward through time, per call.

oneDNN's vanilla LSTM is Keras's standard one: gates i, f, c, o in this order, sigmoid gates,
tanh, one bias. Keras's kernel (in, 4u) is oneDNN's ``ldigo`` (1, 1, in, 4, u) as it lies in
memory, and the recurrent kernel and bias likewise; they are reordered, each call, into the
layouts the primitive picks (``format_tag_any``), as the conv kernels are. Functions return
None where oneDNN does not take the case, and the op then runs its NumPy path.
"""
from __future__ import annotations

import ctypes
import threading

import numpy as np

from . import onednn as core
from .onednn import (_FWD_INFERENCE, _FWD_TRAINING, _Memory, _Primitive, _Reorder, _VP, _c,
                     _cached, _check, _lock, _md, _row_major, _takes)

# dnnl_types.h (oneDNN 3.x)
_BACKWARD, _LEFT2RIGHT, _RIGHT2LEFT, _Q_EXEC_ARG = 128, 1, 2, 255
_SRC_LAYER, _SRC_ITER, _SRC_ITER_C = 1, 2, 3
_DST_LAYER, _DST_ITER, _DST_ITER_C = 17, 18, 19
_W_LAYER, _W_ITER, _BIAS, _WORKSPACE = 33, 34, 41, 64
_DIFF = 128  # DNNL_ARG_DIFF_X = DNNL_ARG_X + 128 for every argument used here


def _dense(shape):
    return _md(shape, _row_major(shape))


class _LSTM:
    """The primitives of one (batch, time, in, units, direction) LSTM: forward (training or
    inference) and, for training, backward; memories are bound to arrays per call."""

    def __init__(self, b, t, n_in, u, backwards, training):
        self.shape, self.training = (b, t, n_in, u), training
        self.direction = _RIGHT2LEFT if backwards else _LEFT2RIGHT
        # NOTE: oneDNN 3.2's backward gets the kernel's gradient wrong when x comes in layout
        # ntc, (B, T, in) as Keras has it: x goes in as (T, B, in) (tnc), its gradient comes
        # back as (B, T, in) (ntc).
        self.mds = {
            _SRC_LAYER: _dense((t, b, n_in)),
            _SRC_ITER: _dense((1, 1, b, u)), _SRC_ITER_C: _dense((1, 1, b, u)),
            _W_LAYER: _dense((1, 1, n_in, 4, u)), _W_ITER: _dense((1, 1, u, 4, u)),
            _BIAS: _dense((1, 1, 4, u)), _DST_LAYER: _dense((t, b, u)),
            _DST_ITER: _dense((1, 1, b, u)), _DST_ITER_C: _dense((1, 1, b, u))}
        self.any_w = {_W_LAYER: _md((1, 1, n_in, 4, u)), _W_ITER: _md((1, 1, u, 4, u))}
        m = self.mds
        self.fwd_pd = _VP()
        _check(core._lib.dnnl_lstm_forward_primitive_desc_create(
            ctypes.byref(self.fwd_pd), core._engine,
            _FWD_TRAINING if training else _FWD_INFERENCE, self.direction, m[_SRC_LAYER],
            m[_SRC_ITER], m[_SRC_ITER_C], self.any_w[_W_LAYER], self.any_w[_W_ITER], None, None,
            m[_BIAS], m[_DST_LAYER], m[_DST_ITER], m[_DST_ITER_C], 0, None), "lstm forward")
        self.fwd = _Primitive(self.fwd_pd), self._weights(self.fwd_pd, (_W_LAYER, _W_ITER))
        self.ws_size = self._size(self.fwd_pd, _WORKSPACE) if training else 0
        self.mem = {k: _Memory(md) for k, md in m.items()}
        self.mem.update({_DIFF + k: _Memory(md) for k, md in m.items() if k not in self.any_w})
        self.gx_md = _md((t, b, n_in), [n_in, t * n_in, 1])
        self.mem[_DIFF + _SRC_LAYER] = _Memory(self.gx_md)
        if self.ws_size:
            self.mem[_WORKSPACE] = _Memory(self._arg_md(self.fwd_pd, _WORKSPACE))
        self.bwd, self.spare = None, []  # workspaces no op holds any more (_Workspace)
        if training:  # NOTE: made now, so that a backward oneDNN refuses refuses the forward too
            self._backward()

    @staticmethod
    def _arg_md(pd, arg):
        return _VP(core._lib.dnnl_primitive_desc_query_md(pd, _Q_EXEC_ARG, arg))

    def _size(self, pd, arg):
        md = self._arg_md(pd, arg)
        return core._lib.dnnl_memory_desc_get_size(md) if md.value else 0

    def _weights(self, pd, weights, to_user=False):
        """{arg: (memory, reorder or None, float32 size)} for the weights or weight gradients
        ``weights``, in the layout the primitive picked."""
        out = {}
        for arg in weights:
            md, user = self._arg_md(pd, arg), self.mds[arg % _DIFF]
            if core._lib.dnnl_memory_desc_equal(md, user):
                out[arg] = (_Memory(user), None, 0)
                continue
            reorder = _Reorder(md, user) if to_user else _Reorder(user, md)
            out[arg] = (_Memory(md), reorder, core._lib.dnnl_memory_desc_get_size(md) // 4)
        return out

    def _backward(self):
        m, w = self.mds, self.any_w
        pd = _VP()
        _check(core._lib.dnnl_lstm_backward_primitive_desc_create(
            ctypes.byref(pd), core._engine, _BACKWARD, self.direction, m[_SRC_LAYER],
            m[_SRC_ITER], m[_SRC_ITER_C], w[_W_LAYER], w[_W_ITER], None, None, m[_BIAS],
            m[_DST_LAYER], m[_DST_ITER], m[_DST_ITER_C], self.gx_md, m[_SRC_ITER],
            m[_SRC_ITER_C], w[_W_LAYER], w[_W_ITER], None, None, m[_BIAS], m[_DST_LAYER],
            m[_DST_ITER], m[_DST_ITER_C], 0, self.fwd_pd, None), "lstm backward")
        self.bwd = _Primitive(pd), {**self._weights(pd, (_W_LAYER, _W_ITER)), **self._weights(
            pd, (_DIFF + _W_LAYER, _DIFF + _W_ITER), to_user=True)}
        self.zeros = np.zeros(self.shape[1] * self.shape[0] * self.shape[3], np.float32)

    def bind(self, arg, a):
        return arg, self.mem[arg].bind(a)


class _Workspace:
    """A forward's workspace, kept for its backward; when the op lets it go (after the
    backward, or with the graph), the array goes back to its primitive's ``spare`` list.

    NOTE: W3's LSTM needs 100 MB: a fresh array each step would cost its page faults (8 ms)."""

    def __init__(self, p):
        self.p = p
        self.array = p.spare.pop() if p.spare else np.empty(p.ws_size, np.uint8)

    def __del__(self):
        if len(self.p.spare) < 2:  # NOTE: list.append is atomic: no lock in a finalizer
            self.p.spare.append(self.array)


def _weights_args(weights, arrays):
    """(execute arguments, their buffers) for the weights, reordered into the primitive's
    layout where it differs. NOTE: the caller keeps the buffers alive until the run."""
    args, buffers = [], []
    for arg, a in arrays.items():
        mem, reorder, size = weights[arg]
        if reorder is not None:
            buffers.append(np.empty(size, np.float32))
            reorder.run(a, buffers[-1])
            a = buffers[-1]
        args.append((arg, mem.bind(a)))
    return args, buffers


def lstm_forward(x, kernel, recurrent_kernel, h0, c0, bias, go_backwards, training):
    """(h, c, state for ``lstm_backward``): the final states of Keras's standard LSTM over x
    (B, T, in), run last step first with ``go_backwards``; None if not taken."""
    u = recurrent_kernel.shape[0]
    if bias is None:
        bias = np.zeros(4 * u, np.float32)
    if not _takes(x, kernel, recurrent_kernel, h0, c0, bias):
        return None
    b, t, n_in = x.shape
    # NOTE: one primitive per thread: oneDNN 3.2's LSTM made in one thread crashes when run in
    # another (a served model's requests run on a pool of threads)
    key = ("lstm", x.shape, u, bool(go_backwards), bool(training), threading.get_ident())
    with _lock:
        p = _cached(key, lambda: _LSTM(b, t, n_in, u, go_backwards, training))
        if p is None:
            return None
        # NOTE: every array bound below stays referenced until the run (no temporaries)
        x, h0, c0, bias = _c(x.transpose(1, 0, 2)), _c(h0), _c(c0), _c(bias)
        kernel, recurrent_kernel = _c(kernel), _c(recurrent_kernel)
        h, c = np.empty((b, u), np.float32), np.empty((b, u), np.float32)
        dst = np.empty((t, b, u), np.float32)
        ws = _Workspace(p) if p.ws_size else None
        prim, weights = p.fwd
        args = [p.bind(_SRC_LAYER, x), p.bind(_SRC_ITER, h0), p.bind(_SRC_ITER_C, c0),
                p.bind(_BIAS, bias), p.bind(_DST_LAYER, dst), p.bind(_DST_ITER, h),
                p.bind(_DST_ITER_C, c)]
        w_args, w_buffers = _weights_args(weights, {_W_LAYER: kernel, _W_ITER: recurrent_kernel})
        if ws is not None:
            args.append(p.bind(_WORKSPACE, ws.array))
        prim.run(args + w_args)
        del w_buffers
    state = (p, x, kernel, recurrent_kernel, h0, c0, bias, dst, h, c, ws) if training else None
    return h, c, state


def lstm_backward(state, gh, gc):
    """(gx, g_kernel, g_recurrent_kernel, g_bias, gh0, gc0) of ``lstm_forward``, given the
    gradients of its final states."""
    p, x, kernel, recurrent_kernel, h0, c0, bias, dst, h, c, ws = state
    b, t, n_in, u = p.shape
    gh, gc = _c(gh.astype(np.float32, copy=False)), _c(gc.astype(np.float32, copy=False))
    with _lock:
        prim, weights = p.bwd
        gx = np.empty((b, t, n_in), np.float32)
        # NOTE: oneDNN adds into the weight gradients: they start at zero.
        gk, grk = np.zeros(kernel.shape, np.float32), np.zeros(recurrent_kernel.shape, np.float32)
        gb = np.zeros(4 * u, np.float32)
        gh0, gc0 = np.empty((b, u), np.float32), np.empty((b, u), np.float32)
        args = [p.bind(_SRC_LAYER, x), p.bind(_SRC_ITER, h0), p.bind(_SRC_ITER_C, c0),
                p.bind(_BIAS, bias), p.bind(_DST_LAYER, dst), p.bind(_DST_ITER, h),
                p.bind(_DST_ITER_C, c), p.bind(_WORKSPACE, ws.array),
                # NOTE: the h of the last step is the final h: its gradient comes once, as
                # diff_dst_iter; no step's output h is used otherwise (diff_dst_layer = 0).
                p.bind(_DIFF + _DST_LAYER, p.zeros), p.bind(_DIFF + _DST_ITER, gh),
                p.bind(_DIFF + _DST_ITER_C, gc), p.bind(_DIFF + _SRC_LAYER, gx),
                p.bind(_DIFF + _SRC_ITER, gh0), p.bind(_DIFF + _SRC_ITER_C, gc0),
                p.bind(_DIFF + _BIAS, gb)]
        w_args, w_buffers = _weights_args(weights, {_W_LAYER: kernel, _W_ITER: recurrent_kernel})
        grads = {_DIFF + _W_LAYER: gk, _DIFF + _W_ITER: grk}
        after = []
        for arg, g in grads.items():
            mem, reorder, size = weights[arg]
            if reorder is None:
                args.append((arg, mem.bind(g)))
            else:
                buf = np.zeros(size, np.float32)
                args.append((arg, mem.bind(buf)))
                after.append((reorder, buf, g))
        prim.run(args + w_args)
        del w_buffers
        for reorder, buf, g in after:
            reorder.run(buf, g)
    return gx, gk, grk, gb, gh0, gc0
