"""Keras activation names -> engine ops; ``get`` and ``serialize``."""
from __future__ import annotations

import functools
import inspect

from engine import Tensor, backend, ops

from .symbolic import is_keras_tensor


def linear(x):
    return x


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras's relu: ``x > threshold`` kept, clipped at ``max_value``, leaky below."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    if negative_slope != 0.0 and max_value is None and threshold == 0.0:
        return ops.leaky_relu(x, negative_slope=negative_slope)
    negative_part = None
    if negative_slope != 0.0:
        negative_part = ops.relu(ops.subtract(threshold, x))
    if threshold != 0.0:
        y = ops.where(ops.greater(x, threshold), x, 0.0)
    else:
        y = ops.relu(x)
    if max_value is not None:
        y = ops.clip(y, 0.0, max_value)
    if negative_part is not None:
        y = ops.subtract(y, ops.multiply(negative_part, negative_slope))
    return y


def _with_logits(output, x):
    """``output`` remembering ``x``: the cross-entropy ops then start from the logits (as Keras
    does on TensorFlow: no clipped probabilities, so a saturated output keeps its gradient)."""
    # NOTE: no extra memory while training: output's graph node holds ``x`` already.
    if isinstance(output, Tensor) and isinstance(x, Tensor):
        output._keras_logits = x
    return output


def softmax(x, axis=-1):
    return _with_logits(ops.softmax(x, axis=axis), x)


def sigmoid(x):
    return _with_logits(ops.sigmoid(x), x)


def log_softmax(x, axis=-1):
    return ops.log_softmax(x, axis=axis)


def elu(x, alpha=1.0):
    return ops.elu(x, alpha=alpha)


def leaky_relu(x, negative_slope=0.2):
    return ops.leaky_relu(x, negative_slope=negative_slope)


def gelu(x, approximate=False):
    # NOTE: keras.activations.gelu defaults to the exact form; keras.ops.gelu to the tanh one.
    return ops.gelu(x, approximate=approximate)


def _simple(name):
    fn = getattr(ops, name)

    def activation(x):
        return fn(x)

    activation.__name__ = name
    return activation


tanh, softplus, softsign, selu, relu6, hard_sigmoid, silu, log_sigmoid = (
    _simple(n) for n in ("tanh", "softplus", "softsign", "selu", "relu6", "hard_sigmoid", "silu",
                         "log_sigmoid"))
swish = silu
exponential = _simple("exp")
exponential.__name__ = "exponential"


def celu(x, alpha=1.0):
    """``max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1)`` (Barron, 2017)."""
    negative = ops.multiply(ops.subtract(ops.exp(ops.divide(ops.minimum(x, 0.0), alpha)), 1.0),
                            alpha)
    return ops.add(ops.relu(x), negative)


def glu(x, axis=-1):
    """``a * sigmoid(b)``, ``a`` and ``b`` the two halves of ``x`` along ``axis``."""
    if x.shape[axis] % 2 != 0:
        raise ValueError("glu: axis size must be divisible by 2. "
                         f"Received: x.shape={tuple(x.shape)} with axis={axis}")
    a, b = ops.split(x, 2, axis=axis)
    return ops.multiply(a, ops.sigmoid(b))


def hard_shrink(x, threshold=0.5):
    """``x`` where ``|x| > threshold``, else 0."""
    return ops.where(ops.greater(ops.absolute(x), threshold), x, 0.0)


def hard_tanh(x):
    """``x`` clipped to ``[-1, 1]``."""
    return ops.clip(x, -1.0, 1.0)


def soft_shrink(x, threshold=0.5):
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0."""
    inner = ops.where(ops.less(x, -threshold), ops.add(x, threshold), 0.0)
    return ops.where(ops.greater(x, threshold), ops.subtract(x, threshold), inner)


def sparse_plus(x):
    """0 for ``x <= -1``, ``(x + 1)**2 / 4`` for ``-1 < x < 1``, ``x`` for ``x >= 1``."""
    square = ops.multiply(ops.square(ops.add(x, 1.0)), 0.25)
    return ops.where(ops.less_equal(x, -1.0), 0.0, ops.where(ops.less(x, 1.0), square, x))


def sparse_sigmoid(x):
    """0 for ``x <= -1``, ``(x + 1) / 2`` between, 1 for ``x >= 1``."""
    return ops.clip(ops.multiply(ops.add(x, 1.0), 0.5), 0.0, 1.0)


def squareplus(x, b=4):
    """``(x + sqrt(x**2 + b)) / 2`` (So, 2021)."""
    return ops.multiply(ops.add(x, ops.sqrt(ops.add(ops.square(x), b))), 0.5)


def tanh_shrink(x):
    """``x - tanh(x)``."""
    return ops.subtract(x, ops.tanh(x))


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``."""
    return ops.where(ops.greater(x, threshold), x, default_value)


def mish(x):
    """``x * tanh(softplus(x))`` (Misra, 2019)."""
    return ops.multiply(x, ops.tanh(ops.softplus(x)))


def hard_silu(x):
    """``x * relu6(x + 3) / 6``: a piecewise approximation of silu."""
    return ops.hard_silu(x)


def sparsemax(x, axis=-1):
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis``
    (Martins & Astudillo, 2016): ``max(x - tau, 0)``, with ``tau`` making the outputs sum to 1.
    """
    # NOTE: the support (which entries stay positive) is found on the raw array and held fixed;
    # tau = (sum of x over the support - 1) / |support| is then differentiable, which gives the
    # exact Jacobian diag(s) - s s^T / |s|. Keras 3.15's own kernel sums the running sums over
    # the support instead, so its outputs do not sum to 1 once two or more entries are kept.
    data = x.data if isinstance(x, Tensor) else x
    xp = backend.get_array_module(data)
    z = -xp.sort(-data, axis=axis)
    r_shape = [1] * data.ndim
    r_shape[axis] = -1
    r = xp.arange(1, data.shape[axis] + 1, dtype=data.dtype).reshape(r_shape)
    k = xp.sum(1 + r * z > xp.cumsum(z, axis=axis), axis=axis, keepdims=True)
    z_k = xp.take_along_axis(z, k - 1, axis=axis)
    support = (data >= z_k).astype(data.dtype)
    tau = ops.divide(ops.subtract(ops.sum(ops.multiply(x, support), axis=axis, keepdims=True),
                                  1.0), k.astype(data.dtype))
    return ops.relu(ops.subtract(x, tau))


hard_swish = hard_silu


def _accepts_keras_tensors(fn, spec=None):
    """``fn`` called on a KerasTensor records a graph node, as Keras's activations do through
    ``keras.ops``; on tensors it computes."""

    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def activation(x, *args, **kwargs):
        if is_keras_tensor(x):
            from .ops._symbolic import keras_op, unary_spec  # NOTE: lazy: ops imports layers

            params = _node_params(fn, signature, x, args, kwargs)
            return keras_op(spec or unary_spec)(fn)(x, **params)
        return fn(x, *args, **kwargs)

    return activation


def _node_params(fn, signature, x, args, kwargs):
    """The arguments a graph node records: those given, and every default that the op of the
    same name in ``kerasish.ops`` takes too (a loaded model finds the op there by name, and its
    defaults may differ: gelu's ``approximate``)."""
    from . import ops as keras_ops

    bound = signature.bind(x, *args, **kwargs)
    given = dict(bound.arguments)
    bound.apply_defaults()
    op = getattr(keras_ops, fn.__name__, None)
    accepted = inspect.signature(op).parameters if op is not None else {}
    return {k: v for k, v in bound.arguments.items()
            if k != "x" and (k in given or k in accepted)}


def _glu_spec(x, axis=-1):
    from .symbolic import KerasTensor

    shape = list(x.shape)
    if shape[axis] is not None:
        shape[axis] //= 2
    return KerasTensor(shape, x.dtype)


for _name in ("linear", "relu", "softmax", "log_softmax", "elu", "leaky_relu", "gelu", "sigmoid",
              "tanh", "softplus", "softsign", "selu", "relu6", "hard_sigmoid", "silu",
              "log_sigmoid", "exponential", "celu", "glu", "hard_shrink", "hard_tanh",
              "soft_shrink", "sparse_plus", "sparse_sigmoid", "squareplus", "tanh_shrink",
              "threshold", "mish", "hard_silu", "sparsemax"):
    globals()[_name] = _accepts_keras_tensors(globals()[_name],
                                              _glu_spec if _name == "glu" else None)
swish, hard_swish = silu, hard_silu

_ALL = {fn.__name__: fn for fn in (
    linear, relu, softmax, log_softmax, elu, leaky_relu, gelu, sigmoid, tanh, softplus, softsign,
    selu, relu6, hard_sigmoid, silu, log_sigmoid, exponential, celu, glu, hard_shrink, hard_tanh,
    soft_shrink, sparse_plus, sparse_sigmoid, squareplus, tanh_shrink, threshold, mish, hard_silu,
    sparsemax)}
_ALL["swish"] = silu
_ALL["hard_swish"] = hard_silu


def get(identifier):
    """An activation function from a Keras name, a callable or None (linear)."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, dict):
        identifier = identifier.get("config", identifier.get("class_name"))
    if isinstance(identifier, str) and identifier in _ALL:
        return _ALL[identifier]
    if isinstance(identifier, str):  # "package>name" of register_keras_serializable, a scope's
        from .saving.object_registration import get_registered_object

        if callable(get_registered_object(identifier)):
            return get_registered_object(identifier)
    raise ValueError(f"Could not interpret activation function identifier: {identifier}")


def deserialize(config, custom_objects=None):
    """An activation function from its name or its ``serialize`` dict (Keras's
    ``{"class_name": "function", "config": "relu", ...}``); ``custom_objects`` maps names to
    functions of your own."""
    name = config
    if isinstance(config, dict):
        name = config.get("config", config.get("class_name"))
        if isinstance(name, dict):  # an activation object: {"class_name": ..., "config": {...}}
            name = config.get("class_name")
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if isinstance(name, str) and name in _ALL:
        return _ALL[name]
    raise ValueError(f"Could not interpret activation function identifier: {config}")


def serialize(activation) -> str:
    for name, fn in _ALL.items():
        if fn is activation:
            return name
    from .saving.object_registration import registered_name_or_none

    registered = registered_name_or_none(activation)
    if registered is not None:  # Keras's dict, so that loading finds it in the registry
        return {"module": "builtins", "class_name": "function", "config": registered,
                "registered_name": "function"}
    return getattr(activation, "__name__", "custom")
