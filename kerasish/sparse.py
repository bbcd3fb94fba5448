"""SparseBatch: a batch in coordinate (COO) form, made by the encoding layers with
``sparse=True`` and consumed by ``Dense`` and ``LinearModel`` as a gather-and-sum (the contract
is docs/sparse.md)."""
from __future__ import annotations

import numpy as np

import engine
from engine import Tensor, backend


class SparseBatch:
    """``indices`` ``(nnz, rank)`` int64, ``values`` ``(nnz,)`` (an array, or a Tensor to
    differentiate them) and ``dense_shape``: the dense tensor holding ``values`` at
    ``indices`` and zeros elsewhere (repeated coordinates add up).

    >>> s = SparseBatch([[0, 2], [1, 0]], [1.0, 2.0], (2, 3))
    >>> s.to_dense().numpy().tolist()
    [[0.0, 0.0, 1.0], [2.0, 0.0, 0.0]]
    """

    def __init__(self, indices, values, dense_shape):
        self.dense_shape = tuple(int(d) for d in dense_shape)
        data = values.data if isinstance(values, Tensor) else values
        xp = backend.get_array_module(data) if hasattr(data, "dtype") else np
        if not isinstance(values, Tensor):
            # NOTE: Python numbers become float32 (never a silent float64).
            values = xp.asarray(values) if hasattr(values, "dtype") else \
                xp.asarray(values, dtype=np.float32)
            if values.dtype.kind != "f":
                values = values.astype(np.float32)
        self.values = values
        self.indices = xp.asarray(indices, dtype=np.int64).reshape(-1, len(self.dense_shape))
        if self.indices.shape[0] != self.values.shape[0]:
            raise ValueError("SparseBatch: one value per stored entry is expected. Received: "
                             f"indices.shape={tuple(self.indices.shape)}, "
                             f"values.shape={tuple(self.values.shape)}")

    @property
    def shape(self):
        return self.dense_shape

    @property
    def ndim(self) -> int:
        return len(self.dense_shape)

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def nnz(self) -> int:
        return int(self.indices.shape[0])

    def _values_array(self):
        return self.values.data if isinstance(self.values, Tensor) else self.values

    def matmul(self, kernel) -> Tensor:
        """``self @ kernel`` for a ``(dense_shape[-1], units)`` kernel, without the dense
        batch: ``engine.ops.sparse_dense_matmul``."""
        values = self.values
        kernel_dtype = kernel.dtype
        if values.dtype != kernel_dtype:
            values = engine.ops.cast(values, kernel_dtype) if isinstance(values, Tensor) \
                else values.astype(kernel_dtype)
        return engine.ops.sparse_dense_matmul(self.indices, values, self.dense_shape, kernel)

    def to_dense(self) -> Tensor:
        """The dense Tensor (made of constants: no gradient reaches ``values``)."""
        values = self._values_array()
        xp = backend.get_array_module(values)
        flat = xp.zeros(int(np.prod(self.dense_shape)), dtype=values.dtype)
        if self.nnz:
            keys = xp.ravel_multi_index(tuple(self.indices.T), self.dense_shape)
            # NOTE: bincount, not fancy `+=`: repeated coordinates must add up.
            flat += xp.bincount(keys, weights=values, minlength=flat.size).astype(flat.dtype)
        return Tensor(flat.reshape(self.dense_shape))

    @classmethod
    def from_dense(cls, x):
        """The entries of ``x`` that are not zero, in row-major order."""
        array = x.data if isinstance(x, Tensor) else x
        xp = backend.get_array_module(array) if hasattr(array, "dtype") else np
        array = xp.asarray(array)
        indices = xp.stack(xp.nonzero(array), axis=-1) if array.ndim else xp.zeros((0, 0))
        return cls(indices, array[tuple(indices.T)], array.shape)

    def to(self, device):
        """The same batch with its arrays on ``device`` ("cpu" or "gpu")."""
        values = self.values.to(device) if isinstance(self.values, Tensor) else \
            backend.to_device(self.values, device)
        return SparseBatch(backend.to_device(self.indices, device), values, self.dense_shape)

    def __repr__(self):
        return (f"<SparseBatch dense_shape={self.dense_shape}, nnz={self.nnz}, "
                f"dtype={np.dtype(self.dtype).name}>")


def is_sparse(x) -> bool:
    return isinstance(x, SparseBatch)
