"""The communicator's pieces on 2 ranks, with inputs whose sums are known by hand; writes
``comm_rank{r}.npz`` to the folder given as the first argument."""
import os
import sys

import numpy as np

import kerasish as keras
from kerasish.data import ArrayData
from kerasish.distribution import hooks
from kerasish.distribution.mpi_comm import MPICommunicator


def main(out):
    comm = MPICommunicator(bucket_bytes=40)  # tiny buckets: several per call
    r = comm.rank
    keras.distribution.initialize(num_processes=2, process_id=r)
    results = {"devices": np.array(keras.distribution.list_devices())}
    try:
        keras.distribution.DataParallel(devices=["cpu:0"])
    except ValueError as e:
        results["one_device"] = np.array(str(e))
    # rank r sends (r + 1) * [1, 2, ...]; with scale s the sum is s * 3 * [1, 2, ...]
    arrays = [(r + 1) * np.arange(1, 1 + n, dtype=dtype).reshape(shape)
              for n, dtype, shape in [(6, np.float32, (2, 3)), (12, np.float32, (12,)),
                                      (3, np.float64, (3,)), (4, np.float16, (2, 2)),
                                      (1, np.float32, ())]]
    summed = comm.allreduce_sum(arrays, scale=0.5)
    for i, a in enumerate(summed):
        results[f"sum{i}"] = a
    results["calls"] = np.array(comm.stats["calls"])
    results["bcast"] = np.frombuffer(comm.bcast_bytes(b"from rank 0" if r == 0 else None),
                                     np.uint8)
    results["none"] = np.array(comm.bcast_bytes(None) is None)
    gathered = comm.gather_bytes(bytes([r]) * (r + 2))
    results["gather"] = np.array([] if gathered is None else [len(g) for g in gathered])
    results["rows"] = comm.allgather_rows(np.full((r + 1, 2), r))
    # predictions put back in sample order: batches of 5 and 3 samples, rows = sample ids
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    data = hooks.shard(ArrayData(np.arange(8, dtype=np.float32)[:, None], batch_size=5))
    local = np.concatenate([item[0] for item in data.epoch()])
    results["local"] = local[:, 0]
    results["assembled"] = data.assemble(local)[:, 0]
    np.savez(os.path.join(out, f"comm_rank{r}.npz"), **results)


if __name__ == "__main__":
    main(sys.argv[1])
