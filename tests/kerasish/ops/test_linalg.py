"""kerasish.ops.linalg against numpy.linalg, with gradient checks where Keras differentiates."""
import numpy as np
import pytest

from engine.gradcheck import check_grad
from kerasish import ops
from kerasish.ops import linalg
from kerasish.symbolic import KerasTensor

R = np.random.default_rng(0)
A = R.standard_normal((2, 4, 4)) + 3 * np.eye(4)
SPD = A @ A.transpose(0, 2, 1) + np.eye(4)
B = R.standard_normal((2, 4, 2))
W = R.standard_normal((5, 3))


def sym(t):
    return (t + ops.transpose(t, (0, 2, 1))) * 0.5


def test_top_level_names():
    for name in linalg.__all__:
        assert getattr(ops, name) is getattr(linalg, name)


def test_cholesky_family():
    low = np.linalg.cholesky(SPD)
    np.testing.assert_allclose(linalg.cholesky(SPD).numpy(), low)
    np.testing.assert_allclose(linalg.cholesky(SPD, upper=True).numpy(), low.transpose(0, 2, 1))
    np.testing.assert_allclose(linalg.cholesky_inverse(low).numpy(), np.linalg.inv(SPD))
    np.testing.assert_allclose(linalg.cholesky_inverse(low.transpose(0, 2, 1), upper=True)
                               .numpy(), np.linalg.inv(SPD))
    check_grad(lambda t: linalg.cholesky(sym(t), upper=True), SPD)
    check_grad(linalg.cholesky_inverse, low)


def test_det_inv_solve():
    np.testing.assert_allclose(linalg.det(A).numpy(), np.linalg.det(A))
    np.testing.assert_allclose(linalg.inv(A).numpy(), np.linalg.inv(A))
    np.testing.assert_allclose(linalg.solve(A, B).numpy(), np.linalg.solve(A, B))
    for lower in (False, True):
        tri = np.tril(A) if lower else np.triu(A)
        np.testing.assert_allclose(linalg.solve_triangular(A, B, lower=lower).numpy(),
                                   np.linalg.solve(tri, B))
        check_grad(lambda a, b: linalg.solve_triangular(a, b, lower=lower), A, B)
    check_grad(linalg.det, A)
    check_grad(linalg.inv, A)
    check_grad(linalg.solve, A, B)


def test_decompositions():
    w, v = linalg.eigh(SPD)
    np.testing.assert_allclose(w.numpy(), np.linalg.eigh(SPD)[0])
    np.testing.assert_allclose((v.numpy() * w.numpy()[:, None]) @ v.numpy().transpose(0, 2, 1),
                               SPD, atol=1e-10)
    check_grad(lambda t: linalg.eigh(sym(t))[0], SPD)
    q, r = linalg.qr(W)
    np.testing.assert_allclose(q.numpy() @ r.numpy(), W, atol=1e-12)
    assert linalg.qr(W, mode="complete")[0].shape == (5, 5)
    check_grad(lambda t: linalg.qr(t)[1], W)
    u, s, vh = linalg.svd(W)
    assert (u.shape, s.shape, vh.shape) == ((5, 5), (3,), (3, 3))
    np.testing.assert_allclose(s.numpy(), np.linalg.svd(W, compute_uv=False))
    check_grad(lambda t: linalg.svd(t, compute_uv=False), W)
    vals, vecs = linalg.eig(A[0])
    np.testing.assert_allclose(A[0] @ vecs.numpy(), vecs.numpy() * vals.numpy(), atol=1e-10)


def test_lu_factor_reconstructs():
    lu, piv = linalg.lu_factor(A)
    assert piv.dtype == np.int32 and piv.shape == (2, 4)
    for b in range(2):
        m = lu.numpy()[b]
        low, up = np.tril(m, -1) + np.eye(4), np.triu(m)
        perm = np.arange(4)
        for i, p in enumerate(piv.numpy()[b]):
            perm[[i, p]] = perm[[p, i]]
        np.testing.assert_allclose(low @ up, A[b][perm], atol=1e-12)


def test_pinv_lstsq_rank():
    np.testing.assert_allclose(linalg.pinv(W).numpy(), np.linalg.pinv(W), atol=1e-12)
    check_grad(linalg.pinv, W)
    y = R.standard_normal((5, 2))
    np.testing.assert_allclose(linalg.lstsq(W, y).numpy(), np.linalg.lstsq(W, y)[0], atol=1e-12)
    check_grad(linalg.lstsq, W, y)
    assert int(linalg.matrix_rank(W).numpy()) == 3
    assert int(linalg.matrix_rank(np.ones((3, 3))).numpy()) == 1


NORMS = [
    (None, None), (None, 1), ("fro", (1, 2)), ("nuc", (1, 2)), (2, (1, 2)), (-2, (2, 1)),
    (1, (1, 2)), (-np.inf, (1, 2)), (np.inf, -1), (3, 1), (0, 2), (-1, (1, 2)),
]


@pytest.mark.parametrize("ord_,axis", NORMS, ids=[f"{o}-{a}" for o, a in NORMS])
def test_norm(ord_, axis):
    y = linalg.norm(A, ord=ord_, axis=axis)
    np.testing.assert_allclose(y.numpy(), np.linalg.norm(A, ord=ord_, axis=axis), rtol=1e-10)
    if ord_ != 0:
        check_grad(lambda t: linalg.norm(t, ord=ord_, axis=axis), A)
    kept = linalg.norm(A, ord=ord_, axis=axis, keepdims=True)
    assert kept.shape == np.linalg.norm(A, ord=ord_, axis=axis, keepdims=True).shape


def test_jvp_matches_the_jacobian():
    x, t = R.standard_normal(3), R.standard_normal(3)
    out, tangent = linalg.jvp(lambda v: ops.sin(v) * v[0], (x,), (t,))
    jac = np.diag(np.cos(x) * x[0])
    jac[:, 0] += np.sin(x)
    np.testing.assert_allclose(out.numpy(), np.sin(x) * x[0])
    np.testing.assert_allclose(tangent.numpy(), jac @ t)
    _, _, aux = linalg.jvp(lambda v: (v * 2, "aux"), (x,), (t,), has_aux=True)
    assert aux == "aux"


def test_specs_and_errors():
    kt = KerasTensor((None, 5, 3))
    u, s, vh = linalg.svd(kt)
    assert (u.shape, s.shape, vh.shape) == ((None, 5, 5), (None, 3), (None, 3, 3))
    q, r = linalg.qr(kt)
    assert (q.shape, r.shape) == ((None, 5, 3), (None, 3, 3))
    assert linalg.det(KerasTensor((None, 4, 4))).shape == (None,)
    assert linalg.norm(kt, axis=-1).shape == (None, 5)
    assert linalg.pinv(kt).shape == (None, 3, 5)
    with pytest.raises(ValueError, match="square"):
        linalg.inv(W)
    with pytest.raises(ValueError, match="mode"):
        linalg.qr(W, mode="raw")
    with pytest.raises(ValueError, match="norm order"):
        linalg.norm(A, ord="nuc", axis=1)
