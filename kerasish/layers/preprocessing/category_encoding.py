"""CategoryEncoding: integer categories to one-hot, multi-hot or count vectors, dense or as a
SparseBatch (docs/sparse.md)."""
from __future__ import annotations

import numpy as np

from engine import Tensor, backend

from ...sparse import SparseBatch
from ...symbolic import KerasTensor
from ..layer import Layer


def _array(x):
    return x.data if isinstance(x, Tensor) else x


class CategoryEncoding(Layer):
    """Encodes integer features in ``[0, num_tokens)`` as one-hot, multi-hot or count vectors
    of length ``num_tokens``.

    Args:
        num_tokens: the number of categories; inputs must lie in ``[0, num_tokens)``.
        output_mode: ``"multi_hot"`` (default; ``"binary"`` is its old name): 1 for every
            category present in a sample's last axis; ``"one_hot"``: one vector per value
            (a trailing axis of 1 is replaced); ``"count"``: how many times each category
            occurs (weighted by ``count_weights`` when given to ``call``).
        sparse: return a ``kerasish.sparse.SparseBatch`` (no ``(batch, num_tokens)`` matrix is
            made; ``Dense`` consumes it as a gather-and-sum).

    >>> CategoryEncoding(4, output_mode="count")(np.array([[0, 1], [0, 0]])).numpy()
    array([[1., 1., 0., 0.],
           [2., 0., 0., 0.]], dtype=float32)
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of tokens "
                             "is not known beforehand, use the IntegerLookup layer instead.")
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        self.num_tokens = num_tokens
        self.output_mode = output_mode
        self.sparse = sparse

    def compute_output_shape(self, input_shape):
        if input_shape is not None and len(input_shape) == 0:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and (input_shape[-1] != 1 or len(input_shape) == 1):
            return tuple(input_shape) + (self.num_tokens,)
        return tuple(input_shape[:-1]) + (self.num_tokens,)

    def compute_output_spec(self, inputs, count_weights=None):
        return KerasTensor(self.compute_output_shape(inputs.shape), dtype=self.compute_dtype,
                           sparse=self.sparse)

    def get_config(self):
        # NOTE: Keras 3.15 writes num_tokens and output_mode only; `sparse` is kept too, so
        # that a sparse encoding stays sparse after loading (Keras's __init__ takes it).
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode, "sparse": self.sparse}

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError("`count_weights` is not used when `output_mode` is not `'count'`. "
                             f"Received `count_weights={count_weights}`.")
        return encode_categorical(inputs, self.num_tokens, self.output_mode, self.compute_dtype,
                                  sparse=self.sparse, count_weights=count_weights,
                                  layer_name=self.name)


def encode_categorical(inputs, depth, output_mode, dtype, sparse=False, count_weights=None,
                       layer_name="category_encoding"):
    """Integer categories in ``[0, depth)`` as ``one_hot``/``multi_hot``/``count`` vectors,
    a Tensor of ``dtype`` or a SparseBatch (shared by the encoding and lookup layers).

    NOTE: Keras's layout: a scalar is one sample; one_hot drops a trailing axis of 1;
    multi_hot and count reduce axis 1 (axis 0 for rank-1 inputs), whatever the rank.
    """
    x = _array(inputs)
    xp = backend.get_array_module(x)
    x = xp.asarray(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"Layer '{layer_name}' encodes integer categories. Received: "
                        f"inputs.dtype={x.dtype}")
    x = x.astype(np.int64)
    if x.size and bool(((x < 0) | (x >= depth)).any()):
        raise ValueError(f"Layer '{layer_name}': input values must be in the range 0 <= values "
                         f"< num_tokens with num_tokens={depth}. Received: inputs with "
                         f"min={int(x.min())}, max={int(x.max())}")
    weights = None
    if count_weights is not None:
        weights = xp.asarray(backend.to_device(_array(count_weights), backend.device_of(x)),
                             dtype=dtype)
        if weights.shape != x.shape:
            raise ValueError(f"Layer '{layer_name}': `count_weights` must have the inputs' "
                             f"shape. Received: count_weights.shape={tuple(weights.shape)}, "
                             f"inputs.shape={tuple(x.shape)}")
    if x.ndim == 0:
        x = x.reshape(1)
        weights = None if weights is None else weights.reshape(1)
    if output_mode == "one_hot":
        batch_shape = x.shape[:-1] if x.ndim > 1 and x.shape[-1] == 1 else x.shape
        rows = xp.arange(x.size)
    else:
        axis = 1 if x.ndim > 1 else 0
        batch_shape = x.shape[:axis] + x.shape[axis + 1:]
        grid = xp.arange(int(np.prod(batch_shape)), dtype=np.int64).reshape(batch_shape)
        rows = xp.broadcast_to(xp.expand_dims(grid, axis), x.shape).reshape(-1)
    keys = rows * depth + x.reshape(-1)
    weights = None if weights is None else weights.reshape(-1)
    dense_shape = tuple(batch_shape) + (depth,)
    if not sparse:
        size = int(np.prod(dense_shape))
        if output_mode == "count":
            out = xp.bincount(keys, weights=weights, minlength=size).astype(dtype)
        else:  # NOTE: presence only: a plain set (repeated keys set the same 1)
            out = xp.zeros(size, dtype)
            out[keys] = 1
        return Tensor(out.reshape(dense_shape))
    # Sparse: one entry per distinct (row, token), sorted (Keras's canonical order).
    unique, inverse = xp.unique(keys, return_inverse=True)
    if output_mode == "multi_hot":
        values = xp.ones(unique.shape, dtype)
    else:
        values = xp.bincount(inverse.reshape(-1), weights=weights,
                             minlength=unique.size).astype(dtype)
    indices = xp.stack(xp.unravel_index(unique, dense_shape), axis=-1) if unique.size \
        else xp.zeros((0, len(dense_shape)), np.int64)
    return SparseBatch(indices, values, dense_shape)
