"""Cross-entropy losses as Keras 3's ``keras.ops`` defines them: per sample, not batch-reduced.

Each loss is one fused Function with a hand-written backward (docs/design.md, E4): from logits the
gradient is the ``softmax - target`` form and no softmax/log graph is ever built.

``from_logits=False`` follows Keras exactly: categorical outputs are first normalised to sum to
one along ``axis``, then probabilities are clipped to ``[epsilon, 1 - epsilon]`` (gradient 0
outside). ``from_logits=True`` is unclipped and stable for any logit (as Keras's TensorFlow and
JAX backends; its NumPy backend clips ``sigmoid(output)`` in ``binary_crossentropy``).

An output that carries ``_keras_logits`` (set by the Keras API's softmax and sigmoid
activations) is replaced by those logits, as Keras's TensorFlow backend does: a saturated output
then keeps its ``p - target`` gradient instead of the clip's zero. The swap happens before
``Function.apply``, so a traced step (engine.jit) records the logits path.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from ._utils import normalize_axis
from .indexing import _guard, _host_checks

__all__ = ["categorical_crossentropy", "sparse_categorical_crossentropy", "binary_crossentropy"]

EPSILON = 1e-7  # Keras's backend.epsilon()


def _compute_dtype(target, output):
    """The floating dtype of the result: output's (and a floating target's); float32 otherwise."""
    floats = [a.dtype for a in (target, output) if a.dtype.kind == "f"]
    return np.result_type(*floats) if floats else np.dtype(np.float32)


def _check_same_shape(op, target, output):
    if target.shape != output.shape:
        raise ValueError(
            f"{op}: target and output must have the same shape. "
            f"Received: target.shape={target.shape}, output.shape={output.shape}"
        )


def _check_rank(op, output):
    if output.ndim < 1:
        raise ValueError(f"{op}: output must be at least rank 1. Received: output.shape=()")


def _as_int_axis(op, axis, ndim):
    if not isinstance(axis, numbers.Integral):
        raise TypeError(f"{op}: `axis` must be an int. Received: axis={axis!r}")
    return normalize_axis(axis, ndim, op)[0]


def _clip_probs(p):
    """``p`` clipped to [eps, 1 - eps] and the mask where the clip is inactive (gradient 1)."""
    lo, hi = p.dtype.type(EPSILON), p.dtype.type(1.0 - EPSILON)
    inside = (p >= lo) & (p <= hi)
    return p.clip(lo, hi), inside


def _cast_grads(grads, dtypes):
    return tuple(None if g is None else g.astype(d, copy=False) for g, d in zip(grads, dtypes))


class CategoricalCrossentropy(Function):
    def forward(self, xp, target, output, from_logits=False, axis=-1):
        op = "categorical_crossentropy"
        _check_same_shape(op, target, output)
        _check_rank(op, output)
        self.axis = ax = _as_int_axis(op, axis, output.ndim)
        self.dtypes = target.dtype, output.dtype
        dtype = _compute_dtype(target, output)
        self.target = t = target.astype(dtype, copy=False)
        x = output.astype(dtype, copy=False)
        self.from_logits = from_logits
        if from_logits:
            # NOTE: max subtraction keeps exp() in (0, 1]: stable for any logit magnitude.
            shifted = x - x.max(axis=ax, keepdims=True)
            self.log_prob = shifted - xp.log(xp.exp(shifted).sum(axis=ax, keepdims=True))
        else:
            self.total = x.sum(axis=ax, keepdims=True)
            self.p = x / self.total
            q, self.inside = _clip_probs(self.p)
            self.q = q
            self.log_prob = xp.log(q)
        return -(t * self.log_prob).sum(axis=ax)

    def backward(self, xp, gy):
        n_target, n_output = self.needs_input_grad
        ax, t = self.axis, self.target
        gy = xp.expand_dims(gy, ax)
        g_target = -gy * self.log_prob if n_target else None
        g_output = None
        if n_output:
            if self.from_logits:
                # d/dx of -sum(t * log_softmax(x)) = softmax(x) * sum(t) - t
                softmax = xp.exp(self.log_prob)
                g_output = gy * (softmax * t.sum(axis=ax, keepdims=True) - t)
            else:
                # Through q = clip(p), p = x / sum(x): dL/dx = (g_p - sum(g_p * p)) / sum(x).
                g_p = -gy * t / self.q * self.inside
                g_output = (g_p - (g_p * self.p).sum(axis=ax, keepdims=True)) / self.total
        return _cast_grads((g_target, g_output), self.dtypes)


class SparseCategoricalCrossentropy(Function):
    def forward(self, xp, target, output, from_logits=False, axis=-1):
        op = "sparse_categorical_crossentropy"
        _check_rank(op, output)
        self.axis = ax = _as_int_axis(op, axis, output.ndim)
        if target.ndim == output.ndim and target.shape[-1] == 1:
            target = target[..., 0]  # Keras accepts (batch, 1) class ids
        expected = output.shape[:ax] + output.shape[ax + 1:]
        if target.shape != expected:
            raise ValueError(
                f"{op}: target must have output's shape without the class axis {ax} "
                f"({expected}). Received: target.shape={target.shape}, "
                f"output.shape={output.shape}"
            )
        if target.dtype.kind not in "iu":
            target = target.astype(np.int64)  # Keras casts float/bool ids to int
        self.n = n = output.shape[ax]
        # NOTE: one cheap reduction (a sync on GPU); bad ids would silently index garbage. In a
        # replayed plan on a GPU the guard flags them and makes their losses NaN instead.
        bad = (target < 0) | (target >= n) if target.size else None
        if bad is not None and _host_checks(xp) and bool(bad.any()):
            raise ValueError(
                f"{op}: class ids must lie in [0, {n}) for output.shape={output.shape}. "
                f"Received: target.min()={int(target.min())}, target.max()={int(target.max())}"
            )
        if bad is not None and not _host_checks(xp):
            self.bad, target = bad, xp.where(bad, 0, target)
        self.dtype = output.dtype
        x = output.astype(_compute_dtype(target, output), copy=False)
        self.idx = xp.expand_dims(target, ax)
        self.from_logits = from_logits
        if from_logits:
            shifted = x - x.max(axis=ax, keepdims=True)
            self.e = xp.exp(shifted)
            self.sum_e = self.e.sum(axis=ax, keepdims=True)
            log_prob_t = xp.take_along_axis(shifted, self.idx, axis=ax) - xp.log(self.sum_e)
            return self._guarded(xp, -log_prob_t.squeeze(axis=ax))
        # Only the target class's probability is needed: p_t = x_t / sum(x).
        self.total = x.sum(axis=ax, keepdims=True)
        self.p_t = xp.take_along_axis(x, self.idx, axis=ax) / self.total
        self.q_t, self.inside = _clip_probs(self.p_t)
        return self._guarded(xp, -xp.log(self.q_t).squeeze(axis=ax))

    def _guarded(self, xp, loss):
        bad = getattr(self, "bad", None)
        return loss if bad is None else _guard(xp, bad, loss)

    def _one_hot(self, xp, dtype):
        shape = [1] * self.idx.ndim
        shape[self.axis] = self.n
        classes = xp.arange(self.n).reshape(shape)
        return (classes == self.idx).astype(dtype)  # broadcasts to output's shape

    def backward(self, xp, gy):
        if not self.needs_input_grad[1]:
            return None, None
        gy = xp.expand_dims(gy, self.axis)
        if self.from_logits:
            softmax = self.e / self.sum_e
            g_output = gy * (softmax - self._one_hot(xp, softmax.dtype))
        else:
            # dL/dx_j = g_t * (onehot_j - p_t) / sum(x), with g_t = dL/dp_t.
            g_t = -gy / self.q_t * self.inside
            g_output = g_t * (self._one_hot(xp, g_t.dtype) - self.p_t) / self.total
        return None, g_output.astype(self.dtype, copy=False)


class BinaryCrossentropy(Function):
    def forward(self, xp, target, output, from_logits=False):
        op = "binary_crossentropy"
        _check_same_shape(op, target, output)
        self.dtypes = target.dtype, output.dtype
        dtype = _compute_dtype(target, output)
        self.target = t = target.astype(dtype, copy=False)
        x = output.astype(dtype, copy=False)
        self.from_logits = from_logits
        if from_logits:
            # NOTE: max(x, 0) - x*t + log1p(exp(-|x|)) never overflows (exp of a negative).
            self.x = x
            self.e = xp.exp(-xp.abs(x))
            return xp.maximum(x, 0) - x * t + xp.log1p(self.e)
        self.q, self.inside = _clip_probs(x)
        self.log_q, self.log_1mq = xp.log(self.q), xp.log(1 - self.q)
        return -(t * self.log_q + (1 - t) * self.log_1mq)

    def backward(self, xp, gy):
        n_target, n_output = self.needs_input_grad
        g_target = g_output = None
        if self.from_logits:
            if n_output:
                r = 1 / (1 + self.e)
                sigmoid = xp.where(self.x >= 0, r, self.e * r)  # stable on both sides
                g_output = gy * (sigmoid - self.target)
            if n_target:
                g_target = -gy * self.x
        else:
            if n_output:
                q = self.q
                g_output = gy * (q - self.target) / (q * (1 - q)) * self.inside
            if n_target:
                g_target = gy * (self.log_1mq - self.log_q)
        return _cast_grads((g_target, g_output), self.dtypes)


def _get_logits(output, from_logits, activation, op):
    """``(logits, True)`` for an output that remembers its logits, else ``(output, from_logits)``.

    Keras's TensorFlow backend (``_get_logits``): the logits win even with ``from_logits=True``,
    which is then most likely a mistake, so it warns.
    """
    logits = output._keras_logits if isinstance(output, Tensor) else None
    if logits is None:
        return output, from_logits
    if from_logits:
        warnings.warn(f'"`{op}` received `from_logits=True`, but the `output` argument was '
                      f"produced by a {activation} activation and thus does not represent "
                      "logits. Was this intended?", stacklevel=3)
    return logits, True


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Categorical cross-entropy between one-hot (or soft) targets and outputs, per sample.

    Args:
        target: class probabilities, same shape as ``output``.
        output: probabilities (normalised along ``axis``, then clipped), or logits; a softmax
            output that carries ``_keras_logits`` is computed from those.
        from_logits: whether ``output`` holds logits.
        axis: the class axis.

    Returns:
        ``-sum(target * log(prob), axis)``: ``output``'s shape without ``axis``.
    """
    output, from_logits = _get_logits(output, from_logits, "Softmax", "categorical_crossentropy")
    return CategoricalCrossentropy.apply(target, output, from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Categorical cross-entropy with integer class ids as targets, per sample.

    Args:
        target: integer class ids, ``output``'s shape without ``axis`` (a trailing 1 is
            accepted). No gradient flows to it.
        output: probabilities (normalised along ``axis``, then clipped), or logits; a softmax
            output that carries ``_keras_logits`` is computed from those.
        from_logits: whether ``output`` holds logits.
        axis: the class axis.

    Returns:
        ``-log(prob[target])``: ``output``'s shape without ``axis``.
    """
    output, from_logits = _get_logits(output, from_logits, "Softmax",
                                      "sparse_categorical_crossentropy")
    return SparseCategoricalCrossentropy.apply(target, output, from_logits=from_logits,
                                               axis=axis)


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary cross-entropy.

    Args:
        target: targets in [0, 1], same shape as ``output``.
        output: probabilities (clipped to [epsilon, 1 - epsilon]), or logits; a sigmoid output
            that carries ``_keras_logits`` is computed from those.
        from_logits: whether ``output`` holds logits.

    Returns:
        ``-(target * log(p) + (1 - target) * log(1 - p))``, ``output``'s shape.
    """
    output, from_logits = _get_logits(output, from_logits, "Sigmoid", "binary_crossentropy")
    return BinaryCrossentropy.apply(target, output, from_logits=from_logits)
