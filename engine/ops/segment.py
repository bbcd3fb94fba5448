"""Segment sums and maxima: rows of ``data`` reduced into ``num_segments`` rows by their ids."""
from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..tensor import Tensor
from .indexing import _indices_like, _take_grad

__all__ = ["segment_sum", "segment_max"]


def _check(op, data, segment_ids):
    if segment_ids.shape != data.shape[:1] or segment_ids.dtype.kind not in "iu":
        raise ValueError(
            f"{op}: `segment_ids` must be integers, one per row of `data`. Received: "
            f"data.shape={data.shape}, segment_ids.shape={segment_ids.shape}")


class SegmentSum(Function):
    def forward(self, xp, data, segment_ids, num_segments):
        _check("segment_sum", data, segment_ids)
        self.ids = segment_ids
        # NOTE: the gradient of a gather is this scatter-add; it handles repeated ids.
        return _take_grad(xp, data, segment_ids, (num_segments,) + data.shape[1:], 0)

    def backward(self, xp, gy):
        return xp.take(gy, self.ids, axis=0), None


class SegmentMax(Function):
    def forward(self, xp, data, segment_ids, num_segments):
        _check("segment_max", data, segment_ids)
        n, flat = data.shape[0], data.reshape(data.shape[0], -1)
        y = xp.full((num_segments, flat.shape[1]), -xp.inf, dtype=data.dtype)
        if n:
            # Rows sorted by (id, value) in every column at once: the last of each id's run is
            # its max. One int64 key per entry (id * n + rank of the value) needs no stable sort.
            rank = xp.empty(flat.shape, dtype=np.int64)
            cols = xp.arange(flat.shape[1])
            rank[xp.argsort(flat, axis=0), cols] = xp.arange(n)[:, None]
            key = segment_ids.astype(np.int64)[:, None] * n + rank
            perm = xp.argsort(key, axis=0)
            ids = xp.sort(segment_ids)
            last = xp.ones(n, dtype=bool)
            last[:-1] = ids[1:] != ids[:-1]
            y[ids[last]] = flat[perm[last], cols]
        self.data, self.ids, self.y = data, segment_ids, y.reshape((num_segments,) + data.shape[1:])
        return self.y

    def backward(self, xp, gy):
        # NOTE: tied maxima share the gradient equally.
        hit = (self.data == xp.take(self.y, self.ids, axis=0)).astype(gy.dtype)
        ties = _take_grad(xp, hit, self.ids, self.y.shape, 0)
        return xp.take(gy / xp.maximum(ties, 1), self.ids, axis=0) * hit, None


def segment_sum(data, segment_ids, num_segments) -> Tensor:
    """``y[s] = sum of data[i] over the i with segment_ids[i] == s``, ids in [0, num_segments).

    Args:
        data: ``(n, ...)``.
        segment_ids: ``(n,)`` integers (ids out of range must be dropped by the caller).
        num_segments: the number of output rows.
    """
    return SegmentSum.apply(data, _indices_like(segment_ids, data), num_segments=int(num_segments))


def segment_max(data, segment_ids, num_segments) -> Tensor:
    """``y[s] = max of data[i] over the i with segment_ids[i] == s`` (-inf for an empty one).

    Args:
        data: ``(n, ...)``.
        segment_ids: ``(n,)`` integers in [0, num_segments).
        num_segments: the number of output rows.
    """
    return SegmentMax.apply(data, _indices_like(segment_ids, data), num_segments=int(num_segments))
