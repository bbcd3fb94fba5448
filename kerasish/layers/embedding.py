"""Embedding: integer indices -> dense vectors (``ops.take`` on the ``embeddings`` matrix)."""
from __future__ import annotations

import warnings

from engine import ops

from .. import initializers, regularizers
from .layer import Layer

# NOTE: Keras resolves "uniform" to RandomUniform(-0.05, 0.05); kerasish.initializers.get does
# not know that alias yet, so the layer maps it itself.
_INITIALIZER_ALIASES = {"uniform": "random_uniform", "normal": "random_normal"}


def _check_positive_int(name, value):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer. "
                         f"Received: {name}={value} (of type {type(value).__name__}).")


class Embedding(Layer):
    """Turns non-negative integers (indices) into dense vectors of size ``output_dim``.

    Inputs of any integer dtype are used as they are (int32/int64) or cast to int32, and so
    are float inputs. The output is ``inputs.shape + (output_dim,)`` in the layer's dtype.
    With ``mask_zero=True`` index 0 is padding: the output mask is ``inputs != 0``.
    The weight is ``embeddings`` of shape ``(input_dim, output_dim)``.

    >>> Embedding(1000, 64)(Input((10,), dtype="int32")).shape
    (None, 10, 64)
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, lora_alpha=None, quantization_config=None,
                 activity_regularizer=None, **kwargs):
        _check_positive_int("input_dim", input_dim)
        _check_positive_int("output_dim", output_dim)
        input_length = kwargs.pop("input_length", None)
        if input_length is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.",
                          stacklevel=2)
        super().__init__(**kwargs)
        for name, value in (("lora_rank", lora_rank), ("quantization_config", quantization_config),
                            ("activity_regularizer", activity_regularizer)):
            if value is not None:
                raise ValueError(f"Embedding does not support `{name}` in kerasish yet. "
                                 f"Received: {name}={value}")
        self.input_dim = input_dim
        self.output_dim = output_dim
        if isinstance(embeddings_initializer, str):
            embeddings_initializer = _INITIALIZER_ALIASES.get(embeddings_initializer,
                                                              embeddings_initializer)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = embeddings_constraint
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.embeddings = None
        if weights is not None:
            self.build(None)
            if not (isinstance(weights, list) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape=None):
        if self.embeddings is not None:
            return
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          name="embeddings",
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True  # a direct build() call is final (see set_weights after it)

    def call(self, inputs):
        if str(inputs.dtype) not in ("int32", "int64"):
            inputs = ops.cast(inputs, "int32")
        try:
            return ops.take(self.embeddings, inputs, axis=0)
        except ValueError as error:
            raise ValueError(f"Layer '{self.name}' (input_dim={self.input_dim}) received an "
                             f"index out of range: {error}") from None

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "activity_regularizer": None,
                "embeddings_constraint": self.embeddings_constraint,
                "mask_zero": self.mask_zero, "quantization_config": None}


class ReversibleEmbedding(Embedding):
    """An Embedding that can also map vectors back to logits over its vocabulary.

    ``layer(ids)`` looks up ``embeddings``; ``layer(vectors, reverse=True)`` returns
    ``vectors @ embeddings.T`` (``tie_weights=True``) or ``vectors @ reverse_embeddings`` (a
    separate ``(output_dim, input_dim)`` weight). ``reverse_dtype`` casts both operands of the
    reverse matmul; ``logit_soft_cap`` squashes the logits to ``cap * tanh(logits / cap)``.

    >>> layer = ReversibleEmbedding(100, 8)
    >>> layer(layer(np.array([[1, 2]])), reverse=True).shape
    (1, 2, 100)
    """

    def __init__(self, input_dim, output_dim, tie_weights=True, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 reverse_dtype=None, logit_soft_cap=None, **kwargs):
        # Set first: Embedding's `weights=` argument builds the layer inside its __init__.
        self.tie_weights = tie_weights
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer,
                         embeddings_constraint=embeddings_constraint, mask_zero=mask_zero,
                         **kwargs)

    def build(self, input_shape=None):
        if self.embeddings is not None:
            return
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                shape=(self.output_dim, self.input_dim), initializer=self.embeddings_initializer,
                name="reverse_embeddings")

    def call(self, inputs, reverse=False):
        if not reverse:
            return super().call(inputs)
        kernel = ops.transpose(self.embeddings) if self.tie_weights else self.reverse_embeddings
        if self.reverse_dtype is not None:
            inputs = ops.cast(inputs, self.reverse_dtype)
            kernel = ops.cast(kernel, self.reverse_dtype)
        logits = ops.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            cap = self.logit_soft_cap
            logits = ops.multiply(ops.tanh(ops.divide(logits, cap)), cap)
        return logits

    def compute_mask(self, inputs, mask=None):
        # NOTE: as Keras, only the forward lookup (integer ids) gives a mask; a reverse call
        # (float vectors) gives none.
        if str(inputs.dtype).startswith("float"):
            return None
        return super().compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return tuple(input_shape[:-1]) + (self.input_dim,)
        return tuple(input_shape) + (self.output_dim,)

    def compute_output_spec(self, inputs, reverse=False):
        from ..symbolic import KerasTensor

        dtype = self.reverse_dtype if reverse and self.reverse_dtype else self.compute_dtype
        return KerasTensor(self.compute_output_shape(inputs.shape, reverse=reverse), dtype=dtype)

    def get_config(self):
        return {**super().get_config(), "tie_weights": self.tie_weights,
                "reverse_dtype": self.reverse_dtype, "logit_soft_cap": self.logit_soft_cap}


__all__ = ["Embedding", "ReversibleEmbedding"]
