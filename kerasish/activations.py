"""Keras activation names -> engine ops; ``get`` and ``serialize``."""
from __future__ import annotations

from engine import ops


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


def softmax(x, axis=-1):
    return ops.softmax(x, axis=axis)


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


sigmoid, tanh, softplus, softsign, selu, relu6, hard_sigmoid, silu, log_sigmoid = (
    _simple(n) for n in ("sigmoid", "tanh", "softplus", "softsign", "selu", "relu6",
                         "hard_sigmoid", "silu", "log_sigmoid"))
swish = silu
exponential = _simple("exp")
exponential.__name__ = "exponential"

_ALL = {fn.__name__: fn for fn in (
    linear, relu, softmax, log_softmax, elu, leaky_relu, gelu, sigmoid, tanh, softplus, softsign,
    selu, relu6, hard_sigmoid, silu, log_sigmoid, exponential)}
_ALL["swish"] = silu


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
    raise ValueError(f"Could not interpret activation function identifier: {identifier}")


def serialize(activation) -> str:
    for name, fn in _ALL.items():
        if fn is activation:
            return name
    return getattr(activation, "__name__", "custom")
