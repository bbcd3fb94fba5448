"""MultiHeadAttention (Vaswani et al., 2017) with Keras 3's EinsumDense projections."""
from __future__ import annotations

import math
import string

from engine import Tensor, backend, ops

from ... import constraints, initializers, regularizers
from ...symbolic import KerasTensor
from ..activation_layers import Softmax
from ..core import Dropout
from ..einsum_dense import EinsumDense
from ..layer import Layer


# -- helpers shared with GroupedQueryAttention ------------------------------------------------
def as_tensor(layer, x):
    """A call argument other than the first (value, key, masks) as an engine Tensor in the
    layer's compute dtype, its Keras mask kept."""
    if x is None:
        return None
    y = layer._to_tensor(x)
    if y is not x and keras_mask(x) is not None:
        y._keras_mask = keras_mask(x)
    return y


def check_flash(flash_attention, return_attention_scores):
    if flash_attention and return_attention_scores:
        raise ValueError("Returning attention scores is not supported when flash attention is "
                         "enabled. Please disable flash attention to access attention scores. "
                         "Received: flash_attention=True, return_attention_scores=True")


def keras_mask(x):
    return getattr(x, "_keras_mask", None)


def unmasked(x):
    """``x`` without its Keras mask, for the projections (which take none), leaving the caller's
    tensor as it is (Keras clears the mask on the tensor itself)."""
    return x if keras_mask(x) is None else ops.reshape(x, tuple(x.shape))


def _and(a, b):
    """Logical and of two boolean mask tensors (broadcasting), as engine ops."""
    return b if a is None else ops.multiply(a, b)


def seq_mask(query_len, value_len, device, window=None):
    """``(1, T, S)`` causal mask (``j <= i``), or a sliding-window one (``|i - j| < window``).

    Depends on the shapes only, so a compiled step keeps it as a constant.
    """
    xp = backend.xp_for(device)
    rows = xp.arange(query_len).reshape(1, query_len, 1)
    cols = xp.arange(value_len).reshape(1, 1, value_len)
    return Tensor(rows >= cols if window is None else xp.abs(rows - cols) < window)


def attention_mask_from(query, value, query_mask, value_mask, key_mask, attention_mask,
                        use_causal_mask, sliding_window=None):
    """Keras's merged mask: ``[B, T, 1]`` query mask & ``[B, 1, S]`` value/key masks & the
    causal or sliding-window mask & the given ``attention_mask``, all as booleans."""
    auto = None
    if query_mask is not None:
        auto = ops.expand_dims(ops.cast(query_mask, "bool"), -1)
    for m in (value_mask, key_mask):
        if m is not None:
            auto = _and(auto, ops.expand_dims(ops.cast(m, "bool"), -2))
    if use_causal_mask:
        auto = _and(auto, seq_mask(query.shape[1], value.shape[1], query.device))
    if sliding_window is not None:
        auto = _and(auto, seq_mask(query.shape[1], value.shape[1], query.device, sliding_window))
    if attention_mask is not None:
        attention_mask = ops.cast(attention_mask, "bool")
    if auto is not None:
        attention_mask = auto if attention_mask is None else _and(attention_mask, auto)
    return attention_mask


def prefix_paths(layer):
    """Sub-layer weight paths under the layer's name (``mha/query/kernel``), as Keras's."""
    for w in layer.weights:
        if not w.path.startswith(f"{layer.name}/"):
            w.path = f"{layer.name}/{w.path}"


def sublayer_kwargs(layer, kernel_initializer, bias_initializer):
    """The arguments every projection shares; initializers cloned per sub-layer, as Keras."""
    def clone(init):
        if isinstance(init, initializers.Initializer):
            return type(init).from_config(init.get_config())
        return init

    return dict(kernel_regularizer=layer._kernel_regularizer,
                bias_regularizer=layer._bias_regularizer,
                activity_regularizer=layer._activity_regularizer,
                kernel_constraint=layer._kernel_constraint,
                bias_constraint=layer._bias_constraint, dtype=layer.dtype_policy,
                kernel_initializer=clone(kernel_initializer),
                bias_initializer=clone(bias_initializer))


def _projection(free_dims, bound_dims, output_dims):
    """``(equation, bias_axes, output rank)`` of an EinsumDense that keeps ``free_dims`` axes,
    contracts ``bound_dims`` and adds ``output_dims`` (Keras's projection equations)."""
    letters = iter(string.ascii_lowercase)
    free = "".join(next(letters) for _ in range(free_dims))
    bound = "".join(next(letters) for _ in range(bound_dims))
    out = "".join(next(letters) for _ in range(output_dims))
    return f"{free}{bound},{bound}{out}->{free}{out}", out, len(free) + len(out)


def _padded_shape(rank, last_dims):
    return [None] * (rank - len(last_dims)) + list(last_dims)


def _attention_equations(rank, attn_axes):
    """(query-key product, combine) equations for projected tensors of ``rank`` axes.

    The target (query) uses ``a, b, c, ...``; the source (key/value) shares the batch and head
    axes and the last one, and takes fresh letters on the attention axes. Scores are laid out
    as batch-like axes, then the target's attention axes, then the source's.
    """
    target = string.ascii_lowercase[:rank]
    batch = [i for i in range(rank) if i not in attn_axes and i != rank - 1]
    fresh = iter(string.ascii_lowercase[rank:])
    source = "".join(next(fresh) if i in attn_axes else target[i] for i in range(rank))
    scores = "".join([target[i] for i in batch] + [target[i] for i in attn_axes]
                     + [source[i] for i in attn_axes])
    return f"{source},{target}->{scores}", f"{scores},{source}->{target}", len(scores)


class MultiHeadAttention(Layer):
    """Multi-head attention: ``num_heads`` scaled dot-product attentions over learned
    projections of ``query``, ``key`` and ``value``, concatenated and projected back.

    Called as ``layer(query, value, key=None, attention_mask=None, ...)``. ``query`` is
    ``(B, T, dim)``, ``value``/``key`` ``(B, S, dim)``; the output is ``(B, T, dim)`` (or
    ``output_shape``). The projections are EinsumDense sub-layers named ``query``, ``key``,
    ``value`` (kernels ``(dim, num_heads, key_dim)``) and ``attention_output`` (kernel
    ``(num_heads, value_dim, dim)``), as Keras's. Masks attached to the inputs
    (``_keras_mask``) are used as Keras does: query ``[B, T]``, value/key ``[B, S]``.
    ``flash_attention`` is accepted for compatibility; the result is the same either way.

    >>> x = np.ones((2, 5, 16), "float32")
    >>> MultiHeadAttention(num_heads=2, key_dim=8)(x, x).shape
    (2, 5, 16)
    """

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, sliding_window=None,
                 flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate=False, seed=None, **kwargs):
        for arg, value, optional in (("num_heads", num_heads, False), ("key_dim", key_dim, False),
                                     ("value_dim", value_dim, True)):
            if not (optional and value is None) and (
                    not isinstance(value, int) or isinstance(value, bool) or value <= 0):
                raise ValueError(f"Received an invalid value for argument `{arg}`, expected a "
                                 f"positive integer. Received: {arg}={value}")
        super().__init__(**kwargs)
        self.supports_masking = True
        self._num_heads = num_heads
        self._key_dim = key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout = dropout
        self._use_bias = use_bias
        self._use_gate = use_gate
        if output_shape:
            output_shape = (output_shape,) if isinstance(output_shape, int) else output_shape
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(f"Invalid `output_shape`: {output_shape}. When specified, the "
                                 "`output_shape` should be of type tuple, list, or int.") from None
        self._output_shape = output_shape or None
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError("`attention_axes` must be an int, list, or tuple. "
                             f"Received: attention_axes={attention_axes}")
        self._attention_axes = attention_axes
        if sliding_window is not None and (not isinstance(sliding_window, int)
                                           or sliding_window <= 0):
            raise ValueError("`sliding_window` must be `None` or a positive integer. "
                             f"Received: sliding_window={sliding_window}")
        self._sliding_window = sliding_window
        self._flash_attention = flash_attention
        if flash_attention and dropout > 0.0:
            raise ValueError("Dropout is not supported when flash attention is enabled. Please "
                             f"set dropout to 0.0 to use flash attention. Received: "
                             f"dropout={dropout}")
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(key_dim))
        self._query_dense = None

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    # -- build -------------------------------------------------------------------------------
    def _dense(self, free_dims, bound_dims, last_dims, name, activation=None):
        equation, bias_axes, rank = _projection(free_dims, bound_dims, len(last_dims))
        return EinsumDense(equation, output_shape=_padded_shape(rank - 1, last_dims),
                           bias_axes=bias_axes if self._use_bias else None, name=name,
                           activation=activation,
                           **sublayer_kwargs(self, self._kernel_initializer,
                                             self._bias_initializer))

    def build(self, query_shape, value_shape=None, key_shape=None):
        if isinstance(query_shape, dict):  # a saved build config: {"query_shape": ..., ...}
            return self.build(**query_shape)
        if value_shape is None:
            return  # NOTE: built on the first call, when the value's shape is known
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError("All dimensions of `value` and `key`, except the last one, must be "
                             f"equal. Received: value_shape={value_shape} and "
                             f"key_shape={key_shape}")
        self._build_shapes = {"query_shape": query_shape, "value_shape": value_shape}
        heads_key, heads_value = [self._num_heads, self._key_dim], [self._num_heads,
                                                                    self._value_dim]
        self._query_dense = self._dense(len(query_shape) - 1, 1, heads_key, "query")
        self._query_dense._maybe_build(query_shape)
        self._key_dense = self._dense(len(key_shape) - 1, 1, heads_key, "key")
        self._key_dense._maybe_build(key_shape)
        if self._use_gate:
            self._gate_dense = self._dense(len(query_shape) - 1, 1, heads_value, "gate",
                                           activation="sigmoid")
            self._gate_dense._maybe_build(query_shape)
        self._value_dense = self._dense(len(value_shape) - 1, 1, heads_value, "value")
        self._value_dense._maybe_build(value_shape)
        self._build_attention(len(value_shape) + 1)
        out_dims = list(self._output_shape or [query_shape[-1]])
        self._output_dense = self._dense(len(query_shape) - 1, 2, out_dims, "attention_output")
        projected = list(self._query_dense.compute_output_shape(query_shape))
        projected[-1] = self._value_dim
        self._output_dense._maybe_build(tuple(projected))
        prefix_paths(self)

    def _build_attention(self, rank):
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(a if a >= 0 else rank - 1 + a
                                         for a in self._attention_axes)
        self._dot_product_equation, self._combine_equation, scores_rank = \
            _attention_equations(rank, self._attention_axes)
        norm_axes = tuple(range(scores_rank - len(self._attention_axes), scores_rank))
        self._softmax = Softmax(axis=norm_axes, dtype=self.dtype_policy)
        self._dropout_layer = Dropout(rate=self._dropout, dtype=self.dtype_policy,
                                      seed=self.seed)

    def _ensure_built(self, query, value, key):
        if self._query_dense is None:
            self.build(tuple(query.shape), tuple(value.shape),
                       None if key is None else tuple(key.shape))

    # -- call --------------------------------------------------------------------------------
    def _masked_softmax(self, scores, attention_mask=None):
        if attention_mask is not None:
            axis = -len(self._attention_axes) * 2 - 1
            for _ in range(len(scores.shape) - len(attention_mask.shape)):
                attention_mask = ops.expand_dims(attention_mask, axis)
        return self._softmax(scores, mask=attention_mask)

    def _compute_attention(self, query, key, value, attention_mask=None, training=None):
        """Scaled dot-product attention of projected ``(B, T, N, H)`` tensors; returns the
        ``(B, T, N, H)`` output and the ``(B, N, T, S)`` scores."""
        query = ops.multiply(query, self._inverse_sqrt_key_dim)
        scores = ops.einsum(self._dot_product_equation, key, query)
        scores = self._masked_softmax(scores, attention_mask)
        dropped = self._dropout_layer(scores, training=training) if self._dropout > 0 else scores
        return ops.einsum(self._combine_equation, dropped, value), scores

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        check_flash(self._flash_attention, return_attention_scores)
        separate_key = key is not None and key is not value
        value = as_tensor(self, value)
        key = as_tensor(self, key) if separate_key else None
        self._ensure_built(query, value, key)
        query_mask = keras_mask(query) if query_mask is None else query_mask
        value_mask = keras_mask(value) if value_mask is None else value_mask
        if key_mask is None and separate_key:
            key_mask = keras_mask(key)
        key = value if key is None else key
        attention_mask = attention_mask_from(
            query, value, query_mask, value_mask, key_mask, as_tensor(self, attention_mask),
            use_causal_mask, self._sliding_window)
        query, key, value = unmasked(query), unmasked(key), unmasked(value)
        gate = self._gate_dense(query) if self._use_gate else None
        output, scores = self._compute_attention(
            self._query_dense(query), self._key_dense(key), self._value_dense(value),
            attention_mask, training)
        if gate is not None:
            output = ops.multiply(output, gate)
        output = self._output_dense(output)
        return (output, scores) if return_attention_scores else output

    # -- shapes and config -------------------------------------------------------------------
    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        query_shape = tuple(query_shape)
        if value_shape is not None and key_shape is not None and \
                tuple(value_shape)[1:-1] != tuple(key_shape)[1:-1]:
            raise ValueError("All dimensions of `value` and `key`, except the last one, must be "
                             f"equal. Received: value_shape={tuple(value_shape)} and "
                             f"key_shape={tuple(key_shape)}")
        if self._output_shape:
            return query_shape[:-1] + tuple(self._output_shape)
        return query_shape

    def compute_output_spec(self, query, value, key=None, query_mask=None, value_mask=None,
                            key_mask=None, attention_mask=None, return_attention_scores=False,
                            training=None, use_causal_mask=False):
        self._ensure_built(query, value, key)
        out = KerasTensor(self.compute_output_shape(
            query.shape, value.shape, None if key is None else key.shape), dtype=self.compute_dtype)
        if not return_attention_scores:
            return out
        scores_shape = _scores_shape(query.shape, value.shape, self._num_heads,
                                     self._attention_axes)
        return out, KerasTensor(scores_shape, dtype=self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "num_heads": self._num_heads, "key_dim": self._key_dim,
                "value_dim": self._value_dim, "dropout": self._dropout,
                "use_bias": self._use_bias, "use_gate": self._use_gate,
                "output_shape": self._output_shape, "attention_axes": self._attention_axes,
                "sliding_window": self._sliding_window,
                "kernel_initializer": initializers.serialize(self._kernel_initializer),
                "bias_initializer": initializers.serialize(self._bias_initializer),
                "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self._bias_regularizer),
                "activity_regularizer": regularizers.serialize(self._activity_regularizer),
                "kernel_constraint": constraints.serialize(self._kernel_constraint),
                "bias_constraint": constraints.serialize(self._bias_constraint),
                "seed": self.seed}


def _scores_shape(query_shape, value_shape, num_heads, attention_axes):
    """``(B, [other axes], N, T..., S...)``: the layout of ``_attention_equations``."""
    rank = len(query_shape) + 1
    axes = attention_axes or tuple(range(1, rank - 2))
    batch = [i for i in range(rank - 1) if i not in axes and i != rank - 2]
    heads = [num_heads]
    return tuple([query_shape[i] for i in batch] + heads + [query_shape[i] for i in axes]
                 + [value_shape[i] for i in axes])


__all__ = ["MultiHeadAttention"]
