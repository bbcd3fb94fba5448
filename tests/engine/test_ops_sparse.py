"""sparse_dense_matmul (COO gather-and-sum) against the dense product, with repeated
coordinates, rank-3 sparse tensors and empty rows."""
import numpy as np
import pytest

import engine
from engine import ops
from tests.engine import op_tests
from tests.helpers import OpCase, randn

# Row 1 is empty; (2, 4) appears twice (the two values add up).
IDX = np.array([[0, 1], [0, 4], [2, 4], [2, 0], [2, 4], [3, 3]])
IDX3 = np.array([[0, 0, 1], [0, 1, 2], [1, 1, 2], [1, 1, 0]])


def _dense(indices, values, shape):
    s = np.zeros(shape, values.dtype)
    np.add.at(s, tuple(indices.T), values)
    return s


CASES = [
    OpCase("sparse_dense_matmul", lambda v, w: ops.sparse_dense_matmul(IDX, v, (4, 5), w),
           [randn(6, seed=1), randn(5, 3, seed=2)],
           lambda v, w: _dense(IDX, v, (4, 5)) @ w),
    OpCase("sparse_dense_matmul", lambda v, w: ops.sparse_dense_matmul(IDX3, v, (2, 2, 3), w),
           [randn(4, seed=3), randn(3, 2, seed=4)],
           lambda v, w: _dense(IDX3, v, (2, 2, 3)) @ w, label="rank3"),
]
test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def test_constant_values_give_only_the_kernel_gradient():
    w = engine.Tensor(np.arange(10.0, dtype="float32").reshape(5, 2), requires_grad=True)
    y = ops.sparse_dense_matmul(IDX, np.ones(6, "float32"), (4, 5), w)
    assert y.dtype == np.float32 and y.shape == (4, 2)
    ops.sum(y).backward()
    # Each kernel row gets the number of times its column is stored.
    np.testing.assert_array_equal(w.grad.numpy()[:, 0], [1, 1, 0, 1, 3])


def test_errors():
    w = np.ones((5, 2), "float32")
    with pytest.raises(ValueError, match=r"lie in \[0, dense_shape\)"):
        ops.sparse_dense_matmul([[0, 5]], [1.0], (4, 5), w)
    with pytest.raises(ValueError, match="dense.shape=\\(5, 2\\)"):
        ops.sparse_dense_matmul([[0, 1]], [1.0], (4, 6), w)
    with pytest.raises(ValueError, match="one value per stored entry"):
        ops.sparse_dense_matmul([[0, 1]], [1.0, 2.0], (4, 5), w)
