"""matmul, dot and einsum against NumPy, with gradient checks (broadcast and 1-D cases)."""
import numpy as np
import pytest

from engine import Tensor, ops
from tests.engine import op_tests
from tests.helpers import OpCase, randn

M23, M34 = randn(2, 3, seed=1), randn(3, 4, seed=2)
B234, B243 = randn(2, 3, 4, seed=3), randn(2, 4, 3, seed=4)
V3, V4 = randn(3, seed=5), randn(4, seed=6)

CASES = [
    OpCase("matmul", ops.matmul, [M23, M34], np.matmul),
    OpCase("matmul", ops.matmul, [B234, B243], np.matmul, label="batched"),
    OpCase("matmul", ops.matmul, [B234, randn(4, 2, seed=7)], np.matmul, label="nd-2d"),
    OpCase("matmul", ops.matmul, [M34.T, B234], np.matmul, label="2d-nd"),
    OpCase("matmul", ops.matmul, [randn(2, 1, 3, 4, seed=8), randn(3, 4, 2, seed=9)], np.matmul,
           label="broadcast-batch"),
    OpCase("matmul", ops.matmul, [V3, M34], np.matmul, label="vec-mat"),
    OpCase("matmul", ops.matmul, [B234, V4], np.matmul, label="mat-vec"),
    OpCase("matmul", ops.matmul, [V3, randn(2, 3, 4, seed=10)], np.matmul, label="vec-batch"),
    OpCase("matmul", ops.matmul, [V3, randn(3, seed=11)], np.matmul, label="vec-vec"),
    OpCase("matmul", lambda a, b: a @ b, [M23, M34], np.matmul, label="dunder"),
    OpCase("dot", ops.dot, [M23, M34], np.dot),
    OpCase("dot", ops.dot, [V3, randn(3, seed=12)], np.dot, label="vec-vec"),
    OpCase("dot", ops.dot, [B234, V4], np.dot, label="nd-vec"),
    OpCase("dot", ops.dot, [B234, randn(4, 2, seed=13)], np.dot, label="nd-2d"),
    OpCase("dot", ops.dot, [M23, randn(2, 3, 5, seed=14)], np.dot, label="2d-nd"),
    OpCase("dot", ops.dot, [V3, randn(2, 3, 5, seed=15)], np.dot, label="vec-nd"),
    OpCase("dot", lambda a: ops.dot(a, 2.5), [M23], lambda a: np.dot(a, 2.5), label="scalar"),
    OpCase("einsum", lambda a, b: ops.einsum("ij,jk->ik", a, b), [M23, M34],
           lambda a, b: np.einsum("ij,jk->ik", a, b)),
    OpCase("einsum", lambda a, b: ops.einsum("bij,bjk", a, b), [B234, B243],
           lambda a, b: np.einsum("bij,bjk", a, b), label="implicit-batched"),
    OpCase("einsum", lambda a: ops.einsum("ijk->kj", a), [B234],
           lambda a: np.einsum("ijk->kj", a), label="one-operand-sum"),
    OpCase("einsum", lambda a: ops.einsum("ji", a), [M23], lambda a: np.einsum("ji", a),
           label="implicit-transpose"),
    OpCase("einsum", lambda a, b: ops.einsum("i,j->ij", a, b), [V3, V4],
           lambda a, b: np.einsum("i,j->ij", a, b), label="outer"),
    OpCase("einsum", lambda a, b: ops.einsum("bij,jk->b", a, b), [B234, randn(4, 2, seed=16)],
           lambda a, b: np.einsum("bij,jk->b", a, b), label="sum-out"),
    OpCase("einsum", lambda a, b: ops.einsum("ij,jk->ik", a, b), [randn(2, 1, seed=17), M34],
           lambda a, b: np.einsum("ij,jk->ik", a, b), label="broadcast-size-1"),
    OpCase("einsum", lambda a, b, c: ops.einsum("ij,jk,kl->il", a, b, c),
           [M23, M34, randn(4, 2, seed=18)],
           lambda a, b, c: np.einsum("ij,jk,kl->il", a, b, c), label="three-operands"),
]

test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def test_matmul_shape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul: .*Received: x1.shape=\(2, 3\), "
                                         r"x2.shape=\(4, 5\)"):
        ops.matmul(np.ones((2, 3)), np.ones((4, 5)))


def test_matmul_batch_and_scalar_errors():
    with pytest.raises(ValueError, match="batch dimensions"):
        ops.matmul(np.ones((2, 3, 4)), np.ones((3, 4, 5)))
    with pytest.raises(ValueError, match="at least one dimension"):
        ops.matmul(np.ones(()), np.ones((3,)))


def test_dot_shape_error():
    with pytest.raises(ValueError, match=r"dot: .*Received: x1.shape=\(3,\)"):
        ops.dot(np.ones(3), np.ones((4, 2)))


def test_einsum_unsupported_and_bad_forms():
    a = np.ones((3, 3))
    with pytest.raises(ValueError, match="ellipsis"):
        ops.einsum("...ij->...ji", a)
    with pytest.raises(ValueError, match="repeated within one operand"):
        ops.einsum("ii->i", a)
    with pytest.raises(ValueError, match="operand term"):
        ops.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match="label 'j' has sizes 3 and 4"):
        ops.einsum("ij,jk->ik", a, np.ones((4, 2)))
    with pytest.raises(ValueError, match="has 3 labels"):
        ops.einsum("ijk->i", a)


def test_matmul_keeps_float32_and_float64():
    a32 = Tensor(M23.astype(np.float32), requires_grad=True)
    assert ops.matmul(a32, M34.astype(np.float32)).dtype == np.float32
    assert ops.matmul(M23, M34).dtype == np.float64


def test_matmul_mixed_dtype_grads_match_inputs():
    a = Tensor(M23.astype(np.float32), requires_grad=True)
    b = Tensor(M34, requires_grad=True)
    ops.matmul(a, b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64


@pytest.mark.parametrize("s1, s2", [((3, 4, 5), (5, 2)), ((2, 3, 4, 5), (5, 2)), ((3, 4, 5), (5,))])
def test_matmul_nd_by_2d_folded_grads_equal_batched(s1, s2):
    # The folded-GEMM backward against the plain stacked matmul + batch sum.
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(s1), rng.standard_normal(s2)
    ta, tb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    y = ops.matmul(ta, tb)
    gy = rng.standard_normal(y.shape)
    y.backward(gy)
    b2, gy2 = (b, gy) if b.ndim == 2 else (b[:, None], gy[..., None])
    np.testing.assert_allclose(ta.grad.numpy(), np.matmul(gy2, b2.T).reshape(s1), rtol=1e-12)
    gb = np.matmul(np.swapaxes(a, -1, -2), gy2).reshape((-1,) + b2.shape).sum(0)
    np.testing.assert_allclose(tb.grad.numpy(), gb.reshape(s2), rtol=1e-12)
