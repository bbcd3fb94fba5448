"""Cross-entropy losses against plain-NumPy closed forms, with gradient checks and stability."""
import numpy as np
import pytest

import engine
from engine import Tensor, ops
from tests.engine import op_tests
from tests.helpers import OpCase, positive, randn, rng

EPS = 1e-7
# NOTE: in float32, 1 - 1e-7 rounds to 1 - 1.19e-7; log(1 - q) at the top clip sees that value.
TOP_F32 = float(np.float32(1 - EPS))


# -- references (float64 NumPy, written independently of the engine) ------------------------
def _log_softmax(x, axis):
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


def _probs(o, axis):
    return np.clip(o / o.sum(axis=axis, keepdims=True), EPS, 1 - EPS)


def cce_ref(from_logits=False, axis=-1):
    def ref(t, o):
        log_p = _log_softmax(o, axis) if from_logits else np.log(_probs(o, axis))
        return -(t * log_p).sum(axis=axis)
    return ref


def sparse_ref(from_logits=False, axis=-1):
    def ref(t, o):
        t = t.reshape(o.shape[:axis % o.ndim] + o.shape[axis % o.ndim + 1:])
        one_hot = np.moveaxis(np.eye(o.shape[axis])[t], -1, axis)
        return cce_ref(from_logits, axis)(one_hot, o)
    return ref


def bce_ref(from_logits=False, top=1 - EPS):
    def ref(t, o):
        if from_logits:  # -log(sigmoid(o)) = logaddexp(0, -o)
            return t * np.logaddexp(0, -o) + (1 - t) * np.logaddexp(0, o)
        q = np.clip(o, EPS, top)
        return -(t * np.log(q) + (1 - t) * np.log(1 - q))
    return ref


# -- inputs: probabilities well inside (eps, 1 - eps), so no clipping kink in grad checks ----
def soft_targets(*shape, seed, axis=-1):
    return np.exp(_log_softmax(randn(*shape, seed=seed), axis))


def one_hot(ids, n):
    return np.eye(n)[ids]


LOGITS = randn(4, 5, seed=1) * 2
PROBS = positive(4, 5, seed=2)  # unnormalised: the op normalises along axis
SOFT = soft_targets(4, 5, seed=3)
HOT = one_hot([0, 3, 1, 4], 5)
LOGITS3, PROBS3 = randn(2, 3, 4, seed=4), positive(2, 3, 4, seed=5)
SOFT3_AX1 = soft_targets(2, 3, 4, seed=6, axis=1)
IDS = np.array([0, 3, 1, 4])
IDS3 = rng(7).integers(0, 4, (2, 3))
IDS3_AX1 = rng(8).integers(0, 3, (2, 4))
BIN_T = rng(9).uniform(0, 1, (3, 4))
BIN_P = rng(10).uniform(0.1, 0.9, (3, 4))
BIN_X = randn(3, 4, seed=11) * 3

CCE, SCCE, BCE = "categorical_crossentropy", "sparse_categorical_crossentropy", \
    "binary_crossentropy"
CASES = [
    OpCase(CCE, ops.categorical_crossentropy, [SOFT, PROBS], cce_ref(), label="probs"),
    OpCase(CCE, ops.categorical_crossentropy, [HOT, PROBS], cce_ref(), label="probs-onehot"),
    OpCase(CCE, lambda t, o: ops.categorical_crossentropy(t, o, from_logits=True),
           [SOFT, LOGITS], cce_ref(True), label="logits"),
    OpCase(CCE, lambda t, o: ops.categorical_crossentropy(t, o, from_logits=True),
           [HOT * 0.7, LOGITS], cce_ref(True), label="logits-unnormalised-target"),
    OpCase(CCE, lambda t, o: ops.categorical_crossentropy(t, o, axis=1),
           [SOFT3_AX1, PROBS3], cce_ref(axis=1), label="probs-axis1"),
    OpCase(CCE, lambda t, o: ops.categorical_crossentropy(t, o, from_logits=True, axis=1),
           [SOFT3_AX1, LOGITS3], cce_ref(True, axis=1), label="logits-axis1"),
    OpCase(SCCE, ops.sparse_categorical_crossentropy, [IDS, PROBS], sparse_ref(),
           label="probs"),
    OpCase(SCCE, lambda t, o: ops.sparse_categorical_crossentropy(t, o, from_logits=True),
           [IDS, LOGITS], sparse_ref(True), label="logits"),
    OpCase(SCCE, lambda t, o: ops.sparse_categorical_crossentropy(t, o, from_logits=True),
           [IDS[:, None], LOGITS], sparse_ref(True), label="logits-ids-n-by-1"),
    OpCase(SCCE, ops.sparse_categorical_crossentropy, [IDS3, PROBS3], sparse_ref(),
           label="probs-rank3"),
    OpCase(SCCE, lambda t, o: ops.sparse_categorical_crossentropy(t, o, axis=1),
           [IDS3_AX1, PROBS3], sparse_ref(axis=1), label="probs-axis1"),
    OpCase(SCCE, lambda t, o: ops.sparse_categorical_crossentropy(t, o, True, axis=1),
           [IDS3_AX1, LOGITS3], sparse_ref(True, axis=1), label="logits-axis1"),
    OpCase(BCE, ops.binary_crossentropy, [BIN_T, BIN_P], bce_ref(), label="probs"),
    OpCase(BCE, lambda t, o: ops.binary_crossentropy(t, o, from_logits=True),
           [BIN_T, BIN_X], bce_ref(True), label="logits"),
    OpCase(BCE, lambda t, o: ops.binary_crossentropy(t, o, from_logits=True),
           [BIN_T[0], BIN_X[0]], bce_ref(True), label="logits-rank1"),
    # Forward only: probabilities at 0 and 1 are clipped like Keras (a kink for grad checks).
    OpCase(CCE, ops.categorical_crossentropy, [HOT, HOT * 0.9], cce_ref(), grad=False,
           label="clipped"),
    OpCase(SCCE, ops.sparse_categorical_crossentropy, [IDS, HOT], sparse_ref(), grad=False,
           label="clipped"),
    OpCase(BCE, ops.binary_crossentropy, [BIN_T, (BIN_T > 0.5) * 1.0], bce_ref(top=TOP_F32),
           grad=False, label="clipped"),
]

test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def _value_and_grad(fn, target, output):
    x = Tensor(output, requires_grad=True)
    y = fn(target, x)
    (g,) = engine.grad(y, [x], grad_outputs=np.ones(y.shape, y.dtype))
    return y.numpy(), g.numpy()


# -- stability: logits of +-1e4 ---------------------------------------------------------------
BIG = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], np.float32)


@pytest.mark.parametrize("fn, target", [
    (lambda t, o: ops.categorical_crossentropy(t, o, from_logits=True),
     np.array([[0, 1, 0], [1, 0, 0]], np.float32)),
    (lambda t, o: ops.sparse_categorical_crossentropy(t, o, from_logits=True), np.array([1, 0])),
], ids=["categorical", "sparse"])
def test_categorical_from_logits_stable(fn, target):
    y, g = _value_and_grad(fn, target, BIG)
    assert y.dtype == g.dtype == np.float32
    np.testing.assert_allclose(y, [2e4, 2e4 + np.log(2)], rtol=1e-6)
    np.testing.assert_allclose(g, [[1, -1, 0], [-1, 0.5, 0.5]], atol=1e-6)


def test_binary_from_logits_stable():
    x = np.array([1e4, -1e4, 1e4, -1e4, 0.0], np.float32)
    t = np.array([1, 0, 0, 1, 0.5], np.float32)
    y, g = _value_and_grad(lambda t, o: ops.binary_crossentropy(t, o, from_logits=True), t, x)
    assert y.dtype == g.dtype == np.float32
    np.testing.assert_allclose(y, [0, 0, 1e4, 1e4, np.log(2)], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(g, [0, 0, 1, -1, 0], atol=1e-6)


# -- Keras semantics -----------------------------------------------------------------------------
def test_categorical_matches_keras_docstring_example():
    # keras.metrics.CategoricalCrossentropy's example: per-sample [0.051, 2.302].
    y = ops.categorical_crossentropy([[0, 1, 0], [0, 0, 1]], [[0.05, 0.95, 0], [0.1, 0.8, 0.1]])
    np.testing.assert_allclose(y.numpy(), [-np.log(0.95), -np.log(0.1)], rtol=1e-6)


def test_clipped_probabilities_get_no_gradient():
    t = np.array([1.0, 0.0, 0.3], np.float32)
    _, g = _value_and_grad(ops.binary_crossentropy, t, np.array([0.0, 1.0, 0.5], np.float32))
    np.testing.assert_allclose(g, [0, 0, (0.5 - 0.3) / 0.25], rtol=1e-6)
    # The target's probability is 0 -> clipped to eps: no gradient (not -1/eps).
    out = np.array([[0.0, 2.0, 1.0]], np.float32)
    for fn, target in [(ops.categorical_crossentropy, np.array([[1.0, 0, 0]], np.float32)),
                       (ops.sparse_categorical_crossentropy, np.array([0]))]:
        y, g = _value_and_grad(fn, target, out)
        np.testing.assert_allclose(y, [-np.log(EPS)], rtol=1e-5)
        np.testing.assert_array_equal(g, np.zeros_like(out))


def test_integer_targets_keep_output_dtype():
    assert ops.categorical_crossentropy(HOT.astype(np.int32),
                                        PROBS.astype(np.float32)).dtype == np.float32
    assert ops.binary_crossentropy(np.ones(3, np.int64), np.full(3, 0.5, np.float32)).dtype \
        == np.float32


def test_float64_stays_float64():
    assert ops.categorical_crossentropy(SOFT, LOGITS, from_logits=True).dtype == np.float64
    assert ops.sparse_categorical_crossentropy(IDS, LOGITS).dtype == np.float64
    assert ops.binary_crossentropy(BIN_T, BIN_P).dtype == np.float64


def test_sparse_target_gets_no_gradient():
    t = Tensor(IDS.astype(np.float32), requires_grad=True)  # float ids are cast like Keras
    x = Tensor(LOGITS.astype(np.float32), requires_grad=True)
    y = ops.sparse_categorical_crossentropy(t, x, from_logits=True)
    gt, gx = engine.grad(y, [t, x], grad_outputs=np.ones(4, np.float32))
    assert not gt.numpy().any() and gx.numpy().any()


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn, name", [(ops.categorical_crossentropy, CCE),
                                      (ops.binary_crossentropy, BCE)])
def test_shape_mismatch(fn, name):
    with pytest.raises(ValueError, match=rf"{name}: target and output must have the same "
                                         r"shape\. Received: target\.shape=\(4, 4\), "
                                         r"output\.shape=\(4, 5\)"):
        fn(np.zeros((4, 4), np.float32), np.ones((4, 5), np.float32))


def test_sparse_shape_mismatch():
    with pytest.raises(ValueError, match=rf"{SCCE}: .*Received: target\.shape=\(3,\), "
                                         r"output\.shape=\(4, 5\)"):
        ops.sparse_categorical_crossentropy(np.zeros(3, np.int32), np.ones((4, 5), np.float32))


def test_sparse_ids_out_of_range():
    with pytest.raises(ValueError, match=r"class ids must lie in \[0, 5\).*target\.max\(\)=5"):
        ops.sparse_categorical_crossentropy(np.array([0, 5]), np.ones((2, 5), np.float32))


def test_bad_axis_and_rank():
    with pytest.raises(ValueError, match=r"axis 2 is out of range.*Received: axis=2"):
        ops.categorical_crossentropy(HOT, PROBS, axis=2)
    with pytest.raises(TypeError, match=r"`axis` must be an int\. Received: axis=\(0, 1\)"):
        ops.sparse_categorical_crossentropy(IDS, PROBS, axis=(0, 1))
    with pytest.raises(ValueError, match=r"at least rank 1\. Received: output\.shape=\(\)"):
        ops.categorical_crossentropy(np.float32(1), np.float32(1))
