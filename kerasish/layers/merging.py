"""Merge layers: Concatenate, Add, Subtract, Multiply, Average, Maximum, Minimum, Dot, and
their lower-case functional helpers (``concatenate([a, b])``, ``add([a, b])``, ...)."""
from __future__ import annotations

from engine import ops

from .. import config, utils
from .layer import Layer

__all__ = ["Add", "Average", "Concatenate", "Dot", "Maximum", "Merge", "Minimum", "Multiply",
           "Subtract", "add", "average", "concatenate", "dot", "maximum", "minimum", "multiply",
           "subtract"]


def _logical_or(a, b):
    return ops.where(a, True, b)


def _expand_mask(mask, x):
    """A (batch, time) mask broadcast to the shape of ``x`` (batch, time, features)."""
    if mask.ndim < x.ndim:
        mask = ops.broadcast_to(ops.expand_dims(mask, -1), tuple(x.shape))
    return mask


class Merge(Layer):
    """Base of the elementwise merge layers: a list of inputs, broadcast on non-batch axes.

    Inputs of lower rank get axes of length 1 inserted after the batch axis (Keras's rule), and
    the output mask is the OR of the input masks (None unless every input has one).
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self._reshape_required = False

    # -- shape checks ------------------------------------------------------------------------
    def _check_list(self, input_shape, least=1):
        if (not isinstance(input_shape, (list, tuple)) or len(input_shape) < least
                or not all(utils.is_shape(s) for s in input_shape)):
            raise ValueError(f"A `{type(self).__name__}` layer ('{self.name}') should be called on "
                             f"a list of at least {least} input(s). "
                             f"Received: input_shape={input_shape}")
        return [tuple(s) for s in input_shape]

    def _broadcast(self, shape1, shape2, shapes):
        """Keras's elementwise output shape of two shapes (no batch axis), aligned on the right."""
        if len(shape1) < len(shape2):
            shape1, shape2 = shape2, shape1
        if not shape2:
            return tuple(shape1)
        out = list(shape1[:-len(shape2)])
        for i, j in zip(shape1[-len(shape2):], shape2):
            if i is None or j is None:
                out.append(None)
            elif i == 1 or j == 1 or i == j:
                out.append(j if i == 1 else i)
            else:
                raise ValueError(
                    f"Inputs of layer '{self.name}' ({type(self).__name__}) have incompatible "
                    f"shapes: {shape1} and {shape2} do not broadcast (batch axis excluded). "
                    f"Received: input_shape={shapes}")
        return tuple(out)

    def _check_batch(self, shapes):
        batch_sizes = {s[0] for s in shapes if s} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(f"Layer '{self.name}' cannot merge tensors with different batch "
                             f"sizes. Received: input_shape={shapes}")
        return batch_sizes.pop() if batch_sizes else None

    def build(self, input_shape):
        shapes = self._check_list(input_shape)
        self._check_batch(shapes)
        self.compute_output_shape(shapes)  # raises on shapes that don't broadcast
        self._reshape_required = len({len(s) for s in shapes}) != 1

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        batch = self._check_batch(shapes)
        out = shapes[0][1:]
        for shape in shapes[1:]:
            out = self._broadcast(out, shape[1:], shapes)
        return (batch,) + out

    # -- call --------------------------------------------------------------------------------
    def call(self, inputs, mask=None):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A merge layer should be called on a list of inputs. "
                             f"Received: inputs={inputs} (not a list of tensors)")
        inputs = list(inputs)
        masks = list(mask) if isinstance(mask, (list, tuple)) else [None] * len(inputs)
        if self._reshape_required:
            # NOTE: Keras inserts axes after the batch axis; the masks of those inputs are lost.
            rank = max(x.ndim for x in inputs)
            for index, x in enumerate(inputs):
                if x.ndim < rank:
                    for _ in range(rank - x.ndim):
                        x = ops.expand_dims(x, 1)
                    inputs[index], masks[index] = x, None
        return self._merge_function(inputs, masks)

    def _merge_function(self, inputs, masks):
        raise NotImplementedError

    def _apply_merge_op_and_or_mask(self, op_fn, inputs, masks):
        """``op_fn`` over the inputs where masked positions take the other operand's value
        (Keras's Maximum/Minimum rule: a masked value never wins)."""
        output, output_mask = None, None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                mask = _expand_mask(mask, x)
            if output is None:
                output, output_mask = x, mask
                continue
            if mask is not None:
                x = ops.where(mask, x, output)
            if output_mask is not None:
                output = ops.where(output_mask, output, x)
            output_mask = (_logical_or(output_mask, mask)
                           if mask is not None and output_mask is not None else None)
            output = op_fn(output, x)
        return output

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)) or len(mask) != len(inputs):
            raise ValueError(f"The lists `inputs` and `mask` of layer '{self.name}' should have "
                             f"the same length. Received: mask={mask}")
        if any(m is None for m in mask):
            return None
        output_mask = mask[0]
        for m in mask[1:]:
            output_mask = _logical_or(output_mask, m)
        return output_mask


def _sum(inputs):
    output = inputs[0]
    for x in inputs[1:]:
        output = ops.add(output, x)
    return output


class Add(Merge):
    """Elementwise sum of a list of inputs.

    >>> Add()([Input((8,)), Input((8,))]).shape
    (None, 8)
    """

    def _merge_function(self, inputs, masks):
        return _sum(inputs)


class Subtract(Merge):
    """``inputs[0] - inputs[1]`` (exactly two inputs).

    >>> Subtract()([Input((8,)), Input((8,))]).shape
    (None, 8)
    """

    def build(self, input_shape):
        super().build(input_shape)
        if len(input_shape) != 2:
            raise ValueError(f"A `Subtract` layer ('{self.name}') should be called on exactly 2 "
                             f"inputs. Received: input_shape={list(input_shape)}")

    def _merge_function(self, inputs, masks):
        return ops.subtract(inputs[0], inputs[1])


class Multiply(Merge):
    """Elementwise product of a list of inputs; masked positions count as 1, and positions
    masked in every input give 0 (Keras 3).

    >>> Multiply()([Input((8,)), Input((8,))]).shape
    (None, 8)
    """

    def _merge_function(self, inputs, masks):
        has_output_mask = all(m is not None for m in masks)
        output, output_mask = None, None
        for x, mask in zip(inputs, masks):
            if mask is not None:
                mask = _expand_mask(mask, x)
                x = ops.where(mask, x, 1.0)
                if has_output_mask:
                    output_mask = mask if output_mask is None else _logical_or(output_mask, mask)
            output = x if output is None else ops.multiply(output, x)
        if has_output_mask:
            output = ops.where(output_mask, output, 0.0)
        return output


class Average(Merge):
    """Elementwise mean of a list of inputs.

    >>> Average()([Input((8,)), Input((8,))]).shape
    (None, 8)
    """

    def _merge_function(self, inputs, masks):
        return ops.divide(_sum(inputs), len(inputs))


class Maximum(Merge):
    """Elementwise maximum of a list of inputs (masked values never win).

    >>> Maximum()([Input((8,)), Input((8,))]).shape
    (None, 8)
    """

    def _merge_function(self, inputs, masks):
        return self._apply_merge_op_and_or_mask(ops.maximum, inputs, masks)


class Minimum(Merge):
    """Elementwise minimum of a list of inputs (masked values never win).

    >>> Minimum()([Input((8,)), Input((8,))]).shape
    (None, 8)
    """

    def _merge_function(self, inputs, masks):
        return self._apply_merge_op_and_or_mask(ops.minimum, inputs, masks)


class Concatenate(Merge):
    """Concatenates a list of inputs along ``axis``; every other axis must match.

    >>> Concatenate()([Input((3, 4)), Input((3, 5))]).shape
    (None, 3, 9)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"`axis` must be an integer. Received: axis={axis!r}")
        self.axis = axis

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape)
        rank = len(shapes[0])
        error = (f"A `Concatenate` layer ('{self.name}') requires inputs with matching shapes "
                 f"except for the concatenation axis {self.axis}. Received: input_shape={shapes}")
        if any(len(s) != rank for s in shapes):
            raise ValueError(error)
        if not -rank <= self.axis < rank:
            raise ValueError(f"Axis {self.axis} of layer '{self.name}' is out of bounds for inputs "
                             f"of rank {rank}. Received: input_shape={shapes}")
        axis = self.axis % rank
        out = []
        for i in range(rank):
            dims = [s[i] for s in shapes]
            if i == axis:
                out.append(None if None in dims else sum(dims))
                continue
            known = {d for d in dims if d is not None}
            if len(known) > 1:
                raise ValueError(error)
            out.append(known.pop() if known else None)
        return tuple(out)

    def call(self, inputs):
        return ops.concatenate(list(inputs), axis=self.axis)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)) or len(mask) != len(inputs):
            raise ValueError(f"The lists `inputs` and `mask` of layer '{self.name}' should have "
                             f"the same length. Received: mask={mask}")
        if all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask):
            if m is None:
                masks.append(ops.where(ops.equal(x, x), True, True))  # ones_like(x, "bool")
            else:
                masks.append(_expand_mask(m, x))
        return ops.max(ops.concatenate(masks, axis=self.axis), axis=-1)  # any over the last axis

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def _l2_normalize(x, axis):
    """``keras.ops.normalize(x, axis)``: x / max(||x||, epsilon)."""
    eps = config.epsilon()
    square_sum = ops.sum(ops.square(x), axis=axis, keepdims=True)
    # NOTE: max before sqrt (not after) keeps the gradient finite for all-zero vectors.
    return ops.divide(x, ops.sqrt(ops.maximum(square_sum, eps * eps)))


def _batch_dot(x, y, axes):
    """Keras's ``batch_dot``: contracts ``x``'s axis ``axes[0]`` with ``y``'s ``axes[1]``; the
    output keeps x's other axes, then y's (batch once); a (batch,) result becomes (batch, 1)."""
    letters = iter("cdefghijklmnopqrstuvwxyz")
    sub_x = "".join("a" if i == 0 else "b" if i == axes[0] else next(letters)
                    for i in range(x.ndim))
    sub_y = "".join("a" if i == 0 else "b" if i == axes[1] else next(letters)
                    for i in range(y.ndim))
    out = "a" + sub_x[1:].replace("b", "") + sub_y[1:].replace("b", "")
    result = ops.einsum(f"{sub_x},{sub_y}->{out}", x, y)
    return ops.expand_dims(result, -1) if result.ndim == 1 else result


class Dot(Merge):
    """Dot product of two inputs along ``axes`` (per sample); ``normalize=True`` gives cosine
    similarities.

    >>> Dot(axes=1)([Input((8,)), Input((8,))]).shape
    (None, 1)
    """

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axes, (list, tuple)):
            if len(axes) != 2 or not all(isinstance(a, int) and not isinstance(a, bool)
                                         for a in axes):
                raise ValueError("Invalid format for argument `axes`: it should be an int or a "
                                 f"list of two ints. Received: axes={axes}")
            axes = tuple(axes)
        elif isinstance(axes, bool) or not isinstance(axes, int):
            raise ValueError("Invalid type for argument `axes`: it should be an int or a list of "
                             f"two ints. Received: axes={axes!r}")
        self.axes = axes
        self.normalize = bool(normalize)
        self.supports_masking = True

    def _positive_axes(self, ndim1, ndim2):
        axes = (self.axes, self.axes) if isinstance(self.axes, int) else self.axes
        return axes[0] % ndim1, axes[1] % ndim2

    def build(self, input_shape):
        self.compute_output_shape(input_shape)

    def compute_output_shape(self, input_shape):
        shapes = self._check_list(input_shape, least=2)
        if len(shapes) != 2:
            raise ValueError(f"A `Dot` layer ('{self.name}') should be called on a list of 2 "
                             f"inputs. Received: input_shape={shapes}")
        shape1, shape2 = shapes
        self._check_batch(shapes)
        if len(shape1) < 2 or len(shape2) < 2:
            raise ValueError(f"A `Dot` layer ('{self.name}') needs inputs of rank 2 or more. "
                             f"Received: input_shape={shapes}")
        a1, a2 = self._positive_axes(len(shape1), len(shape2))
        if a1 == 0 or a2 == 0:
            raise ValueError(f"Layer '{self.name}' cannot take the dot product over the batch "
                             f"axis 0. Received: axes={self.axes}")
        d1, d2 = shape1[a1], shape2[a2]
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError(f"Incompatible input shapes for layer '{self.name}': axis values "
                             f"{d1} (at axis {a1}) != {d2} (at axis {a2}). "
                             f"Received: input_shape={shapes}")
        out = [d for i, d in enumerate(shape1) if i != a1]
        out += [d for i, d in enumerate(shape2) if i not in (0, a2)]
        return tuple(out + [1] if len(out) == 1 else out)

    def call(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Dot` layer should be called on exactly 2 inputs. "
                             f"Received: inputs={inputs}")
        x1, x2 = inputs
        axes = self._positive_axes(x1.ndim, x2.ndim)
        if self.normalize:
            x1, x2 = _l2_normalize(x1, axes[0]), _l2_normalize(x2, axes[1])
        return _batch_dot(x1, x2, axes)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), "axes": self.axes, "normalize": self.normalize}


# -- the functional helpers ------------------------------------------------------------------

def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis=axis, **kwargs)(inputs)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def add(inputs, **kwargs):
    """``Add(**kwargs)(inputs)``."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """``Subtract(**kwargs)(inputs)``."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """``Multiply(**kwargs)(inputs)``."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """``Average(**kwargs)(inputs)``."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """``Maximum(**kwargs)(inputs)``."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """``Minimum(**kwargs)(inputs)``."""
    return Minimum(**kwargs)(inputs)


def dot(inputs, axes=-1, normalize=False, **kwargs):
    """``Dot(axes=axes, normalize=normalize, **kwargs)(inputs)``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
