"""The GPU side: sums of CuPy buffers through NVIDIA's NCCL (``cupy.cuda.nccl``), one rank per
GPU. MPI only bootstraps it: rank 0 draws NCCL's unique id and broadcasts its 128 bytes as a
NumPy buffer, so no GPU array is ever handed to MPI.
"""
from __future__ import annotations

import numpy as np

from engine import backend


def _nccl_module():
    try:
        return backend.cupy_nccl()
    except ImportError as e:
        raise ImportError("Gradients on the GPU are summed with NCCL, which CuPy could not "
                          "load. Install NCCL for your CUDA (`pip install nvidia-nccl-cu12`). "
                          f"Import failed with: {e}") from e


class NCCLCommunicator:
    """An NCCL communicator spanning the MPI job (created collectively by every rank)."""

    def __init__(self, mpi):
        nccl = _nccl_module()
        self.nccl, self.mpi = nccl, mpi
        uid = np.zeros(128, np.int8)
        if mpi.rank == 0:
            uid[:] = np.asarray(nccl.get_unique_id(), np.int64).astype(np.int8)
        mpi.bcast_inplace(uid, root=0)
        self.comm = nccl.NcclCommunicator(mpi.size, tuple(int(v) for v in uid), mpi.rank)
        self.types = {np.dtype(np.float32): nccl.NCCL_FLOAT32,
                      np.dtype(np.float64): nccl.NCCL_FLOAT64,
                      np.dtype(np.float16): nccl.NCCL_FLOAT16}

    def sum_inplace(self, flat):
        """Sums a contiguous CuPy buffer over all ranks, in place, on the current stream."""
        cupy = backend.xp_for("gpu")
        dtype = np.dtype(flat.dtype)
        if dtype not in self.types:
            raise TypeError(f"NCCL sums float16/32/64 buffers. Received: dtype={dtype}")
        stream = cupy.cuda.get_current_stream()
        self.comm.allReduce(flat.data.ptr, flat.data.ptr, flat.size, self.types[dtype],
                            self.nccl.NCCL_SUM, stream.ptr)
