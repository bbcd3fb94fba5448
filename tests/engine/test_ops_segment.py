"""segment_sum against a plain loop, with repeated and missing segment ids."""
import numpy as np
import pytest

from engine import ops
from tests.engine import op_tests
from tests.helpers import OpCase, randn

IDS = np.array([2, 0, 2, 3, 2])
FULL = np.array([0, 2, 3])  # the non-empty segments (an empty one's max is -inf)


def _ref(data, ids=IDS, n=5, ufunc=np.add, init=0.0):
    out = np.full((n,) + data.shape[1:], init)
    for i, s in enumerate(ids):
        out[s] = ufunc(out[s], data[i])
    return out


CASES = [
    OpCase("segment_sum", lambda t: ops.segment_sum(t, IDS, 5), [randn(5, 3)], _ref),
    OpCase("segment_sum", lambda t: ops.segment_sum(t, IDS, 5), [randn(5)], _ref, label="1d"),
    OpCase("segment_max", lambda t: ops.segment_max(t, IDS, 4)[FULL], [randn(5, 3)],
           lambda d: _ref(d, n=4, ufunc=np.maximum, init=-np.inf)[FULL]),
    OpCase("segment_max", lambda t: ops.segment_max(t, IDS, 4)[FULL], [randn(5)],
           lambda d: _ref(d, n=4, ufunc=np.maximum, init=-np.inf)[FULL], label="1d"),
]
test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def test_segment_max_splits_ties_and_leaves_empty_segments_at_minus_inf():
    import engine
    x = engine.Tensor(np.array([1.0, 3.0, 3.0, 2.0]), requires_grad=True)
    y = ops.segment_max(x, np.array([0, 0, 0, 2]), 3)
    assert y.numpy().tolist() == [3.0, -np.inf, 2.0]
    ops.sum(y[np.array([0, 2])]).backward()
    assert x.grad.numpy().tolist() == [0.0, 0.5, 0.5, 1.0]


def test_segment_ids_must_match_rows():
    with pytest.raises(ValueError, match="one per row"):
        ops.segment_sum(np.ones((3, 2)), np.array([0, 1]), 2)
