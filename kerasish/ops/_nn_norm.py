"""``keras.ops.nn`` normalization, losses and encodings (re-exported by ``nn``)."""
from __future__ import annotations

import math

from engine import Tensor
from engine import ops as E

from .. import config
from ._base import array, float_tensor, shape_of, spec, tensor, xp_of
from ._symbolic import broadcast_shapes, elementwise_spec, keras_op, unary_spec


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
        # NOTE: min(1/sqrt(s), 1/eps) as Keras, written so that a zero vector divides by eps
        return x / E.sqrt(E.maximum(E.sum(E.square(x), axis=axis, keepdims=True), epsilon ** 2))
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
