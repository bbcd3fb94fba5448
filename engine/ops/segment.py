"""Segment sums: rows of ``data`` added into ``num_segments`` rows by their segment ids."""
from __future__ import annotations

from ..autograd import Function
from ..tensor import Tensor
from .indexing import _indices_like, _take_grad

__all__ = ["segment_sum"]


class SegmentSum(Function):
    def forward(self, xp, data, segment_ids, num_segments):
        if segment_ids.shape != data.shape[:1] or segment_ids.dtype.kind not in "iu":
            raise ValueError(
                "segment_sum: `segment_ids` must be integers, one per row of `data`. Received: "
                f"data.shape={data.shape}, segment_ids.shape={segment_ids.shape}")
        self.ids = segment_ids
        # NOTE: the gradient of a gather is this scatter-add; it handles repeated ids.
        return _take_grad(xp, data, segment_ids, (num_segments,) + data.shape[1:], 0)

    def backward(self, xp, gy):
        return xp.take(gy, self.ids, axis=0), None


def segment_sum(data, segment_ids, num_segments) -> Tensor:
    """``y[s] = sum of data[i] over the i with segment_ids[i] == s``, ids in [0, num_segments).

    Args:
        data: ``(n, ...)``.
        segment_ids: ``(n,)`` integers (ids out of range must be dropped by the caller).
        num_segments: the number of output rows.
    """
    return SegmentSum.apply(data, _indices_like(segment_ids, data), num_segments=int(num_segments))
