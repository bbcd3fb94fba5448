"""Normalization ops: moments, batch_normalization (given or batch statistics), layer_normalization.

Each normalization is one fat op with a fused, closed-form backward (docs/design.md, E4). With
``inv = 1 / sqrt(var + epsilon)``, ``xhat = (x - mean) * inv`` and ``g = gy * scale``, the
gradient through statistics computed over the normalized axes A is the classic
``gx = inv * (g - mean_A(g) - xhat * mean_A(g * xhat))``.
"""
from __future__ import annotations

import numbers

from .. import onednn
from ..autograd import Function
from ..tensor import Tensor
from ._utils import normalize_axis, unbroadcast

__all__ = ["batch_normalization", "batch_normalization_train", "layer_normalization", "moments"]

# Keras's default backend.epsilon(); the engine cannot read kerasish.config, so it is fixed here.
_BACKEND_EPSILON = 1e-7


def _count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _keepdims_shape(shape, axes):
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


class Mean(Function):
    def forward(self, xp, x, axes, keepdims):
        self.shape, self.axes = x.shape, axes
        return xp.mean(x, axis=axes, keepdims=keepdims)

    def backward(self, xp, gy):
        g = gy.reshape(_keepdims_shape(self.shape, self.axes)) / _count(self.shape, self.axes)
        return (xp.broadcast_to(g, self.shape).copy(),)


class Variance(Function):
    """Biased (population) variance, the one Keras's moments and batch norm use."""

    def forward(self, xp, x, axes, keepdims):
        self.axes = axes
        # NOTE: two passes, E[(x - mean)^2]; E[x^2] - mean^2 cancels catastrophically in float32.
        self.centered = x - xp.mean(x, axis=axes, keepdims=True)
        return xp.mean(self.centered * self.centered, axis=axes, keepdims=keepdims)

    def backward(self, xp, gy):
        # The path through the mean sums to zero, so only the direct term remains.
        shape = self.centered.shape
        g = gy.reshape(_keepdims_shape(shape, self.axes)) * (2 / _count(shape, self.axes))
        return (g * self.centered,)


def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and biased variance of ``x`` over ``axes`` (``keras.ops.moments``).

    Args:
        x: input tensor.
        axes: int or sequence of ints to reduce over.
        keepdims: keep the reduced axes with length 1.
        synchronized: accepted for Keras compatibility; there is one replica, so it is ignored.

    Returns:
        ``(mean, variance)``: two differentiable Tensors.
    """
    x = x if isinstance(x, Tensor) else Tensor(x)
    axes = normalize_axis(axes, x.ndim, "moments")
    mean = Mean.apply(x, axes=axes, keepdims=keepdims)
    return mean, Variance.apply(x, axes=axes, keepdims=keepdims)


# -- shared pieces of the fused normalizations ----------------------------------------------------
def _param(op_name, name, v, bshape):
    """Reshapes parameter ``v`` to ``bshape`` (broadcastable against x); None stays None."""
    if v is None:
        return None
    size = _count(bshape, range(len(bshape)))
    if v.size != size:
        raise ValueError(
            f"{op_name}: `{name}` must have {size} elements, to broadcast as {bshape} against x. "
            f"Received: {name}.shape={v.shape}"
        )
    return v.reshape(bshape)


def _param_grad(g, v, bshape):
    """Sums a full-size gradient down to parameter ``v``'s shape and dtype."""
    return unbroadcast(g, bshape).reshape(v.shape).astype(v.dtype, copy=False)


def _statistics(xp, x, axes, epsilon):
    """(mean, variance, inv, xhat) over ``axes``, all kept broadcastable against ``x``."""
    mean = xp.mean(x, axis=axes, keepdims=True)
    xhat = x - mean
    var = xp.mean(xhat * xhat, axis=axes, keepdims=True)
    inv = 1 / xp.sqrt(var + epsilon)  # NOTE: float32 + Python float stays float32 (NEP 50)
    xhat *= inv
    return mean, var, inv, xhat


def _affine(xhat, scale, offset):
    y = xhat if scale is None else xhat * scale
    return y if offset is None else y + offset


def _through_statistics(g, xhat, inv, axes):
    """Input gradient when mean and variance were computed from x itself over ``axes``."""
    mean_g = g.mean(axis=axes, keepdims=True)
    mean_gx = (g * xhat).mean(axis=axes, keepdims=True)
    return inv * (g - mean_g - xhat * mean_gx)


class _Normalize(Function):
    """Keeps what the affine part's backward needs; subclasses add the input gradient."""

    def _save(self, xhat, inv, offset, scale, scale_b, bshape):
        self.xhat, self.inv, self.bshape = xhat, inv, bshape
        self.offset, self.scale, self.scale_b = offset, scale, scale_b

    def _affine_grads(self, gy, n_offset, n_scale):
        g_offset = _param_grad(gy, self.offset, self.bshape) if n_offset else None
        g_scale = _param_grad(gy * self.xhat, self.scale, self.bshape) if n_scale else None
        g_xhat = gy if self.scale_b is None else gy * self.scale_b
        return g_xhat, g_offset, g_scale


class BatchNormalization(_Normalize):
    """Normalizes with given statistics; one fused backward for all five inputs."""

    def forward(self, xp, x, mean, variance, offset, scale, axis, epsilon):
        name = "batch_normalization"
        axis, bshape = _channel_shape(name, x, axis)
        if not any(self.needs_input_grad) and axis == x.ndim - 1:  # oneDNN's, threaded
            y = onednn.batch_norm_inference(x, mean, variance, scale, offset, epsilon)
            if y is not None:
                return y
        m, v = _param(name, "mean", mean, bshape), _param(name, "variance", variance, bshape)
        b, s = _param(name, "offset", offset, bshape), _param(name, "scale", scale, bshape)
        inv = 1 / xp.sqrt(v + epsilon)
        xhat = (x - m) * inv
        self._save(xhat, inv, offset, scale, s, bshape)
        self.mean, self.variance = mean, variance
        return _affine(xhat, s, b)

    def forward_(self, xp, x, mean, variance, offset, scale, axis, epsilon):
        """In place into x, for a compiled plan (engine.jit), when nothing needs a gradient
        (inference): the same arithmetic as ``forward`` without its three temporaries."""
        if any(self.needs_input_grad):
            return self.forward(xp, x, mean, variance, offset, scale, axis, epsilon)
        name = "batch_normalization"
        axis, bshape = _channel_shape(name, x, axis)
        if axis == x.ndim - 1 and onednn.batch_norm_inference(
                x, mean, variance, scale, offset, epsilon, out=x) is not None:
            return x  # NOTE: the same kernel as ``forward``'s, so a plan replays its bits
        b, s = _param(name, "offset", offset, bshape), _param(name, "scale", scale, bshape)
        xp.subtract(x, _param(name, "mean", mean, bshape), out=x)
        x *= 1 / xp.sqrt(_param(name, "variance", variance, bshape) + epsilon)
        if s is not None:
            x *= s
        if b is not None:
            x += b
        return x

    def backward(self, xp, gy):
        n_x, n_mean, n_var, n_offset, n_scale = self.needs_input_grad
        g_xhat, g_offset, g_scale = self._affine_grads(gy, n_offset, n_scale)
        gx = g_xhat * self.inv
        g_mean = _param_grad(-gx, self.mean, self.bshape) if n_mean else None
        g_var = None
        if n_var:
            g = g_xhat * self.xhat * (-0.5 * self.inv * self.inv)
            g_var = _param_grad(g, self.variance, self.bshape)
        return (gx if n_x else None), g_mean, g_var, g_offset, g_scale


class BatchNormalizationTrain(_Normalize):
    """Normalizes with the batch's own statistics; the gradient flows through them."""

    def forward(self, xp, x, offset, scale, axis, epsilon, stats_out):
        name = "batch_normalization_train"
        axis, bshape = _channel_shape(name, x, axis)
        self.axes = tuple(i for i in range(x.ndim) if i != axis)
        b, s = _param(name, "offset", offset, bshape), _param(name, "scale", scale, bshape)
        # oneDNN's kernel for channels-last float32 NumPy arrays: one pass each way, threaded
        self.dnnl = onednn.batch_norm_forward(x, scale, offset, epsilon) if (
            axis == x.ndim - 1) else None
        if self.dnnl is not None:
            y, mean, var, self.dnnl = self.dnnl
            self.offset, self.scale = offset, scale
            stats_out.extend([mean, var])
            return y
        mean, var, inv, xhat = _statistics(xp, x, self.axes, epsilon)
        self._save(xhat, inv, offset, scale, s, bshape)
        # NOTE: Function.apply returns one output; the batch statistics leave through here.
        stats_out.extend([mean.reshape(-1), var.reshape(-1)])
        return _affine(xhat, s, b)

    def backward(self, xp, gy):
        n_x, n_offset, n_scale = self.needs_input_grad
        if self.dnnl is not None:
            gx, g_scale, g_offset = onednn.batch_norm_backward(gy, self.dnnl)
            g_offset = g_offset.reshape(self.offset.shape) if n_offset else None
            g_scale = g_scale.reshape(self.scale.shape) if n_scale else None
            return (gx if n_x else None), g_offset, g_scale
        g_xhat, g_offset, g_scale = self._affine_grads(gy, n_offset, n_scale)
        gx = _through_statistics(g_xhat, self.xhat, self.inv, self.axes) if n_x else None
        return gx, g_offset, g_scale


class LayerNormalization(_Normalize):
    def forward(self, xp, x, gamma, beta, axis, epsilon):
        name = "layer_normalization"
        self.axes = normalize_axis(axis, x.ndim, name)
        bshape = tuple(n if i in self.axes else 1 for i, n in enumerate(x.shape))
        b, s = _param(name, "beta", beta, bshape), _param(name, "gamma", gamma, bshape)
        _, _, inv, xhat = _statistics(xp, x, self.axes, epsilon)
        self._save(xhat, inv, beta, gamma, s, bshape)
        return _affine(xhat, s, b)

    def backward(self, xp, gy):
        n_x, n_gamma, n_beta = self.needs_input_grad
        g_xhat, g_beta, g_gamma = self._affine_grads(gy, n_beta, n_gamma)
        gx = _through_statistics(g_xhat, self.xhat, self.inv, self.axes) if n_x else None
        return gx, g_gamma, g_beta


def _channel_shape(op_name, x, axis):
    """(axis, shape a per-channel vector broadcasts as: ones except x.shape[axis] at axis)."""
    if not isinstance(axis, numbers.Integral):
        raise TypeError(f"{op_name}: axis must be an int. Received: axis={axis!r}")
    axis = normalize_axis(axis, x.ndim, op_name)[0]
    return axis, tuple(n if i == axis else 1 for i, n in enumerate(x.shape))


def _kind(v):
    return "None" if v is None else f"<{type(v).__name__} of shape {getattr(v, 'shape', '?')}>"


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """Normalizes ``x`` with given statistics (``keras.ops.batch_normalization``).

    ``y = (x - mean) / sqrt(variance + epsilon) * scale + offset``, where ``mean``,
    ``variance`` and the optional ``offset``/``scale`` are 1-D of length ``x.shape[axis]``.
    This is inference mode (moving statistics); every input gets a gradient.
    """
    if mean is None or variance is None:
        raise ValueError(
            "batch_normalization needs `mean` and `variance` (use batch_normalization_train for "
            f"batch statistics). Received: mean={_kind(mean)}, variance={_kind(variance)}"
        )
    return BatchNormalization.apply(x, mean, variance, offset, scale, axis=axis, epsilon=epsilon)


def batch_normalization_train(x, axis, offset=None, scale=None, epsilon=1e-3):
    """Training-mode batch norm: normalizes ``x`` with the statistics of the batch itself.

    Statistics are taken over every axis but ``axis`` (the channel axis). The output's gradient
    goes through the batch mean and variance (one fused backward), which gives the same
    gradients as ``moments`` followed by ``batch_normalization``, at a fraction of the cost.

    Args:
        x: input tensor, e.g. (batch, height, width, channels).
        axis: int, the channel axis (-1 for channels-last).
        offset, scale: optional 1-D tensors of length ``x.shape[axis]`` (beta, gamma).
        epsilon: added to the variance.

    Returns:
        ``(y, mean, variance)``: ``y`` as ``x``; ``mean`` and ``variance`` (biased) of shape
        ``(x.shape[axis],)``, non-differentiable, for the layer's moving averages.
    """
    stats = []
    y = BatchNormalizationTrain.apply(x, offset, scale, axis=axis, epsilon=epsilon,
                                      stats_out=stats)
    return y, Tensor._wrap(stats[0]), Tensor._wrap(stats[1])


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None):
    """Layer normalization over ``axis`` (``keras.ops.layer_normalization``).

    ``y = (x - mean) / sqrt(var + epsilon) * gamma + beta`` with mean and variance over
    ``axis`` (int or tuple) of each example; ``gamma``/``beta`` span the normalized axes
    (shape ``x.shape[axis]``). ``epsilon=None`` means Keras's default ``backend.epsilon()``,
    1e-7; the LayerNormalization layer passes its own (1e-3). One fused backward.
    """
    epsilon = _BACKEND_EPSILON if epsilon is None else epsilon
    return LayerNormalization.apply(x, gamma, beta, axis=axis, epsilon=epsilon)
