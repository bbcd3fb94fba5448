"""Each rank's part of every global batch, and the predictions put back together.

A global batch of n samples is cut into contiguous slices ``[r*n//N, (r+1)*n//N)`` for ranks
r = 0..N-1 (sizes differ by at most one). Each rank's loss is a mean over its slice, so the
global-batch gradient is the sum over ranks of ``n_r / n`` times the rank's gradient: that
weight is published for the optimizer step (``hooks.average_gradients``).

A batch smaller than the number of ranks leaves some ranks without a sample: each of those
steps on a stand-in (the batch's first sample) whose gradient is scaled by 0 and whose metric
updates are left out of the sums and undone, so every rank still joins the collectives.
"""
from __future__ import annotations

import numpy as np

from .. import data as data_module
from .. import utils
from . import hooks


def bounds(n, size, rank):
    """The [start, stop) of rank ``rank``'s contiguous slice of ``n`` samples."""
    return rank * n // size, (rank + 1) * n // size


def _batch_length(item):
    return len(utils.flatten(item[0])[0])


def _take(item, start, stop):
    return utils.map_structure(lambda a: None if a is None else a[start:stop], item)


class _Sharded:
    """Mixed into a copy of an ArrayData/SequenceData: ``epoch`` yields this rank's slices."""

    def epoch(self, order=None, start=0):
        comm = self._distribution.comm
        if order is not None:  # the same sample order on every rank, whatever each drew
            order = comm.bcast_inplace(np.ascontiguousarray(order, dtype=np.int64), root=0)
        self.batch_sizes = []
        try:
            for item in super().epoch(order, start):
                n = _batch_length(item)
                lo, hi = bounds(n, comm.size, comm.rank)
                self.batch_sizes.append(n)
                if hi > lo:
                    hooks.set_batch_weight((hi - lo) / n)
                    yield _take(item, lo, hi)
                    continue
                hooks.begin_standin(self._model)
                hooks.set_batch_weight(0.0)
                yield _take(item, 0, 1)
                hooks.end_standin()
        finally:
            hooks.end_standin()
            hooks.set_batch_weight(None)

    def assemble(self, local):
        """The whole epoch's outputs, in sample order, from each rank's concatenated slices."""
        comm = self._distribution.comm
        counts = np.array([[bounds(n, comm.size, r)[1] - bounds(n, comm.size, r)[0]
                            for n in self.batch_sizes] for r in range(comm.size)], np.int64)
        if not counts[comm.rank].all():  # drop the stand-in rows this rank computed
            mine = np.maximum(counts[comm.rank], 1)
            keep = np.repeat(counts[comm.rank] > 0, mine)
            local = utils.map_structure(lambda a: a[keep], local)
        rank_start = np.concatenate([[0], np.cumsum(counts.sum(axis=1))[:-1]])
        batch_start = np.concatenate([np.zeros((comm.size, 1), np.int64),
                                      np.cumsum(counts, axis=1)[:, :-1]], axis=1)
        index = np.concatenate([
            np.arange(counts[r, k]) + rank_start[r] + batch_start[r, k]
            for k in range(len(self.batch_sizes)) for r in range(comm.size)])
        return utils.map_structure(lambda a: comm.allgather_rows(a)[index], local)


_CLASSES = {}


def shard(data, distribution, model=None):
    """A copy of ``data`` (ArrayData or SequenceData) whose epochs yield this rank's slices
    (``model``: whose metrics a stand-in step must leave untouched)."""
    if isinstance(data, _Sharded):
        return data
    base = type(data)
    if not isinstance(data, (data_module.ArrayData, data_module.SequenceData)):
        raise TypeError(f"Cannot shard data of type {base.__name__}")
    cls = _CLASSES.get(base)
    if cls is None:
        cls = _CLASSES[base] = type(f"Sharded{base.__name__}", (_Sharded, base), {})
    sharded = object.__new__(cls)
    sharded.__dict__.update(vars(data))
    sharded._distribution = distribution
    sharded._model = model
    sharded.batch_sizes = []
    return sharded
