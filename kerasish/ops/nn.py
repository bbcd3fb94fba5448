"""Keras 3's ``keras.ops.nn``: activations, normalization, losses, encodings and attention.

Convolutions and pooling live in ``_nn_conv.py``, CTC in ``_nn_ctc.py``; all are exported here.
"""
from __future__ import annotations

import math

from engine import Tensor
from engine import ops as E

from .. import config
from ._base import array, const, float_tensor, shape_of, spec, tensor, xp_of
from ._nn_conv import (adaptive_average_pool, adaptive_max_pool, average_pool, conv,  # noqa: F401
                       conv_transpose, depth_to_space, depthwise_conv, fold, max_pool,
                       separable_conv, space_to_depth, unfold)
from ._nn_ctc import ctc_decode, ctc_loss  # noqa: F401
from ._symbolic import broadcast_shapes, elementwise_spec, keras_op, unary_spec

__all__ = [
    "adaptive_average_pool", "adaptive_max_pool", "average_pool", "batch_normalization",
    "binary_crossentropy", "categorical_crossentropy", "celu", "conv", "conv_transpose",
    "ctc_decode", "ctc_loss", "depth_to_space", "depthwise_conv", "dot_product_attention",
    "elu", "fold", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu", "hard_swish",
    "hard_tanh", "layer_normalization", "leaky_relu", "log_sigmoid", "log_softmax", "max_pool",
    "moments", "multi_hot", "normalize", "one_hot", "polar", "psnr", "relu", "relu6",
    "rms_normalization", "selu", "separable_conv", "sigmoid", "silu", "soft_shrink", "softmax",
    "softplus", "softsign", "space_to_depth", "sparse_categorical_crossentropy", "sparse_plus",
    "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh_shrink", "threshold", "unfold",
]


def _engine_unary(name, doc):
    fn = getattr(E, name)

    @keras_op(spec=unary_spec)
    def op(x):
        return fn(float_tensor(x))

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


relu = _engine_unary("relu", "Rectified linear unit: `max(x, 0)`.")
relu6 = _engine_unary("relu6", "`min(max(x, 0), 6)`.")
sigmoid = _engine_unary("sigmoid", "`1 / (1 + exp(-x))`.")
softplus = _engine_unary("softplus", "`log(1 + exp(x))`, computed stably.")
softsign = _engine_unary("softsign", "`x / (1 + |x|)`.")
silu = _engine_unary("silu", "`x * sigmoid(x)` (also called swish).")
swish = silu
log_sigmoid = _engine_unary("log_sigmoid", "`log(sigmoid(x))`, computed stably.")
hard_sigmoid = _engine_unary("hard_sigmoid", "`relu6(x + 3) / 6`.")
hard_silu = _engine_unary("hard_silu", "`x * relu6(x + 3) / 6`.")
hard_swish = hard_silu
selu = _engine_unary("selu", "Scaled exponential linear unit (Klambauer et al., 2017).")


@keras_op(spec=unary_spec)
def leaky_relu(x, negative_slope=0.2):
    """`x` for `x >= 0`, `negative_slope * x` otherwise."""
    return E.leaky_relu(float_tensor(x), negative_slope=negative_slope)


@keras_op(spec=unary_spec)
def elu(x, alpha=1.0):
    """Exponential linear unit: `x` if `x > 0` else `alpha * (exp(x) - 1)`."""
    return E.elu(float_tensor(x), alpha=alpha)


@keras_op(spec=unary_spec)
def gelu(x, approximate=True):
    """Gaussian error linear unit; the tanh approximation by default, as Keras's ops."""
    return E.gelu(float_tensor(x), approximate=approximate)


@keras_op(spec=unary_spec)
def softmax(x, axis=-1):
    """`exp(x) / sum(exp(x))` along `axis` (an int, a tuple of ints, or None for all)."""
    x = float_tensor(x)
    if axis is None or isinstance(axis, (tuple, list)):
        return E.exp(log_softmax(x, axis=axis))
    return E.softmax(x, axis=axis)


@keras_op(spec=unary_spec)
def log_softmax(x, axis=-1):
    """`x - logsumexp(x)` along `axis`."""
    x = float_tensor(x)
    if axis is None or isinstance(axis, (tuple, list)):
        axis = tuple(range(x.ndim)) if axis is None else tuple(axis)
        return x - E.logsumexp(x, axis=axis, keepdims=True)
    return E.log_softmax(x, axis=axis)


@keras_op(spec=unary_spec)
def celu(x, alpha=1.0):
    """Continuously differentiable ELU: `max(x, 0) + alpha * expm1(min(x, 0) / alpha)`.

    >>> celu(np.array([-1.0, 0.0, 2.0], "float32")).numpy().round(4)
    array([-0.6321,  0.    ,  2.    ], dtype=float32)
    """
    x = float_tensor(x)
    return E.relu(x) + alpha * (E.exp(E.minimum(x, 0.0) / alpha) - 1.0)


def _glu_spec(x, axis=-1):
    shape = list(shape_of(x))
    if shape[axis] is not None:
        shape[axis] //= 2
    return spec(shape, x.dtype)


@keras_op(spec=_glu_spec)
def glu(x, axis=-1):
    """Gated linear unit: `a * sigmoid(b)` where `x` is split in two halves `a, b` on `axis`."""
    x = float_tensor(x)
    if x.shape[axis] % 2:
        raise ValueError("glu expects an even size on `axis`. Received: "
                         f"x.shape={tuple(x.shape)}, axis={axis}")
    a, b = E.split(x, 2, axis=axis)
    return a * E.sigmoid(b)


@keras_op(spec=unary_spec)
def hard_tanh(x):
    """`clip(x, -1, 1)`."""
    return E.clip(float_tensor(x), -1.0, 1.0)


@keras_op(spec=unary_spec)
def hard_shrink(x, threshold=0.5):
    """`x` where `|x| > threshold`, else 0."""
    x = float_tensor(x)
    return E.where(E.greater(E.abs(x), threshold), x, const(0, x))


@keras_op(spec=unary_spec)
def soft_shrink(x, threshold=0.5):
    """`x - threshold` above `threshold`, `x + threshold` below `-threshold`, else 0."""
    x = float_tensor(x)
    zero = const(0, x)
    return E.where(E.greater(x, threshold), x - threshold,
                   E.where(E.less(x, -threshold), x + threshold, zero))


@keras_op(spec=unary_spec)
def tanh_shrink(x):
    """`x - tanh(x)`."""
    x = float_tensor(x)
    return x - E.tanh(x)


@keras_op(spec=unary_spec)
def sparse_plus(x):
    """0 for `x <= -1`, `(x + 1)**2 / 4` for `-1 < x < 1`, `x` for `x >= 1`."""
    x = float_tensor(x)
    inner = E.square(x + 1.0) * 0.25
    return E.where(E.less_equal(x, -1.0), const(0, x), E.where(E.less(x, 1.0), inner, x))


@keras_op(spec=unary_spec)
def sparse_sigmoid(x):
    """0 for `x <= -1`, `(x + 1) / 2` for `-1 < x < 1`, 1 for `x >= 1`."""
    return E.clip((float_tensor(x) + 1.0) * 0.5, 0.0, 1.0)


@keras_op(spec=unary_spec)
def squareplus(x, b=4):
    """`(x + sqrt(x**2 + b)) / 2`, a smooth relu."""
    x = float_tensor(x)
    return (x + E.sqrt(E.square(x) + b)) * 0.5


@keras_op(spec=unary_spec)
def threshold(x, threshold, default_value):
    """`x` where `x > threshold`, else `default_value`."""
    x = float_tensor(x)
    return E.where(E.greater(x, threshold), x, const(default_value, x))


@keras_op(spec=unary_spec)
def sparsemax(x, axis=-1):
    """Sparsemax (Martins & Astudillo, 2016): the Euclidean projection onto the simplex.

    >>> sparsemax(np.array([1.0, 0.5, -1.0], "float32")).numpy()
    array([0.75, 0.25, 0.  ], dtype=float32)
    """
    x = float_tensor(x)
    xp = xp_of(x)
    order = xp.flip(xp.argsort(x.data, axis=axis), axis=axis)  # descending
    z = E.take_along_axis(x, Tensor(order), axis=axis)
    n = x.shape[axis]
    shape = [1] * x.ndim
    shape[axis] = n
    k = xp.arange(1, n + 1, dtype=x.dtype).reshape(shape)
    cum = xp.cumsum(z.data, axis=axis)
    support = (1 + k * z.data) > cum  # the sorted entries that stay positive
    count = xp.sum(support, axis=axis, keepdims=True)
    taken = E.sum(E.where(Tensor(support), z, const(0, z)), axis=axis, keepdims=True)
    tau = (taken - 1.0) / Tensor(count.astype(x.dtype))
    return E.relu(x - tau)


# -- normalization --------------------------------------------------------------------------

def _moments_spec(x, axes, keepdims=False, synchronized=False):
    from ._symbolic import reduce_spec
    s = reduce_spec(x, axis=axes, keepdims=keepdims)
    return s, spec(s.shape, s.dtype)


@keras_op(spec=_moments_spec)
def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and variance of `x` over `axes`; `synchronized` is accepted for Keras's API."""
    return E.moments(float_tensor(x), axes, keepdims=keepdims)


@keras_op(spec=unary_spec)
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """`(x - mean) / sqrt(variance + epsilon) * scale + offset`, parameters along `axis`."""
    x = float_tensor(x)
    n = x.shape[axis]

    def param(v):  # NOTE: scalars broadcast along `axis`, as in Keras
        if v is None:
            return None
        v = tensor(v)
        return E.broadcast_to(E.reshape(v, (1,)), (n,)) if v.size == 1 and n != 1 else v

    return E.batch_normalization(x, param(mean), param(variance), axis, offset=param(offset),
                                 scale=param(scale), epsilon=epsilon)


@keras_op(spec=unary_spec)
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, rms_scaling=False):
    """Normalizes over `axis` (zero mean, unit variance), then scales by `gamma` and adds
    `beta`. With `rms_scaling=True`, only divides by the standard deviation."""
    x = float_tensor(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    if rms_scaling:
        axes = axis if isinstance(axis, (list, tuple)) else [axis]
        y = x / E.sqrt(E.var(x, axis=tuple(axes), keepdims=True) + epsilon)
        return y if gamma is None else y * tensor(gamma)
    if isinstance(axis, (list, tuple)) and len(axis) > 1:
        mean, var = E.moments(x, tuple(axis), keepdims=True)
        y = (x - mean) / E.sqrt(var + epsilon)
        y = y if gamma is None else y * tensor(gamma)
        return y if beta is None else y + tensor(beta)
    axis = axis[0] if isinstance(axis, (list, tuple)) else axis
    return E.layer_normalization(x, None if gamma is None else tensor(gamma),
                                 None if beta is None else tensor(beta), axis=axis,
                                 epsilon=epsilon)


@keras_op(spec=unary_spec)
def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """`x / sqrt(mean(x**2, axis) + epsilon) * scale`."""
    x = float_tensor(x)
    epsilon = config.epsilon() if epsilon is None else epsilon
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    y = x / E.sqrt(E.mean(E.square(x), axis=axis, keepdims=True) + epsilon)
    return y if scale is None else y * tensor(scale)


@keras_op(spec=unary_spec)
def normalize(x, axis=-1, order=2, epsilon=None):
    """`x` divided by its `order`-norm along `axis` (at least `epsilon`)."""
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = float_tensor(x)
    if x.ndim == 0:
        x = E.reshape(x, (1,))
    epsilon = config.epsilon() if epsilon is None else epsilon
    if order == 2:
        inv = 1.0 / E.sqrt(E.sum(E.square(x), axis=axis, keepdims=True))
        return x * E.minimum(inv, 1.0 / epsilon)
    norm = E.power(E.sum(E.power(E.abs(x), float(order)), axis=axis, keepdims=True),
                   1.0 / order)
    return x / E.maximum(norm, epsilon)


# -- losses and encodings -------------------------------------------------------------------

def _loss_spec(target, output, from_logits=False, axis=-1):
    shape = list(shape_of(output))
    del shape[axis]
    return spec(shape, output.dtype)


def _sparse_loss_spec(target, output, from_logits=False, axis=-1):
    return _loss_spec(target, output, axis=axis)


@keras_op(spec=_loss_spec)
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy between one-hot `target` and probabilities (or logits) `output`."""
    return E.categorical_crossentropy(tensor(target), float_tensor(output),
                                      from_logits=from_logits, axis=axis)


@keras_op(spec=_sparse_loss_spec)
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Cross-entropy between integer `target` and probabilities (or logits) `output`."""
    return E.sparse_categorical_crossentropy(tensor(target), float_tensor(output),
                                             from_logits=from_logits, axis=axis)


@keras_op(spec=lambda target, output, from_logits=False: elementwise_spec(target, output))
def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary cross-entropy."""
    return E.binary_crossentropy(tensor(target), float_tensor(output), from_logits=from_logits)


def _one_hot_spec(x, num_classes, axis=-1, dtype=None, sparse=False):
    shape = list(shape_of(x))
    axis = len(shape) if axis == -1 else axis
    shape.insert(axis if axis >= 0 else axis + 1, num_classes)
    return spec(shape, dtype or config.floatx())


@keras_op(spec=_one_hot_spec)
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encodes the integers `x` on a new axis of size `num_classes` (-1 gives 0s)."""
    if sparse:
        raise ValueError("kerasish has no sparse tensors: one_hot(sparse=True) is not "
                         "supported. Received: sparse=True")
    return E.one_hot(tensor(x), num_classes, axis=axis, dtype=dtype or config.floatx())


def _multi_hot_spec(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    num_classes = kwargs.get("num_tokens", num_classes)
    shape = list(shape_of(inputs))
    if len(shape) > 1:
        del shape[1]
    else:
        shape = []
    shape.insert(len(shape) if axis == -1 else axis, num_classes)
    return spec(shape, dtype or config.floatx())


@keras_op(spec=_multi_hot_spec)
def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Multi-hot encodes each row of integer `inputs` (the max of their one-hot vectors)."""
    num_classes = kwargs.pop("num_tokens", num_classes)
    if num_classes is None:
        raise ValueError("multi_hot needs `num_classes`. Received: num_classes=None")
    x = tensor(inputs)
    encoded = one_hot(x, num_classes, axis=axis, dtype=dtype, sparse=sparse)
    return E.max(encoded, axis=1 if x.ndim > 1 else 0)


def _polar_spec(abs_, angle):
    return spec(broadcast_shapes(shape_of(abs_), shape_of(angle)), "complex64")


@keras_op(spec=_polar_spec)
def polar(abs_, angle):
    """The complex numbers `abs_ * (cos(angle) + 1j * sin(angle))`."""
    r, theta = array(float_tensor(abs_)), array(float_tensor(angle))
    xp = xp_of(r)
    return Tensor(r * xp.cos(theta) + 1j * (r * xp.sin(theta)))


@keras_op(spec=lambda x1, x2, max_val: spec((), x1.dtype))
def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio: `20 log10(max_val) - 10 log10(mse(x1, x2))`."""
    x1, x2 = float_tensor(x1), float_tensor(x2)
    if tuple(x1.shape) != tuple(x2.shape):
        raise ValueError(f"psnr expects inputs of one shape. Received: x1.shape="
                         f"{tuple(x1.shape)}, x2.shape={tuple(x2.shape)}")
    mse = E.mean(E.square(x1 - x2))
    return 20.0 * math.log10(max_val) - (10.0 / math.log(10.0)) * E.log(mse)


# -- attention ------------------------------------------------------------------------------

def _attention_spec(query, key, value, *args, **kwargs):
    return spec(shape_of(query)[:-1] + shape_of(value)[-1:], query.dtype)


@keras_op(spec=_attention_spec)
def dot_product_attention(query, key, value, bias=None, mask=None, scale=None, is_causal=False,
                          flash_attention=None, attn_logits_soft_cap=None):
    """Scaled dot-product attention over `(batch, seq, heads, head_dim)` tensors.

    `softmax(q k^T * scale + bias)` masked by `mask` (True = attend) and, with `is_causal`,
    by a lower-triangular mask; keys and values with fewer heads are shared by groups of
    query heads (grouped-query attention).
    """
    if flash_attention:
        raise ValueError("Flash attention is not supported by kerasish. "
                         f"Received: flash_attention={flash_attention}")
    q, k, v = float_tensor(query), float_tensor(key), float_tensor(value)
    if q.ndim != 4:
        raise ValueError("`dot_product_attention` only supports 4D inputs. Received: "
                         f"query.shape={tuple(q.shape)}, key.shape={tuple(k.shape)}, "
                         f"value.shape={tuple(v.shape)}.")
    heads, kv_heads = q.shape[2], k.shape[2]
    if heads != kv_heads:
        if heads % kv_heads:
            raise ValueError("The query heads must be a multiple of the key heads. Received: "
                             f"query.shape={tuple(q.shape)}, key.shape={tuple(k.shape)}")
        k = E.repeat(k, heads // kv_heads, axis=2)
        v = E.repeat(v, heads // kv_heads, axis=2)
    scale = 1.0 / math.sqrt(k.shape[-1]) if scale is None else scale
    logits = E.einsum("btnh,bsnh->bnts", q, k) * scale
    if bias is not None:
        logits = logits + tensor(bias)
    if attn_logits_soft_cap is not None:
        logits = E.tanh(logits / attn_logits_soft_cap) * attn_logits_soft_cap
    if mask is not None or is_causal:
        xp = xp_of(logits)
        keep = xp.ones(logits.shape, dtype=bool)
        if mask is not None:
            keep = keep & xp.asarray(array(mask)).astype(bool)
        if is_causal:
            keep = keep & xp.tril(xp.ones(logits.shape[-2:], dtype=bool))
        logits = E.where(Tensor(keep), logits, const(-0.7 * 3.38953e38, logits))
    probs = E.softmax(logits, axis=-1)
    return E.einsum("bnts,bsnh->btnh", probs, v)
