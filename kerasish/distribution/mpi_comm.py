"""The MPI side: a thin wrapper over ``mpi4py`` for what data parallelism needs.

Gradients are summed in a few large buffers ("buckets"): the arrays of one dtype are packed
in order into contiguous buffers of about ``bucket_bytes`` and each buffer is one
``Allreduce``. The packing depends only on the shapes, so every step and every run reduces
the same buffers in the same order (bitwise reproducible). MPICH's allreduce algorithms
(recursive doubling, reduce-scatter + allgather) give every rank the same sum.

Arrays on a GPU never reach MPI (PyPI's MPI wheels are not CUDA-aware): their sums go
through NCCL (``nccl_comm``), and the rare host-side transfers copy to NumPy first.
"""
from __future__ import annotations

import time

import numpy as np

from engine import backend

BUCKET_BYTES = 4 << 20


def _import_mpi():
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError("kerasish.distribution needs mpi4py and an MPI library: "
                          "`pip install kerasish[distributed]` (installs mpi4py and mpich). "
                          f"Import failed with: {e}") from e
    return MPI


def buckets(sizes, limit):
    """Consecutive index groups whose byte sizes add up to at most ``limit`` (an array bigger
    than ``limit`` is a bucket of its own)."""
    groups, current, total = [], [], 0
    for i, size in enumerate(sizes):
        if current and total + size > limit:
            groups.append(current)
            current, total = [], 0
        current.append(i)
        total += size
    if current:
        groups.append(current)
    return groups


def _reduce_dtype(dtype):
    # MPI has no float16 sum: reduce half precision in float32.
    return np.dtype(np.float32) if dtype == np.float16 else dtype


class MPICommunicator:
    """``COMM_WORLD`` with bucketed sums, broadcasts and gathers of NumPy buffers.

    ``stats`` counts the gradient all-reduces for the benchmarks: calls, bytes, seconds (the
    whole ``allreduce_sum``: packing, the collective, unpacking) and wire_seconds (the
    collective alone, including any wait for a slower rank). With ``measure_wait`` (for the
    benchmarks) a barrier before each collective times that wait apart, as wait_seconds.
    """

    def __init__(self, comm=None, bucket_bytes=BUCKET_BYTES):
        self.MPI = _import_mpi()
        self.comm = comm if comm is not None else self.MPI.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.bucket_bytes = int(bucket_bytes)
        self._nccl = None
        self.measure_wait = False
        self.reset_stats()

    def reset_stats(self):
        self.stats = {"calls": 0, "bytes": 0, "seconds": 0.0, "wire_seconds": 0.0,
                      "wait_seconds": 0.0}

    # -- GPU ---------------------------------------------------------------------------------
    def local_rank(self):
        """This process's index among the processes on its machine."""
        local = self.comm.Split_type(self.MPI.COMM_TYPE_SHARED, key=self.rank)
        try:
            return local.Get_rank()
        finally:
            local.Free()

    def select_gpu(self):
        """One process per GPU: local rank i uses GPU i (mod the machine's GPU count)."""
        cupy = backend.xp_for("gpu")
        count = cupy.cuda.runtime.getDeviceCount()
        cupy.cuda.Device(self.local_rank() % count).use()

    def nccl(self):
        if self._nccl is None:
            from .nccl_comm import NCCLCommunicator

            self._nccl = NCCLCommunicator(self)
        return self._nccl

    # -- sums --------------------------------------------------------------------------------
    def allreduce_sum(self, arrays, scale=None):
        """The element-wise sums over all ranks of ``arrays`` (each multiplied by ``scale``
        first), as new arrays shaped like the inputs. GPU arrays are summed through NCCL."""
        start = time.perf_counter()
        arrays = list(arrays)
        out = [None] * len(arrays)
        groups = {}
        for i, a in enumerate(arrays):
            key = (np.dtype(a.dtype), backend.device_of(a))
            groups.setdefault(key, []).append(i)
        for (dtype, device), indices in groups.items():
            xp = backend.xp_for(device)
            wire = _reduce_dtype(dtype)
            sizes = [arrays[i].size * wire.itemsize for i in indices]
            for group in buckets(sizes, self.bucket_bytes):
                members = [indices[k] for k in group]
                flat = xp.empty(sum(arrays[i].size for i in members), dtype=wire)
                offset = 0
                for i in members:
                    n = arrays[i].size
                    view = flat[offset:offset + n]
                    if scale is None:
                        view[...] = arrays[i].ravel()
                    else:
                        xp.multiply(arrays[i].ravel(), wire.type(scale), out=view,
                                    casting="unsafe")
                    offset += n
                self._sum_inplace(flat, device)
                offset = 0
                for i in members:
                    n = arrays[i].size
                    out[i] = flat[offset:offset + n].reshape(arrays[i].shape).astype(
                        dtype, copy=False)
                    offset += n
        self.stats["seconds"] += time.perf_counter() - start
        return out

    def _sum_inplace(self, flat, device):
        if self.measure_wait and self.size > 1:
            start = time.perf_counter()
            self.comm.Barrier()
            self.stats["wait_seconds"] += time.perf_counter() - start
        start = time.perf_counter()
        if device == "gpu":
            self.nccl().sum_inplace(flat)
        elif self.size > 1:
            self.comm.Allreduce(self.MPI.IN_PLACE, flat, op=self.MPI.SUM)
        self.stats["calls"] += 1
        self.stats["bytes"] += flat.nbytes
        self.stats["wire_seconds"] += time.perf_counter() - start

    def sum_host(self, array):
        """The sum over ranks of a small NumPy array (metric states)."""
        out = np.ascontiguousarray(array).copy()
        if self.size > 1:
            self.comm.Allreduce(self.MPI.IN_PLACE, out, op=self.MPI.SUM)
        return out

    # -- broadcasts and gathers ----------------------------------------------------------------
    def bcast_inplace(self, array, root=0):
        """Overwrites a contiguous NumPy array with root's."""
        if self.size > 1:
            self.comm.Bcast(array, root=root)
        return array

    def bcast_bytes(self, data, root=0):
        """Root's ``bytes`` (or None) on every rank."""
        if self.size == 1:
            return data
        header = np.array([-1 if data is None else len(data)], np.int64)
        self.comm.Bcast(header, root=root)
        if header[0] < 0:
            return None
        buffer = np.frombuffer(data, np.uint8).copy() if self.rank == root \
            else np.empty(int(header[0]), np.uint8)
        self.comm.Bcast(buffer, root=root)
        return buffer.tobytes()

    def gather_bytes(self, data, root=0):
        """Every rank's ``bytes`` as a list on root (None elsewhere)."""
        if self.size == 1:
            return [data]
        counts = np.zeros(self.size, np.int64)
        self.comm.Gather(np.array([len(data)], np.int64), counts, root=root)
        mine = np.frombuffer(data, np.uint8)
        if self.rank != root:
            self.comm.Gatherv(mine, None, root=root)
            return None
        everything = np.empty(int(counts.sum()), np.uint8)
        self.comm.Gatherv(mine, (everything, counts), root=root)
        bounds = np.concatenate([[0], np.cumsum(counts)])
        return [everything[bounds[i]:bounds[i + 1]].tobytes() for i in range(self.size)]

    def allgather_rows(self, array):
        """Every rank's NumPy array (same trailing shape) stacked along axis 0, rank order."""
        array = np.ascontiguousarray(array)
        if self.size == 1:
            return array
        counts = np.zeros(self.size, np.int64)
        self.comm.Allgather(np.array([len(array)], np.int64), counts)
        row = int(np.prod(array.shape[1:], dtype=np.int64))
        out = np.empty((int(counts.sum()),) + array.shape[1:], array.dtype)
        self.comm.Allgatherv(array.reshape(-1), (out.reshape(-1), counts * row))
        return out

    def barrier(self):
        self.comm.Barrier()
