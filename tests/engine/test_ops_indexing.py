"""take, take_along_axis and one_hot against NumPy; repeated indices exercise the scatter-add."""
import numpy as np
import pytest

from engine import Tensor, ops
from tests.engine import op_tests
from tests.helpers import OpCase, randn

E = randn(5, 3, seed=1)  # a small embedding table
A = randn(2, 3, 4, seed=2)
IDX = np.array([[4, 0, 4], [-1, 2, 4]])  # repeats and a negative index
ORDER = np.argsort(randn(2, 3, 4, seed=3), axis=-1)[..., :2]

CASES = [
    OpCase("take", lambda x, i: ops.take(x, i, axis=0), [E, IDX],
           lambda x, i: np.take(x, i, axis=0), label="embedding"),
    OpCase("take", lambda x, i: ops.take(x, i, axis=1), [A, np.array([2, 2, 0, -2])],
           lambda x, i: np.take(x, i, axis=1), label="axis1"),
    OpCase("take", lambda x, i: ops.take(x, i, axis=-1), [A, np.array([[1, 1], [0, 3]])],
           lambda x, i: np.take(x, i, axis=-1), label="last-axis"),
    OpCase("take", lambda x, i: ops.take(x, i), [A, np.array([23, 0, 5, 5])],
           lambda x, i: np.take(x, i), label="flattened"),
    OpCase("take", lambda x: ops.take(x, 2, axis=0), [E], lambda x: np.take(x, 2, axis=0),
           label="scalar-index"),
    OpCase("take", lambda x: ops.take(x, [[1, 1], [0, 4]], axis=0), [E],
           lambda x: np.take(x, [[1, 1], [0, 4]], axis=0), label="list-indices"),
    OpCase("take_along_axis", lambda x, i: ops.take_along_axis(x, i, axis=-1), [A, ORDER],
           lambda x, i: np.take_along_axis(x, i, axis=-1)),
    OpCase("take_along_axis", lambda x, i: ops.take_along_axis(x, i, axis=0),
           [A, np.array([[[1, 0, 1, 1]]])], lambda x, i: np.take_along_axis(x, i, axis=0),
           label="broadcast-indices"),
    OpCase("take_along_axis", lambda x, i: ops.take_along_axis(x, i, axis=1),
           [randn(2, 1, 3, seed=4), np.array([[[0, 0, 0]], [[0, 0, 0]]]).repeat(4, axis=1)],
           lambda x, i: np.take_along_axis(x, i, axis=1), label="repeat-x"),
    OpCase("take_along_axis", lambda x, i: ops.take_along_axis(x, i), [A, np.array([7, 7, -1])],
           lambda x, i: np.take_along_axis(x, i, axis=None), label="flattened"),
    OpCase("one_hot", lambda i: ops.one_hot(i, 5), [IDX],
           lambda i: np.where(i[..., None] == np.arange(5), 1.0, 0.0), grad=False),
    OpCase("one_hot", lambda i: ops.one_hot(i, 3, axis=0), [np.array([0, 2, 1, 2])],
           lambda i: np.eye(3)[i].T, grad=False, label="axis0"),
    OpCase("one_hot", lambda i: ops.one_hot(i, 4, axis=1, dtype="int32"), [IDX],
           lambda i: np.moveaxis(np.eye(4, dtype=np.int32)[np.where(i < 0, 0, i) % 4]
                                 * ((i >= 0) & (i < 4))[..., None], -1, 1),
           grad=False, label="int32-out-of-range-zeros"),
]

test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def test_take_out_of_range_names_op_and_range():
    with pytest.raises(ValueError, match=r"take: indices must be in the range \[-5, 5\) .*"
                                         r"max=5"):
        ops.take(E, np.array([0, 5]), axis=0)
    with pytest.raises(ValueError, match=r"take: .*\[-24, 24\).*min=-25"):
        ops.take(A, [-25])


def test_take_rejects_float_indices():
    with pytest.raises(TypeError, match="take: indices must be integers"):
        ops.take(E, Tensor([0.0, 1.0]), axis=0)


def test_take_along_axis_errors():
    with pytest.raises(ValueError, match="take_along_axis: indices must have the rank"):
        ops.take_along_axis(A, np.array([0, 1]), axis=1)
    with pytest.raises(ValueError, match=r"take_along_axis: .*\[-3, 3\)"):
        ops.take_along_axis(A, np.full((2, 3, 1), 3), axis=1)


def test_one_hot_errors_and_dtype():
    with pytest.raises(ValueError, match="num_classes must be a positive int"):
        ops.one_hot(IDX, 0)
    with pytest.raises(ValueError, match="one_hot: axis 4 is out of range"):
        ops.one_hot(IDX, 3, axis=4)
    y = ops.one_hot(np.array([1, 0]), 2)
    assert y.dtype == np.float32 and not y.requires_grad


def test_embedding_gradient_matches_add_at():
    table = Tensor(randn(50, 8, seed=5).astype(np.float32), requires_grad=True)
    idx = np.random.default_rng(0).integers(-50, 50, size=(16, 10))
    gy = randn(16, 10, 8, seed=6).astype(np.float32)
    ops.take(table, idx, axis=0).backward(gy)
    expected = np.zeros((50, 8), np.float32)
    np.add.at(expected, idx, gy)
    np.testing.assert_allclose(table.grad.numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("axis, shape", [(0, (50, 8)), (1, (3, 40, 5)), (None, (6, 7))])
def test_take_grad_sorted_scatter_equals_add_at(axis, shape):
    # Many repeats (up to ~10 passes) and negatives: the sorted-runs scatter against add.at.
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    n = x.size if axis is None else shape[axis]
    idx = rng.integers(-n, n // 4, size=(7, 11))
    t = Tensor(x, requires_grad=True)
    y = ops.take(t, idx, axis=axis)
    gy = rng.standard_normal(y.shape)
    y.backward(gy)
    moved = x.reshape(1, -1, 1) if axis is None else x.reshape(
        int(np.prod(shape[:axis])), n, -1)
    expected = np.zeros(moved.shape)
    np.add.at(expected, (slice(None), np.where(idx < 0, idx + n, idx).reshape(-1)),
              gy.reshape(moved.shape[0], idx.size, moved.shape[2]))
    np.testing.assert_allclose(t.grad.numpy(), expected.reshape(shape), rtol=1e-12, atol=1e-12)


def test_take_grad_empty_indices():
    t = Tensor(np.ones((4, 3)), requires_grad=True)
    ops.take(t, np.zeros((0,), dtype=np.int64), axis=0).sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.zeros((4, 3)))
