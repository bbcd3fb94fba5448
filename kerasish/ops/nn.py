"""Keras 3's ``keras.ops.nn``: activations, normalization, losses, encodings and attention.

Convolutions and pooling live in ``_nn_conv.py``, normalization, losses and encodings in
``_nn_norm.py``, CTC in ``_nn_ctc.py``; all are exported here.
"""
from __future__ import annotations

import math

import numpy as np

from engine import Tensor
from engine import ops as E

from ._base import array, const, float_tensor, shape_of, spec, tensor, xp_of
from ._nn_conv import (adaptive_average_pool, adaptive_max_pool, average_pool, conv,  # noqa: F401
                       conv_transpose, depth_to_space, depthwise_conv, fold, max_pool,
                       separable_conv, space_to_depth, unfold)
from ._nn_ctc import ctc_decode, ctc_loss  # noqa: F401
from ._nn_norm import (batch_normalization, binary_crossentropy,  # noqa: F401
                       categorical_crossentropy, layer_normalization, moments, multi_hot,
                       normalize, one_hot, polar, psnr, rms_normalization,
                       sparse_categorical_crossentropy)
from ._symbolic import keras_op, unary_spec

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
        big = 65500.0 if logits.dtype == np.float16 else 3.38953e38  # Keras's large negative
        logits = E.where(Tensor(keep), logits, const(-0.7 * big, logits))
    probs = E.softmax(logits, axis=-1)
    return E.einsum("bnts,bsnh->btnh", probs, v)
