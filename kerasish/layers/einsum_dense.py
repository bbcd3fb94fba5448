"""EinsumDense: a dense layer whose contraction is an einsum equation (MultiHeadAttention's
projections are made of it)."""
from __future__ import annotations

import re
import string

import numpy as np

from engine import ops

from .. import activations, constraints, initializers, regularizers
from .input_spec import InputSpec
from .layer import Layer

_FORMS = (  # (pattern with "..." written as "0", which side is elided)
    (r"([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$", None),
    (r"0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$", "left"),
    (r"([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$", "right"),
)


def _split(equation):
    """(input, kernel, output specs, elided side) of ``equation``, in Keras's three forms."""
    compact = equation.replace(" ", "").replace("...", "0")
    for pattern, side in _FORMS:
        match = re.match(pattern, compact)
        if match:
            return match.group(1), match.group(2), match.group(3), side
    raise ValueError(f"Invalid einsum equation '{equation}'. Equations must be in the form "
                     "[X],[Y]->[Z], ...[X],[Y]->...[Z], or [X]...,[Y]->[Z]....")


def analyze_equation(equation, bias_axes, input_shape, output_shape):
    """Kernel shape, bias shape (or None), full output shape and the kernel's input/output axes.

    ``output_shape`` excludes the batch axis; ``None`` entries take the input's size.

    >>> analyze_equation("ab,bc->ac", "c", (None, 4), 8)[:3]
    ((4, 8), (8,), (None, 8))
    """
    in_spec, kernel_spec, out_spec, side = _split(equation)
    input_shape = tuple(input_shape)
    elided = len(input_shape) - len(in_spec)
    out = [output_shape] if isinstance(output_shape, int) else list(output_shape)
    out.insert(0, input_shape[0])
    if elided > 0 and side == "left":
        out[1:1] = input_shape[1:elided]
    elif elided > 0:
        out.extend(input_shape[len(input_shape) - elided:])
    if side == "left":
        in_pos = {c: i + elided - len(input_shape) for i, c in enumerate(in_spec)}
        out_pos = {c: i + elided for i, c in enumerate(out_spec)}
    else:
        in_pos = {c: i for i, c in enumerate(in_spec)}
        out_pos = {c: i for i, c in enumerate(out_spec)}
    for c in in_spec:
        if c in out_pos and out[out_pos[c]] is not None \
                and out[out_pos[c]] != input_shape[in_pos[c]]:
            raise ValueError(f"Input shape and output shape do not match at shared dimension "
                             f"'{c}'. Input shape is {input_shape[in_pos[c]]}, and output shape "
                             f"is {out[out_pos[c]]}. Received: equation={equation!r}")
    for c in out_spec:
        if c not in in_spec and c not in kernel_spec:
            raise ValueError(f"Dimension '{c}' was specified in the output '{out_spec}' but has "
                             f"no corresponding dim in the input spec '{in_spec}' or weight "
                             f"spec '{kernel_spec}'. Received: equation={equation!r}")
    kernel_shape, input_axes, output_axes = [], [], []
    for i, c in enumerate(kernel_spec):
        if c in out_pos:
            kernel_shape.append(out[out_pos[c]])
            output_axes.append(i)
        elif c in in_pos:
            kernel_shape.append(input_shape[in_pos[c]])
            input_axes.append(i)
        else:
            raise ValueError(f"Weight dimension '{c}' did not have a match in either the input "
                             f"spec '{in_spec}' or the output spec '{out_spec}'. For this layer, "
                             f"the weight must be fully specified. Received: equation={equation!r}")
    bias_shape = None
    if bias_axes is not None:
        for c in bias_axes:
            if c not in out_spec:
                raise ValueError(f"Bias dimension '{c}' was requested, but is not part of the "
                                 f"output spec '{out_spec}'. Received: bias_axes={bias_axes!r}")
        # The bias spans the output from its first axis on (size 1 where it does not vary).
        offset = elided if side == "left" else 0
        first = min(out_spec.find(c) for c in bias_axes)
        bias_shape = [out[i + offset] if c in bias_axes else 1
                      for i, c in enumerate(out_spec) if i >= first]
        if side != "left":
            bias_shape += [1] * max(elided, 0)
        bias_shape = tuple(bias_shape)
    return tuple(kernel_shape), bias_shape, tuple(out), input_axes, output_axes


def explicit_equation(equation, rank):
    """``equation`` with its ``...`` spelled out as letters for an input of ``rank`` axes (the
    engine's einsum takes explicit labels only)."""
    if "..." not in equation:
        return equation
    in_spec, kernel_spec, out_spec, side = _split(equation)
    free = [c for c in string.ascii_letters if c not in equation]
    dots = "".join(free[:rank - len(in_spec)])
    if side == "left":
        return f"{dots}{in_spec},{kernel_spec}->{dots}{out_spec}"
    return f"{in_spec}{dots},{kernel_spec}->{out_spec}{dots}"


def _fan_shaped(initializer, shape, input_axes, output_axes):
    """A variance-scaling initializer drawing with Keras's EinsumDense fans (the product of the
    kernel's input axes and of its output axes); other initializers as they are."""
    if not isinstance(initializer, initializers.VarianceScaling) or len(shape) <= 2:
        return initializer
    fan_in = int(np.prod([shape[a] for a in input_axes]))
    fan_out = int(np.prod([shape[a] for a in output_axes]))
    if fan_in * fan_out != int(np.prod(shape)):
        return initializer

    def draw(kernel_shape, dtype="float32"):
        # NOTE: elements are i.i.d., so drawing (fan_in, fan_out) and reshaping only sets fans.
        return np.reshape(initializer((fan_in, fan_out), dtype=dtype), kernel_shape)

    return draw


class EinsumDense(Layer):
    """A dense layer of any rank: ``activation(einsum(equation, inputs, kernel) + bias)``.

    ``output_shape`` is the output's shape without the batch axis (``None`` where the input
    gives the size); ``bias_axes`` names the output letters the bias varies along.

    >>> EinsumDense("abc,cde->abde", output_shape=(None, 2, 8), bias_axes="de")(
    ...     np.ones((1, 5, 16))).shape
    (1, 5, 2, 8)
    """

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None,
                 gptq_unpacked_column_size=None, quantization_config=None, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("lora_rank", lora_rank), ("quantization_config", quantization_config),
                           ("gptq_unpacked_column_size", gptq_unpacked_column_size)):
            if value is not None:
                raise ValueError(f"EinsumDense does not support `{arg}` in kerasish. "
                                 f"Received: {arg}={value}")
        _split(equation)
        self.equation = equation
        self.partial_output_shape = ((output_shape,) if isinstance(output_shape, int)
                                     else tuple(output_shape))
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.lora_rank = None
        self.lora_alpha = None

    def build(self, input_shape):
        kernel_shape, bias_shape, _, input_axes, output_axes = analyze_equation(
            self.equation, self.bias_axes, input_shape, self.partial_output_shape)
        self.input_spec = InputSpec(ndim=len(input_shape))
        self.kernel = self.add_weight(
            name="kernel", shape=kernel_shape,
            initializer=_fan_shaped(self.kernel_initializer, kernel_shape, input_axes,
                                    output_axes),
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.bias = None if bias_shape is None else self.add_weight(
            name="bias", shape=bias_shape, initializer=self.bias_initializer,
            regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def call(self, inputs, training=None):
        y = ops.einsum(explicit_equation(self.equation, len(inputs.shape)), inputs, self.kernel)
        if self.bias is not None:
            y = ops.add(y, self.bias)
        return self.activation(y)

    def compute_output_shape(self, input_shape):
        return analyze_equation(self.equation, self.bias_axes, input_shape,
                                self.partial_output_shape)[2]

    def get_config(self):
        return {**super().get_config(), "output_shape": self.partial_output_shape,
                "equation": self.equation, "activation": activations.serialize(self.activation),
                "bias_axes": self.bias_axes,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "quantization_config": None}


__all__ = ["EinsumDense"]
