"""Matrix functions and decompositions against numpy.linalg, with gradient checks.

Symmetric-input ops (cholesky, eigh) are checked through ``sym(a) = (a + a^T) / 2`` so that a
finite difference along any direction stays symmetric.
"""
import numpy as np
import pytest

from engine import ops
from tests.engine import op_tests
from tests.helpers import OpCase, randn

A = randn(2, 3, 3, seed=1) + 3 * np.eye(3)  # well conditioned
B = randn(2, 3, 2, seed=2)
V = randn(2, 3, seed=3)
W = randn(4, 3, seed=4)
SPD = np.einsum("bij,bkj->bik", A, A) + np.eye(3)


def sym(t):
    return (t + ops.transpose(t, (0, 2, 1))) * 0.5


def np_sym(a):
    return (a + np.swapaxes(a, -1, -2)) / 2


def _eigvecs(a):  # eigenvectors with a fixed sign (largest entry positive)
    v = np.linalg.eigh(np_sym(a))[1]
    return v * np.sign(v[..., [0], :])


def _fixed_sign(v):
    return v * ops.sign(v[..., 0:1, :])


CASES = [
    OpCase("cholesky", lambda t: ops.cholesky(sym(t)), [SPD], lambda a: np.linalg.cholesky(a)),
    OpCase("det", ops.det, [A], np.linalg.det),
    OpCase("slogdet", lambda t: ops.slogdet(t)[1], [A], lambda a: np.linalg.slogdet(a)[1]),
    OpCase("inv", ops.inv, [A], np.linalg.inv),
    OpCase("solve", ops.solve, [A, B], np.linalg.solve),
    OpCase("solve", ops.solve, [A, V], lambda a, v: np.linalg.solve(a, v[..., None])[..., 0],
           label="vector"),
    OpCase("eigh", lambda t: ops.eigh(sym(t))[0], [SPD], lambda a: np.linalg.eigh(a)[0],
           label="values", atol=1e-4),
    OpCase("eigh", lambda t: _fixed_sign(ops.eigh(sym(t))[1]), [SPD], _eigvecs,
           label="vectors", atol=1e-4),
    OpCase("qr", lambda t: ops.qr(t)[1], [W], lambda a: np.linalg.qr(a)[1], label="r"),
    OpCase("qr", lambda t: ops.qr(t)[0], [W], lambda a: np.linalg.qr(a)[0], label="q"),
    OpCase("svd", lambda t: ops.svd(t, compute_uv=False), [W],
           lambda a: np.linalg.svd(a, compute_uv=False)),
    OpCase("svd", lambda t: ops.svd(t)[1], [W], lambda a: np.linalg.svd(a)[1], label="s"),
    OpCase("svd", lambda t: ops.svd(t, full_matrices=False)[0], [W],
           lambda a: np.linalg.svd(a, full_matrices=False)[0], label="u"),
    OpCase("svd", lambda t: ops.svd(t.T)[2][:3], [W], lambda a: np.linalg.svd(a.T)[2][:3],
           label="vh-wide"),
    OpCase("pinv", ops.pinv, [W], np.linalg.pinv),
]
test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def test_unpacked_shapes():
    u, s, vh = ops.svd(W)
    assert (u.shape, s.shape, vh.shape) == ((4, 4), (3,), (3, 3))
    u, s, vh = ops.svd(W.T, full_matrices=False)
    assert (u.shape, s.shape, vh.shape) == ((3, 3), (3,), (3, 4))
    q, r = ops.qr(W, mode="complete")
    assert (q.shape, r.shape) == ((4, 4), (4, 3))
    np.testing.assert_allclose((q @ r).numpy(), W, atol=1e-12)


def test_svd_extra_columns_have_no_gradient():
    import engine
    x = engine.Tensor(W, requires_grad=True)
    with pytest.raises(NotImplementedError, match="full_matrices"):
        ops.sum(ops.svd(x)[0]).backward()


def test_errors():
    with pytest.raises(ValueError, match="square"):
        ops.inv(np.ones((2, 3)))
    with pytest.raises(ValueError, match="mode"):
        ops.qr(W, mode="r")
