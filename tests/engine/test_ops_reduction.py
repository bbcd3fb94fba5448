"""Reductions against NumPy over axis None/int/negative/tuple, keepdims, with gradient checks."""
import numpy as np
import pytest

import engine
from engine import Tensor, ops
from tests.engine import op_tests
from tests.helpers import OpCase, positive, randn

A = randn(3, 4, seed=1)
A3 = randn(2, 3, 4, seed=2)  # continuous values: no ties for max/min
P3 = positive(2, 3, 4, seed=3, low=0.5, high=1.5)
# prod with zeros: slice [0] has one zero, slice [1] has two, slice [2] none (reduced over axis 1).
Z = np.array([[0.7, 0.0, -1.3, 0.9], [0.0, 1.2, 0.0, -0.8], [1.1, -0.6, 1.4, 0.5]])

AXES = [  # (axis, keepdims, label) run for every reduction below
    (None, False, ""),
    (None, True, "all-keepdims"),
    (1, False, "axis1"),
    (-1, True, "axis-neg-keepdims"),
    ((0, 2), False, "axis-tuple"),
    ((0, -1), True, "axis-tuple-neg-keepdims"),
]


def np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    y = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return y if keepdims else np.squeeze(y, axis=axis)


REFS = {"sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "prod": np.prod,
        "logsumexp": np_logsumexp, "var": np.var, "std": np.std}


def _case(name, x, axis, keepdims, label, **kw):
    op, ref = getattr(ops, name), REFS[name]
    return OpCase(name, lambda t: op(t, axis=axis, keepdims=keepdims), [x],
                  lambda a: ref(a, axis=axis, keepdims=keepdims), label=label, **kw)


CASES = [_case(name, P3 if name == "prod" else A3, axis, keepdims, label)
         for name in REFS for axis, keepdims, label in AXES]
CASES += [
    _case("sum", A, 0, False, "2d"),
    _case("mean", A, (0, 1), True, "2d-both"),
    _case("prod", Z, 1, False, "zeros"),
    _case("prod", Z, 1, True, "zeros-keepdims"),
    _case("prod", Z, None, False, "zeros-all"),
    _case("logsumexp", A + 500.0, 1, False, "large"),
    _case("logsumexp", A - 500.0, None, False, "very-negative", rtol=1e-6),
    _case("var", A, 0, False, "2d"),
    _case("std", A, -1, True, "2d"),
]
for _name, _ref in [("argmax", np.argmax), ("argmin", np.argmin)]:
    for _axis, _keepdims, _label in [(None, False, ""), (None, True, "all-keepdims"),
                                     (1, False, "axis1"), (-1, True, "axis-neg-keepdims"),
                                     (0, False, "axis0")]:
        CASES.append(OpCase(
            _name, lambda t, f=getattr(ops, _name), a=_axis, k=_keepdims: f(t, axis=a, keepdims=k),
            [A3], lambda x, f=_ref, a=_axis, k=_keepdims: f(x, axis=a, keepdims=k),
            grad=False, label=_label))

test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def _grad(fn, x):
    t = Tensor(np.asarray(x, np.float32), requires_grad=True)
    y = fn(t)
    (g,) = engine.grad(y, [t], grad_outputs=np.ones(y.shape, np.float32))
    return g.numpy()


def test_max_min_split_the_gradient_among_ties():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_allclose(_grad(lambda t: ops.max(t, axis=1), x),
                               [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(_grad(lambda t: ops.min(t), x), [[1, 0, 0], [0, 0, 0]])


def test_prod_gradient_with_zeros():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 5.0, 0.0], [1.0, 2.0, 4.0]])
    np.testing.assert_allclose(_grad(lambda t: ops.prod(t, axis=1), x),
                               [[0, 6, 0], [0, 0, 0], [8, 4, 2]])


def test_std_gradient_is_zero_on_a_constant_slice():
    g = _grad(lambda t: ops.std(t, axis=1), np.array([[2.0, 2.0, 2.0], [1.0, 2.0, 3.0]]))
    assert np.all(np.isfinite(g)) and np.all(g[0] == 0)


def test_logsumexp_stable_and_all_minus_inf():
    x = np.array([[1e4, 1e4], [-np.inf, 0.0]], np.float32)
    np.testing.assert_allclose(ops.logsumexp(x, axis=1).numpy(), [1e4 + np.log(2), 0.0])
    assert ops.logsumexp(np.full(3, -np.inf, np.float32)).item() == -np.inf


def test_dtypes():
    assert ops.sum(A3.astype(np.float32), axis=1).dtype == np.float32
    assert ops.var(A3, axis=(0, 1)).dtype == np.float64
    assert ops.mean(np.arange(6, dtype=np.int32)).dtype == np.float32
    assert ops.argmax(A3, axis=1).dtype == np.int32
    assert not ops.argmax(Tensor(A3, requires_grad=True)).requires_grad


def test_tensor_methods_use_these_reductions():
    t = Tensor(A3.astype(np.float32), requires_grad=True)
    t.sum(axis=(0, 2)).mean().backward()
    np.testing.assert_allclose(t.grad.numpy(), np.full(A3.shape, 1 / 3), rtol=1e-6)


def test_bad_axis_is_a_clear_error():
    x = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"sum: axis 2 is out of range.*Received: axis=2"):
        ops.sum(x, axis=2)
    with pytest.raises(ValueError, match=r"mean: repeated axis. Received: axis=\(0, -2\)"):
        ops.mean(x, axis=(0, -2))
    with pytest.raises(TypeError, match=r"argmax: `axis` must be an int or None.*axis=\(0, 1\)"):
        ops.argmax(x, axis=(0, 1))
    with pytest.raises(ValueError, match=r"argmin: axis -3 is out of range.*Received: axis=-3"):
        ops.argmin(x, axis=-3)


def test_empty_axis_is_a_clear_error():
    x = np.ones((2, 0), np.float32)
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty axis.*Received: x.shape"):
        ops.max(x, axis=1)
    with pytest.raises(ValueError, match=r"argmax: the input is empty"):
        ops.argmax(x)
    assert ops.max(x, axis=0).shape == (0,)
