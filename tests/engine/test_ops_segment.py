"""segment_sum against a plain loop, with repeated and missing segment ids."""
import numpy as np
import pytest

from engine import ops
from tests.engine import op_tests
from tests.helpers import OpCase, randn

IDS = np.array([2, 0, 2, 3, 2])


def _ref(data, ids=IDS, n=5):
    out = np.zeros((n,) + data.shape[1:])
    for i, s in enumerate(ids):
        out[s] += data[i]
    return out


CASES = [
    OpCase("segment_sum", lambda t: ops.segment_sum(t, IDS, 5), [randn(5, 3)], _ref),
    OpCase("segment_sum", lambda t: ops.segment_sum(t, IDS, 5), [randn(5)], _ref, label="1d"),
]
test_forward, test_grad, test_grad_dtype = op_tests.make(CASES)


def test_segment_ids_must_match_rows():
    with pytest.raises(ValueError, match="one per row"):
        ops.segment_sum(np.ones((3, 2)), np.array([0, 1]), 2)
