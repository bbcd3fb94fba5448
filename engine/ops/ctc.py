"""CTC loss (Graves et al., 2006) as Keras 3's ``keras.ops.ctc_loss``: one fused Function.

The forward pass runs the alpha recursion over the blank-extended label sequence in log space;
backward runs the beta recursion and turns the state occupancies into the gradient w.r.t. the
logits (``softmax - occupancy`` per valid frame), so no per-frame graph is ever built.
"""
from __future__ import annotations

import numpy as np

from ..autograd import Function

__all__ = ["ctc_loss"]

# NOTE: a finite log(0): logaddexp of two of them stays finite (no -inf - -inf = nan), and an
# impossible alignment gives a huge finite loss (Keras's backends use -1e5 the same way).
LOG_ZERO = -1e30


def _log_softmax(xp, x):
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))


def _shift(xp, a, k):
    """``a`` moved k states to the right along the last axis, LOG_ZERO filling in."""
    pad = xp.full(a.shape[:-1] + (k,), LOG_ZERO, dtype=a.dtype)
    return xp.concatenate([pad, a[..., :-k]], axis=-1)


def _unshift(xp, a, k):
    """``a`` moved k states to the left along the last axis, LOG_ZERO filling in."""
    pad = xp.full(a.shape[:-1] + (k,), LOG_ZERO, dtype=a.dtype)
    return xp.concatenate([a[..., k:], pad], axis=-1)


class CTCLoss(Function):
    def forward(self, xp, target, output, target_length, output_length, mask_index=0):
        if target.ndim != 2 or output.ndim != 3 or target.shape[0] != output.shape[0]:
            raise ValueError(
                "ctc_loss: expected target of shape (batch, max_label_length) and output of "
                "shape (batch, max_time, num_classes). "
                f"Received: target.shape={target.shape}, output.shape={output.shape}")
        batch, time, _ = output.shape
        self.dtype = output.dtype
        dtype = np.result_type(output.dtype, np.float32)  # as tf.nn.ctc_loss promotes
        log_probs = _log_softmax(xp, output.astype(dtype, copy=False))
        labels = target.astype(np.int64, copy=False)
        label_len = xp.asarray(target_length).astype(np.int64).reshape(batch)
        out_len = xp.asarray(output_length).astype(np.int64).reshape(batch)
        # The extended labels: blank, l1, blank, l2, ..., blank (2 * L + 1 states).
        states = 2 * labels.shape[1] + 1
        ext = xp.full((batch, states), mask_index, dtype=np.int64)
        ext[:, 1::2] = labels
        prev2 = xp.concatenate([xp.full((batch, 2), -1, dtype=np.int64), ext[:, :-2]], axis=1)
        self.skip = (ext != mask_index) & (ext != prev2)  # may jump over the blank before it
        emit = xp.take_along_axis(log_probs, ext[:, None, :], axis=2)  # (batch, time, states)
        self.live = xp.arange(time)[None, :] < out_len[:, None]  # (batch, time)
        alpha = xp.full((time, batch, states), LOG_ZERO, dtype=dtype)
        alpha[0, :, :2] = emit[:, 0, :2]
        for t in range(1, time):
            a = alpha[t - 1]
            step = xp.logaddexp(a, _shift(xp, a, 1))
            step = xp.logaddexp(step, xp.where(self.skip, _shift(xp, a, 2), LOG_ZERO))
            alpha[t] = xp.where(self.live[:, t, None], step + emit[:, t], a)
        # The path ends on the last label or on the blank after it.
        last = 2 * label_len
        final = alpha[-1]
        end_blank = xp.take_along_axis(final, last[:, None], axis=1)[:, 0]
        end_label = xp.take_along_axis(final, xp.maximum(last - 1, 0)[:, None], axis=1)[:, 0]
        log_p = xp.where(label_len > 0, xp.logaddexp(end_blank, end_label), end_blank)
        self.alpha, self.emit, self.ext, self.log_p = alpha, emit, ext, log_p
        self.last, self.label_len, self.log_probs = last, label_len, log_probs
        return (-log_p).astype(self.dtype, copy=False)

    def backward(self, xp, gy):
        if not self.needs_input_grad[1]:
            return None, None, None, None
        alpha, emit, ext, skip = self.alpha, self.emit, self.ext, self.skip
        time, batch, states = alpha.shape
        idx = xp.arange(states)[None, :]
        ends = (idx == self.last[:, None]) | ((idx == self.last[:, None] - 1)
                                              & (self.label_len[:, None] > 0))
        # beta[t, s]: log-probability of finishing from state s at frame t (t's emission not
        # included); frames at or after a sample's last frame keep the terminal value.
        terminal = xp.where(ends, 0.0, LOG_ZERO).astype(alpha.dtype)
        beta = xp.empty_like(alpha)
        beta[-1] = terminal
        skip_next = _unshift(xp, skip, 2)
        for t in range(time - 2, -1, -1):
            nxt = beta[t + 1] + emit[:, t + 1]
            step = xp.logaddexp(nxt, _unshift(xp, nxt, 1))
            step = xp.logaddexp(step, xp.where(skip_next, _unshift(xp, nxt, 2), LOG_ZERO))
            beta[t] = xp.where(self.live[:, t + 1, None], step, terminal)
        occupancy = xp.exp(alpha + beta - self.log_p[None, :, None])  # (time, batch, states)
        # NOTE: an impossible alignment (log_p ~ LOG_ZERO) gets no gradient, not garbage.
        feasible = self.log_p > LOG_ZERO / 2
        occupancy = occupancy * (self.live.T[:, :, None] & feasible[None, :, None])
        classes = self.log_probs.shape[-1]
        one_hot = (ext[:, :, None] == xp.arange(classes)).astype(alpha.dtype)
        g_log_probs = -xp.einsum("tbs,bsk->btk", occupancy, one_hot)
        softmax = xp.exp(self.log_probs)
        g = g_log_probs - softmax * g_log_probs.sum(axis=-1, keepdims=True)
        g = g * gy.astype(alpha.dtype, copy=False)[:, None, None]
        return None, g.astype(self.dtype, copy=False), None, None


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """The CTC negative log-likelihood per sample (Keras's ``keras.ops.ctc_loss``).

    Args:
        target: integer labels, shape ``(batch, max_label_length)``; ``mask_index`` is the
            blank and is not a label.
        output: logits (not softmaxed), shape ``(batch, max_time, num_classes)``.
        target_length: the number of labels of each sample, shape ``(batch,)``.
        output_length: the number of valid frames of each sample, shape ``(batch,)``.
        mask_index: the blank class.

    Returns:
        A ``(batch,)`` Tensor of losses in ``output``'s floating dtype, differentiable w.r.t.
        ``output``.
    """
    return CTCLoss.apply(target, output, target_length, output_length, mask_index=mask_index)
