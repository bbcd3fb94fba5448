"""Two ranks on two GPUs sum their gradients through NCCL and train as one process on the
global batches (the device check runs it; it skips with fewer than 2 GPUs)."""
import numpy as np
import pytest

from .launch import check, run
from .test_data_parallel import _json, _load


@pytest.mark.gpu
def test_two_ranks_on_two_gpus_train_like_one_process(tmp_path):
    from engine import backend

    if not backend.cupy_available():
        pytest.skip("CuPy with a CUDA device is not available")
    count = backend.xp_for("gpu").cuda.runtime.getDeviceCount()
    if count < 2:
        pytest.skip(f"2 GPUs needed for 2 NCCL ranks; this machine has {count}")
    dist, single = tmp_path / "dist", tmp_path / "single"
    dist.mkdir(), single.mkdir()
    check(run("train_job.py", "--device", "gpu", "--out", dist, ranks=2, timeout=300)[0])
    check(run("train_job.py", "--device", "gpu", "--out", single, "--single", ranks=0,
              timeout=300)[0])
    assert _json(dist, 0)["nccl"] and _json(dist, 1)["nccl"]
    for a, b, ref in zip(_load(dist, "rank0.npz"), _load(dist, "rank1.npz"),
                         _load(single, "rank0.npz")):
        assert np.array_equal(a, b)  # the ranks never drift apart
        assert np.linalg.norm(a - ref) / np.linalg.norm(ref) < 1e-5
