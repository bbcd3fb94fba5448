"""GroupedQueryAttention (Ainslie et al., 2023): query heads share fewer key/value heads."""
from __future__ import annotations

import math

from engine import ops

from ... import constraints, initializers, regularizers
from ...symbolic import KerasTensor
from ..activation_layers import Softmax
from ..core import Dropout
from ..einsum_dense import EinsumDense
from ..layer import Layer
from .multi_head_attention import (as_tensor, attention_mask_from, check_flash, keras_mask,
                                   prefix_paths, sublayer_kwargs, unmasked)


class GroupedQueryAttention(Layer):
    """Attention with ``num_query_heads`` query heads and ``num_key_value_heads`` key/value
    heads, each key/value head serving ``num_query_heads // num_key_value_heads`` query heads.

    Called as ``layer(query, value, key=None, attention_mask=None, ...)`` on ``(B, T, dim)`` /
    ``(B, S, dim)`` inputs; returns ``(B, T, dim)``. Its EinsumDense sub-layers are ``query``
    (kernel ``(dim, num_query_heads, head_dim)``), ``key`` and ``value`` (kernels ``(dim,
    num_key_value_heads, head_dim)``) and ``attention_output`` (``(num_query_heads, head_dim,
    dim)``). Exported as ``GroupQueryAttention``, as Keras does. ``flash_attention`` is
    accepted for compatibility; the result is the same either way.

    >>> x = np.ones((2, 5, 16), "float32")
    >>> GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)(x, x).shape
    (2, 5, 16)
    """

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0,
                 use_bias=True, sliding_window=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.head_dim = head_dim
        self.num_query_heads = num_query_heads
        self.num_key_value_heads = num_key_value_heads
        if num_query_heads % num_key_value_heads != 0:
            raise ValueError("`num_query_heads` must be divisible by `num_key_value_heads`. "
                             f"Received: num_query_heads={num_query_heads}, "
                             f"num_key_value_heads={num_key_value_heads}")
        self.num_repeats = num_query_heads // num_key_value_heads
        self.dropout = dropout
        self.use_bias = use_bias
        self.use_gate = use_gate
        if sliding_window is not None and (not isinstance(sliding_window, int)
                                           or sliding_window <= 0):
            raise ValueError("`sliding_window` must be `None` or a positive integer. "
                             f"Received: sliding_window={sliding_window}")
        self.sliding_window = sliding_window
        self._flash_attention = flash_attention
        if flash_attention and dropout > 0.0:
            raise ValueError("Dropout is not supported when flash attention is enabled. Please "
                             f"set dropout to 0.0 to use flash attention. Received: "
                             f"dropout={dropout}")
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        # NOTE: as Keras's, the regularizer applies to this layer's output and its projections'.
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self.activity_regularizer = self._activity_regularizer
        self.seed = seed
        self._inverse_sqrt_head_dim = 1.0 / math.sqrt(float(head_dim))
        self._query_dense = None

    # sublayer_kwargs reads these names (shared with MultiHeadAttention)
    _kernel_regularizer = property(lambda self: self.kernel_regularizer)
    _bias_regularizer = property(lambda self: self.bias_regularizer)
    _kernel_constraint = property(lambda self: self.kernel_constraint)
    _bias_constraint = property(lambda self: self.bias_constraint)

    def _dense(self, equation, last_dims, bias_axes, name, activation=None):
        return EinsumDense(equation, output_shape=(None,) + tuple(last_dims),
                           bias_axes=bias_axes if self.use_bias else None, name=name,
                           activation=activation,
                           **sublayer_kwargs(self, self.kernel_initializer,
                                             self.bias_initializer))

    def build(self, query_shape, value_shape=None, key_shape=None):
        if isinstance(query_shape, dict):  # a saved build config: {"query_shape": ..., ...}
            return self.build(**query_shape)
        if value_shape is None:
            return  # NOTE: built on the first call, when the value's shape is known
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        self._build_shapes = {"query_shape": query_shape, "value_shape": value_shape}
        self.feature_dim = query_shape[-1]
        q_heads = (self.num_query_heads, self.head_dim)
        kv_heads = (self.num_key_value_heads, self.head_dim)
        self._query_dense = self._dense("bqm,muh->bquh", q_heads, "uh", "query")
        self._query_dense._maybe_build(query_shape)
        self._key_dense = self._dense("bkm,mvh->bkvh", kv_heads, "vh", "key")
        self._key_dense._maybe_build(key_shape)
        if self.use_gate:
            self._gate_dense = self._dense("bqm,muh->bquh", q_heads, "uh", "gate",
                                           activation="sigmoid")
            self._gate_dense._maybe_build(query_shape)
        self._value_dense = self._dense("bkm,mvh->bkvh", kv_heads, "vh", "value")
        self._value_dense._maybe_build(value_shape)
        self._softmax = Softmax(axis=-1, dtype=self.dtype_policy)
        self._dropout_layer = Dropout(rate=self.dropout, dtype=self.dtype_policy, seed=self.seed)
        self._dot_product_equation = "bquh,bkuh->buqk"
        self._combine_equation = "buqk,bkuh->bquh"
        self._output_dense = self._dense("bquh,uhm->bqm", (self.feature_dim,), "m",
                                         "attention_output")
        self._output_dense._maybe_build((None, None, self.num_query_heads, self.head_dim))
        prefix_paths(self)

    def _compute_attention(self, query, key, value, attention_mask=None, training=None):
        query = ops.multiply(query, self._inverse_sqrt_head_dim)
        scores = ops.einsum(self._dot_product_equation, query, key)  # (B, heads, T, S)
        if attention_mask is not None:
            for _ in range(len(scores.shape) - len(attention_mask.shape)):
                attention_mask = ops.expand_dims(attention_mask, -3)
        scores = self._softmax(scores, mask=attention_mask)
        dropped = self._dropout_layer(scores, training=training) if self.dropout > 0 else scores
        return ops.einsum(self._combine_equation, dropped, value), scores

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        check_flash(self._flash_attention, return_attention_scores)
        separate_key = key is not None and key is not value
        value = as_tensor(self, value)
        key = as_tensor(self, key) if separate_key else None
        if self._query_dense is None:
            self.build(tuple(query.shape), tuple(value.shape),
                       None if key is None else tuple(key.shape))
        query_mask = keras_mask(query) if query_mask is None else query_mask
        value_mask = keras_mask(value) if value_mask is None else value_mask
        if key_mask is None and separate_key:
            key_mask = keras_mask(key)
        key = value if key is None else key
        attention_mask = attention_mask_from(
            query, value, query_mask, value_mask, key_mask, as_tensor(self, attention_mask),
            use_causal_mask, self.sliding_window)
        query, key, value = unmasked(query), unmasked(key), unmasked(value)
        gate = self._gate_dense(query) if self.use_gate else None
        # Each key/value head serves `num_repeats` consecutive query heads.
        key = ops.repeat(self._key_dense(key), self.num_repeats, axis=2)
        value = ops.repeat(self._value_dense(value), self.num_repeats, axis=2)
        output, scores = self._compute_attention(self._query_dense(query), key, value,
                                                 attention_mask, training)
        if gate is not None:
            output = ops.multiply(output, gate)
        output = self._output_dense(output)
        return (output, scores) if return_attention_scores else output

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        if value_shape is not None:
            if query_shape[-1] != value_shape[-1]:
                raise ValueError("The last dimension of `query_shape` and `value_shape` must be "
                                 f"equal, but are {query_shape[-1]}, {value_shape[-1]}. "
                                 f"Received: query_shape={tuple(query_shape)}, "
                                 f"value_shape={tuple(value_shape)}")
            key_shape = value_shape if key_shape is None else key_shape
            if tuple(value_shape)[1:-1] != tuple(key_shape)[1:-1]:
                raise ValueError("All dimensions of `value` and `key`, except the last one, "
                                 f"must be equal. Received: value_shape={tuple(value_shape)} "
                                 f"and key_shape={tuple(key_shape)}")
        return tuple(query_shape)

    def compute_output_spec(self, query, value, key=None, query_mask=None, value_mask=None,
                            key_mask=None, attention_mask=None, return_attention_scores=False,
                            training=None, use_causal_mask=False):
        out = KerasTensor(self.compute_output_shape(
            query.shape, value.shape, None if key is None else key.shape), dtype=self.compute_dtype)
        if self._query_dense is None:
            self.build(query.shape, value.shape, None if key is None else key.shape)
        if not return_attention_scores:
            return out
        source = value if key is None else key
        return out, KerasTensor((query.shape[0], self.num_query_heads, query.shape[1],
                                 source.shape[1]), dtype=self.compute_dtype)

    def get_config(self):
        return {**super().get_config(), "head_dim": self.head_dim,
                "num_query_heads": self.num_query_heads,
                "num_key_value_heads": self.num_key_value_heads, "use_bias": self.use_bias,
                "use_gate": self.use_gate, "sliding_window": self.sliding_window,
                "dropout": self.dropout,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self._activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "seed": self.seed}


__all__ = ["GroupedQueryAttention"]
