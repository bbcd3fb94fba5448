"""Fused recurrent ops: a whole LSTM time loop with hand-written backpropagation through time.

``lstm`` takes the sequence itself: on float32 NumPy arrays, when oneDNN is loaded, it runs
oneDNN's LSTM primitive (input projection, recurrence and their backward in one call, as
PyTorch's CPU LSTM does); otherwise it is ``x @ kernel`` followed by ``lstm_sequence``.

The layer computes the input projection ``x @ kernel`` of every step as one matmul; this op
runs the recurrence over it: one GEMM per step forward, one per step backward, and the
recurrent kernel's gradient as ONE GEMM over all steps at the end. Gate math runs in place in
preallocated arrays with as few passes as possible (the per-step factors of backward are
computed for all steps at once); values equal the composite LSTMCell's to float32 rounding.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import onednn_rnn
from ..autograd import Function
from .linalg import Matmul

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["lstm", "lstm_sequence"]


def _gates_(xp, z, scale, numerator, u):
    """The gate activations in place, all four blocks with ONE exp: sigmoid on i, f, o and
    tanh on c as ``2 sigmoid(2 x) - 1`` (``scale`` is -1 and -2, ``numerator`` 1 and 2).

    NOTE: exp overflows to inf for large -x, giving exactly 0 (the caller silences the
    warning); 2 sigmoid(2 x) - 1 is tanh to float32 rounding in absolute terms.
    """
    z *= scale
    xp.exp(z, out=z)
    z += 1
    xp.divide(numerator, z, out=z)
    z[:, 2 * u:3 * u] -= 1


def _local_factors_(xp, gates, tanh_c, c_prev, f_keep, block=8):
    """What backward needs at each step that does not depend on the recurrence, for all
    steps at once (in blocks of steps that stay in cache). In place:
    gates [i, f, g, o] -> [g i(1-i), c_prev f(1-f), i (1-g^2), tanh(c) o(1-o)],
    tanh_c -> o (1 - tanh(c)^2), f_keep <- f. Then d(gates) = [dc, dc, dc, dh] * gates."""
    steps, b, four_u = gates.shape
    u = four_u // 4
    t1, t2 = xp.empty((min(block, steps), b, u), gates.dtype), xp.empty_like(tanh_c[:block])
    for lo in range(0, steps, block):
        z, tc, cp = gates[lo:lo + block], tanh_c[lo:lo + block], c_prev[lo:lo + block]
        a, b_ = t1[:len(z)], t2[:len(z)]
        i, f, g, o = z[..., :u], z[..., u:2 * u], z[..., 2 * u:3 * u], z[..., 3 * u:]
        f_keep[lo:lo + block] = f
        xp.subtract(1, f, out=a)
        a *= f
        xp.multiply(a, cp, out=f)
        xp.subtract(1, i, out=a)
        a *= i
        a *= g  # g i (1 - i)
        xp.multiply(g, g, out=b_)
        xp.subtract(1, b_, out=b_)
        xp.multiply(b_, i, out=g)  # i (1 - g^2)
        i[...] = a
        xp.subtract(1, o, out=a)
        a *= o
        xp.multiply(tc, tc, out=b_)
        xp.subtract(1, b_, out=b_)
        b_ *= o  # o (1 - tanh(c)^2)
        xp.multiply(a, tc, out=o)
        tc[...] = b_


class LSTMSequence(Function):
    """Inputs: x_proj (B, T, 4u), recurrent kernel (u, 4u), h0 and c0 (B, u), bias (4u,),
    mask (B, T).

    The state array ``S`` (T + 1, B, 2u) holds the states [h | c] after each processed step
    (in reversed time order with ``go_backwards``); ``S[0]`` holds the initial states, so
    ``S[:-1, :, :u]`` is every step's h_prev for the kernel's gradient. The output is
    ``S[1:]`` as (B, T, 2u), or ``S[-1]`` alone. The gates are kept per step as well.

    NOTE: step-major arrays, so that each step works on contiguous blocks.
    """

    def forward(self, xp, x_proj, kernel, h0, c0, bias, mask, go_backwards, return_sequences):
        b, steps, _ = x_proj.shape
        u = kernel.shape[0]
        store = any(self.needs_input_grad)  # NOTE: inference keeps one step's gates, not T
        dt = x_proj.dtype
        s_arr = xp.empty((steps + 1, b, 2 * u), dt)
        s_arr[0, :, :u], s_arr[0, :, u:] = h0, c0
        gates = xp.empty((steps if store else 1, b, 4 * u), dt)
        tanh_c = xp.empty((steps if store else 1, b, u), dt)
        ig, scale, numerator = xp.empty((b, u), dt), xp.full(4 * u, -1, dt), xp.ones(4 * u, dt)
        scale[2 * u:3 * u], numerator[2 * u:3 * u] = -2, 2
        drop = None if mask is None else ~mask.astype(bool)[:, :, None]
        with np.errstate(over="ignore"):
            for s in range(steps):
                t = steps - 1 - s if go_backwards else s
                z = gates[s if store else 0]
                xp.matmul(s_arr[s, :, :u], kernel, out=z)
                z += x_proj[:, t]
                if bias is not None:
                    z += bias
                _gates_(xp, z, scale, numerator, u)
                c, tc = s_arr[s + 1, :, u:], tanh_c[s if store else 0]
                xp.multiply(z[:, u:2 * u], s_arr[s, :, u:], out=c)  # c = f * c_prev + i * g
                xp.multiply(z[:, :u], z[:, 2 * u:3 * u], out=ig)
                c += ig
                xp.tanh(c, out=tc)
                xp.multiply(z[:, 3 * u:], tc, out=s_arr[s + 1, :, :u])  # h = o * tanh(c)
                if drop is not None:  # a masked step keeps both states
                    xp.copyto(s_arr[s + 1], s_arr[s], where=drop[:, t])
        if store:
            self.s_arr, self.gates, self.tanh_c, self.kernel = s_arr, gates, tanh_c, kernel
            self.drop, self.go_backwards = drop, go_backwards
        return s_arr[1:].transpose(1, 0, 2) if return_sequences else s_arr[-1]

    def backward(self, xp, gy):
        s_arr, gates, tanh_c, drop = self.s_arr, self.gates, self.tanh_c, self.drop
        steps, b, four_u = gates.shape
        u = four_u // 4
        dt = gates.dtype
        if gy.ndim == 2:  # only the last states were returned
            dh, dc = gy[:, :u].copy(), gy[:, u:].copy()
            reached = [False] * steps
        else:  # NOTE: one pass finds the steps that gy reaches at all
            dh, dc = xp.zeros((b, u), dt), xp.zeros((b, u), dt)
            reached = gy.any(axis=(0, 2)).tolist()
        f_keep = xp.empty_like(tanh_c)
        _local_factors_(xp, gates, tanh_c, s_arr[:-1, :, u:], f_keep)
        dh_pass, dc_pass = xp.empty((b, u), dt), xp.empty((b, u), dt)
        kernel_t, blocks = self.kernel.T, gates.reshape(steps, b, 4, u)  # a view: contiguous
        for s in reversed(range(steps)):
            if reached[s]:  # dh, dc: the gradients reaching the states after step s
                dh += gy[:, s, :u]
                dc += gy[:, s, u:]
            if drop is not None:  # a masked step passes its gradient on to step s - 1
                t = steps - 1 - s if self.go_backwards else s
                for g_new, g_pass in ((dh, dh_pass), (dc, dc_pass)):
                    g_pass.fill(0)
                    xp.copyto(g_pass, g_new, where=drop[:, t])
                    xp.copyto(g_new, 0, where=drop[:, t])
            z = blocks[s]
            z[:, 3] *= dh  # d(o's pre-activation)
            dh *= tanh_c[s]  # d c through h
            dc += dh
            z[:, :3] *= dc[:, None]  # d(i, f, g pre-activations)
            dc *= f_keep[s]  # d c_prev
            xp.matmul(gates[s], kernel_t, out=dh)  # d h_prev: ONE GEMM per step
            if drop is not None:
                dh += dh_pass
                dc += dc_pass
        # NOTE: gates now hold d(x_proj) per step; the kernel's gradient is ONE GEMM.
        need = self.needs_input_grad
        g_kernel = xp.tensordot(s_arr[:-1, :, :u], gates, axes=([0, 1], [0, 1])) \
            if need[1] else None
        g_bias = gates.sum(axis=(0, 1)) if need[4] else None
        g_x = gates[::-1] if self.go_backwards else gates  # back into time order
        return (g_x.transpose(1, 0, 2) if need[0] else None, g_kernel,
                dh if need[2] else None, dc if need[3] else None, g_bias, None)


def lstm_sequence(x_proj, recurrent_kernel, initial_h, initial_c, bias=None, mask=None,
                  go_backwards=False, return_sequences=True) -> Tensor:
    """Runs an LSTM (tanh, sigmoid gates i, f, c, o in Keras's layout) over a whole sequence.

    Args:
        x_proj: (batch, time, 4 * units): the input projection ``x @ kernel`` of every step.
        recurrent_kernel: (units, 4 * units).
        initial_h, initial_c: (batch, units) initial states.
        bias: optional (4 * units,), added at each step.
        mask: optional (batch, time) booleans; a masked step keeps both states.
        go_backwards: process the time steps last to first.
        return_sequences: return the states after every step, or after the last one only.

    Returns:
        (batch, time, 2 * units): the states ``[h | c]`` after each processed step, in
        processing order; or (batch, 2 * units), the final states, without return_sequences.
    """
    _check_sequence_shapes(tuple(x_proj.shape), recurrent_kernel, initial_h, initial_c, bias,
                           mask, "lstm_sequence", "x_proj")
    return LSTMSequence.apply(x_proj, recurrent_kernel, initial_h, initial_c, bias, mask,
                              go_backwards=bool(go_backwards),
                              return_sequences=bool(return_sequences))


def _check_sequence_shapes(shape, recurrent_kernel, initial_h, initial_c, bias, mask, op, name):
    k_shape = tuple(recurrent_kernel.shape)
    units = k_shape[0] if len(k_shape) == 2 else -1
    states = tuple(initial_h.shape), tuple(initial_c.shape)
    if len(shape) != 3 or k_shape != (units, 4 * units) or shape[2] != 4 * units or \
            states != ((shape[0], units),) * 2 or \
            (bias is not None and tuple(bias.shape) != (4 * units,)) or \
            (mask is not None and tuple(mask.shape) != shape[:2]):
        raise ValueError(
            f"{op}: expects {name} (batch, time, 4u), recurrent_kernel (u, 4u), initial states "
            "(batch, u), bias (4u,) and mask (batch, time). Received: "
            f"{name}.shape={shape}, recurrent_kernel.shape={k_shape}, initial state shapes="
            f"{states}, bias.shape={None if bias is None else tuple(bias.shape)}, "
            f"mask.shape={None if mask is None else tuple(mask.shape)}")


class LSTM(Function):
    """Inputs: x (B, T, in), kernel (in, 4u), recurrent kernel (u, 4u), h0 and c0 (B, u),
    bias (4u,), mask (B, T). The final states through oneDNN where it takes the case (no mask,
    final states only); otherwise ``x @ kernel`` (the Matmul op) then LSTMSequence, their
    backward chained: the numbers of the two ops applied one after the other."""

    def forward(self, xp, x, kernel, recurrent_kernel, h0, c0, bias, mask, go_backwards,
                return_sequences):
        need, self.state = self.needs_input_grad, None
        if xp is np and mask is None and not return_sequences:
            out = onednn_rnn.lstm_forward(x, kernel, recurrent_kernel, h0, c0, bias,
                                          go_backwards, training=any(need))
            if out is not None:
                h, c, self.state = out
                return np.concatenate([h, c], axis=1)
        b, steps, n = x.shape
        self.project, self.sequence = Matmul(), LSTMSequence()
        self.project.needs_input_grad = need[:2]
        self.sequence.needs_input_grad = (need[0] or need[1],) + tuple(need[2:])
        x_proj = self.project.forward(xp, x.reshape(b * steps, n), kernel)
        return self.sequence.forward(xp, x_proj.reshape(b, steps, -1), recurrent_kernel, h0, c0,
                                     bias, mask, go_backwards, return_sequences)

    def backward(self, xp, gy):
        need = self.needs_input_grad
        if self.state is not None:
            u = gy.shape[1] // 2
            gx, gk, grk, gb, gh0, gc0 = onednn_rnn.lstm_backward(self.state, gy[:, :u],
                                                                 gy[:, u:])
        else:
            g_proj, grk, gh0, gc0, gb, _ = self.sequence.backward(xp, gy)
            gx = gk = None
            if g_proj is not None:
                b, steps, four_u = g_proj.shape
                gx, gk = self.project.backward(xp, g_proj.reshape(b * steps, four_u))
                gx = None if gx is None else gx.reshape(b, steps, -1)
        return tuple(g if n else None for g, n in zip((gx, gk, grk, gh0, gc0, gb), need)) \
            + (None,)


def lstm(x, kernel, recurrent_kernel, initial_h, initial_c, bias=None, mask=None,
         go_backwards=False, return_sequences=True) -> Tensor:
    """Runs Keras's standard LSTM (tanh, sigmoid gates i, f, c, o) over a whole sequence,
    input projection included.

    Args:
        x: (batch, time, features).
        kernel: (features, 4 * units); recurrent_kernel: (units, 4 * units).
        initial_h, initial_c, bias, mask, go_backwards, return_sequences: as for
            ``lstm_sequence``.

    Returns:
        What ``lstm_sequence`` returns for ``x @ kernel``: the states ``[h | c]`` after each
        step (batch, time, 2 * units), or after the last one (batch, 2 * units).
    """
    shape, k_shape = tuple(x.shape), tuple(kernel.shape)
    units = tuple(recurrent_kernel.shape)[0] if len(recurrent_kernel.shape) == 2 else -1
    if len(shape) != 3 or k_shape != (shape[2], 4 * units):
        raise ValueError(
            "lstm: expects x (batch, time, features) and kernel (features, 4 * units). "
            f"Received: x.shape={shape}, kernel.shape={k_shape}, "
            f"recurrent_kernel.shape={tuple(recurrent_kernel.shape)}")
    _check_sequence_shapes((shape[0], shape[1], 4 * units), recurrent_kernel, initial_h,
                           initial_c, bias, mask, "lstm", "x@kernel")
    return LSTM.apply(x, kernel, recurrent_kernel, initial_h, initial_c, bias, mask,
                      go_backwards=bool(go_backwards), return_sequences=bool(return_sequences))
