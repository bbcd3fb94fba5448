"""CTC loss against a brute-force sum over every alignment of tiny cases, with gradient checks."""
import itertools

import numpy as np
import pytest

from engine import Tensor, ops
from tests.engine import op_tests
from tests.helpers import OpCase, randn


# -- reference: enumerate all K**T frame labellings and keep those that collapse to the target -
def _log_softmax(x):
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def _collapse(path, blank):
    out = []
    for i, c in enumerate(path):
        if c != blank and (i == 0 or path[i - 1] != c):
            out.append(c)
    return out


def brute_force_ctc(target, output, target_length, output_length, blank=0):
    losses = []
    for b in range(output.shape[0]):
        log_p = _log_softmax(output[b, :output_length[b]])
        labels = list(target[b, :target_length[b]])
        frames, classes = log_p.shape
        total = 0.0
        for path in itertools.product(range(classes), repeat=frames):
            if _collapse(path, blank) == labels:
                total += np.exp(sum(log_p[t, c] for t, c in enumerate(path)))
        losses.append(-np.log(total))
    return np.array(losses)


TARGET = np.array([[1, 2, 0], [1, 1, 0], [2, 0, 0], [0, 0, 0]])
TARGET_LEN = np.array([2, 2, 1, 0])
OUTPUT_LEN = np.array([5, 4, 3, 2])
LOGITS = randn(4, 5, 3, seed=1)


def _ref(blank=0):
    def ref(t, o, tl, ol):
        return brute_force_ctc(t, o, tl, ol, blank)
    return ref


CASES = [
    OpCase("ctc_loss", lambda t, o, tl, ol: ops.ctc_loss(t, o, tl, ol),
           [TARGET, LOGITS, TARGET_LEN, OUTPUT_LEN], _ref(), label="padded"),
    OpCase("ctc_loss", lambda t, o, tl, ol: ops.ctc_loss(t, o, tl, ol, mask_index=2),
           [np.array([[0, 1], [1, 1]]), randn(2, 4, 3, seed=2), np.array([2, 2]),
            np.array([4, 4])], _ref(blank=2), label="blank_2"),
]

test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def test_matches_keras_numbers():
    # From Keras 3.15 (numpy backend): keras.ops.ctc_loss on the first three samples.
    y = ops.ctc_loss(TARGET[:3], Tensor(np.asarray(randn(3, 5, 3, seed=0), np.float32)),
                     TARGET_LEN[:3], OUTPUT_LEN[:3])
    np.testing.assert_allclose(y.numpy(), [2.9689457, 2.4906971, 1.5403156], rtol=1e-5)


def test_impossible_alignment_is_finite_without_gradient():
    # Three repeated labels need at least five frames; three frames cannot emit them.
    import engine
    logits = Tensor(np.zeros((1, 3, 3), np.float32), requires_grad=True)
    y = ops.ctc_loss(np.array([[1, 1, 1]]), logits, np.array([3]), np.array([3]))
    assert np.isfinite(y.numpy()).all() and y.numpy()[0] > 1e4
    (g,) = engine.grad(ops.sum(y), [logits])
    assert np.all(g.numpy() == 0)


def test_long_sequences_stay_finite():
    logits = Tensor(np.asarray(randn(2, 200, 6, seed=3) * 10, np.float32))
    target = np.tile(np.array([[1, 2, 3, 4, 5]]), (2, 4))
    y = ops.ctc_loss(target, logits, np.array([20, 10]), np.array([200, 150]))
    assert y.dtype == np.float32 and np.isfinite(y.numpy()).all()


def test_bad_shapes_raise():
    with pytest.raises(ValueError, match="ctc_loss.*Received: target.shape"):
        ops.ctc_loss(np.zeros((2,), int), np.zeros((2, 3, 4), np.float32), [1, 1], [3, 3])
