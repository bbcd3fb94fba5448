"""A sparse (COO) tensor times a dense matrix: a gather-and-sum over the stored entries, with a
scatter-add gradient. Memory is proportional to the stored entries, not to the dense shape."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .. import backend
from ..autograd import Function
from .indexing import _take_grad

if TYPE_CHECKING:
    from ..tensor import Tensor

__all__ = ["sparse_dense_matmul"]


class SparseDenseMatmul(Function):
    def forward(self, xp, values, dense, rows, cols, num_rows):
        self.values, self.dense, self.rows, self.cols = values, dense, rows, cols
        # NOTE: (nnz, units) rows of `dense`, each scaled by its entry, summed into its output
        # row; `_take_grad` is exactly that scatter-add (exact with repeated rows).
        picked = dense[cols] * values[:, None]
        return _take_grad(xp, picked, rows, (num_rows, dense.shape[1]), 0)

    def backward(self, xp, gy):
        g_rows = gy[self.rows]
        gvalues = (g_rows * self.dense[self.cols]).sum(axis=-1) \
            if self.needs_input_grad[0] else None
        gdense = _take_grad(xp, g_rows * self.values[:, None], self.cols, self.dense.shape, 0) \
            if self.needs_input_grad[1] else None
        return gvalues, gdense, None, None


def sparse_dense_matmul(indices, values, dense_shape, dense) -> Tensor:
    """``S @ dense`` for the sparse tensor ``S`` given in coordinate (COO) form.

    Args:
        indices: integer array ``(nnz, rank)``: the coordinates of the stored entries of ``S``.
        values: ``(nnz,)``: the stored entries (a Tensor to differentiate them).
        dense_shape: the shape of ``S``; its last axis is contracted with ``dense``'s first.
        dense: ``(dense_shape[-1], units)``.

    Returns:
        Tensor of shape ``dense_shape[:-1] + (units,)``; absent entries count as zeros, and
        repeated coordinates add up.

    >>> sparse_dense_matmul([[0, 2], [1, 0]], [1.0, 2.0], (2, 3), np.eye(3)).numpy().tolist()
    [[0.0, 0.0, 1.0], [2.0, 0.0, 0.0]]
    """
    from ..tensor import Tensor

    dense_shape = tuple(int(d) for d in dense_shape)
    dense_array = dense.data if isinstance(dense, Tensor) else dense
    xp = backend.get_array_module(dense_array)
    indices = xp.asarray(indices).reshape(-1, len(dense_shape))
    if len(dense_shape) < 2 or dense_array.ndim != 2 or dense_array.shape[0] != dense_shape[-1]:
        raise ValueError(
            "sparse_dense_matmul: the sparse tensor must have rank >= 2 and `dense` shape "
            f"(dense_shape[-1], units). Received: dense_shape={dense_shape}, "
            f"dense.shape={tuple(dense_array.shape)}")
    if indices.dtype.kind not in "iu":
        raise TypeError("sparse_dense_matmul: indices must be integers. Received: "
                        f"indices.dtype={indices.dtype}")
    # NOTE: one host sync; CuPy would wrap bad coordinates silently.
    if indices.size and bool(((indices < 0) | (indices >= xp.asarray(dense_shape))).any()):
        raise ValueError(f"sparse_dense_matmul: coordinates must lie in [0, dense_shape). "
                         f"Received: dense_shape={dense_shape}, indices with min="
                         f"{int(indices.min())}, max per axis={backend.to_numpy(indices.max(0))}")
    if not isinstance(values, Tensor):
        values = xp.asarray(values, dtype=dense_array.dtype)
    if tuple(values.shape) != (indices.shape[0],):
        raise ValueError("sparse_dense_matmul: one value per stored entry is expected. "
                         f"Received: indices.shape={tuple(indices.shape)}, "
                         f"values.shape={tuple(values.shape)}")
    batch_shape = dense_shape[:-1]
    rows = indices[:, 0].astype(np.int64)
    for axis in range(1, len(batch_shape)):
        rows = rows * batch_shape[axis] + indices[:, axis]
    y = SparseDenseMatmul.apply(values, dense, rows, indices[:, -1].astype(np.int64),
                                num_rows=int(np.prod(batch_shape)))
    return y if len(batch_shape) == 1 else y.reshape(batch_shape + (dense_array.shape[1],))
