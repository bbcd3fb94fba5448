"""Data-parallel training on 2 MPI processes against one process on the same global batches,
and the communicator's sums, broadcasts and gathers against hand-computed values."""
import json
import os

import numpy as np
import pytest

from kerasish.distribution import sharding
from kerasish.distribution.mpi_comm import buckets

from .launch import check, run


def _load(folder, name):
    with np.load(os.path.join(folder, name)) as f:
        return [f[k] for k in sorted(f, key=lambda k: int(k.split("_")[1]))]


def _json(folder, rank):
    with open(os.path.join(folder, f"rank{rank}.json")) as f:
        return json.load(f)


# (model, extra arguments, batches per epoch); the last case's final batches of fit, of the
# validation, of evaluate and of predict hold 1, 14, 1 and 1 samples: rank 0 has none of the
# single ones and steps on a stand-in sample
CASES = {"mlp": ("mlp", [], 6), "cnn": ("cnn", [], 6),
         "mlp-last-batch-of-1": ("mlp", ["--batches", 27, 29, 29], 7)}


@pytest.mark.parametrize("case", list(CASES))
def test_two_ranks_train_like_one_process_on_the_global_batches(tmp_path, case):
    model, extra, steps = CASES[case]
    dist, single = tmp_path / "dist", tmp_path / "single"
    dist.mkdir(), single.mkdir()
    done, _ = run("train_job.py", "--model", model, "--out", dist, *extra)
    check(done)
    check(run("train_job.py", "--model", model, "--out", single, "--single", *extra,
              ranks=0)[0])
    rank0, rank1 = _load(dist, "rank0.npz"), _load(dist, "rank1.npz")
    reference = _load(single, "rank0.npz")
    init0, init1 = _load(dist, "init_rank0.npz"), _load(dist, "init_rank1.npz")
    assert len(rank0) == len(reference) == 4
    for a, b, ref, start0, start1 in zip(rank0, rank1, reference, init0, init1):
        assert np.array_equal(a, b)  # the ranks never drift apart, not even by one bit
        assert np.linalg.norm(a - ref) / np.linalg.norm(ref) < 1e-5
        assert not np.allclose(a, start0, atol=1e-3)  # it trained
    # rank 1 drew other initial kernels (seed 101): rank 0's were broadcast before training
    assert not np.array_equal(init0[0], init1[0])
    # History, the progress bar and evaluate show global values, equal on both ranks
    logs0, logs1, logs = _json(dist, 0), _json(dist, 1), _json(single, 0)
    assert logs0["history"] == logs1["history"]
    assert logs0["draw"] != logs1["draw"]  # one random stream per rank (dropout masks differ)
    assert logs0["history"].keys() == logs["history"].keys() == {
        "accuracy", "loss", "val_accuracy", "val_loss"}
    for key, values in logs["history"].items():
        np.testing.assert_allclose(logs0["history"][key], values, rtol=1e-5)
    for key, value in logs["evaluate"].items():
        np.testing.assert_allclose(logs0["evaluate"][key], value, rtol=1e-5)
    assert logs0["trained"] == logs["trained"] == 2 * steps  # 2 epochs
    # rank 0 alone writes the CSV log and the checkpoints, and prints
    assert (dist / "ck0.weights.h5").exists() and (dist / "log0.csv").exists()
    assert not (dist / "ck1.weights.h5").exists() and not (dist / "log1.csv").exists()
    assert list((dist / "tb0" / "train").glob("events.out.tfevents.*"))
    assert not (dist / "tb1").exists()
    assert done.stdout.count("Epoch 2: saving model to") == 1
    with open(dist / "log0.csv") as f:
        assert f.read().splitlines()[0] == "epoch,accuracy,loss,val_accuracy,val_loss"
    if model == "mlp":  # verbose=2: rank 0 alone prints one line per epoch
        assert done.stdout.count("Epoch 1/2") == 1
        assert done.stdout.count(f"{steps}/{steps} - ") == 2
        assert logs0["evaluate"] == pytest.approx(logs0["evaluate_local"], rel=1e-6)
        for rank in (0, 1):
            with np.load(dist / f"predict_rank{rank}.npz") as f:
                np.testing.assert_allclose(f["predict"], f["direct"], rtol=1e-6, atol=1e-6)


def test_communicator_sums_broadcasts_and_gathers(tmp_path):
    check(run("comm_job.py", tmp_path)[0])
    for rank in (0, 1):
        with np.load(tmp_path / f"comm_rank{rank}.npz") as f:
            got = {k: f[k] for k in f}
        assert got["devices"].tolist() == ["cpu:0", "cpu:1"]
        assert str(got["one_device"]) == ("DataParallel needs one device per MPI process: the "
                                          "job has 2 processes. Received: devices=['cpu:0']")
        # 0.5 * (1 + 2) * [1, 2, ...] in the input's shape and dtype
        for i, (n, dtype, shape) in enumerate([(6, "float32", (2, 3)), (12, "float32", (12,)),
                                               (3, "float64", (3,)), (4, "float16", (2, 2)),
                                               (1, "float32", ())]):
            expected = (1.5 * np.arange(1, 1 + n)).reshape(shape)
            assert got[f"sum{i}"].dtype == dtype
            np.testing.assert_array_equal(got[f"sum{i}"], expected)
        # 40-byte buckets: float32 [24 B] [48 B] [4 B], float64 [24 B], float16 as float32
        assert int(got["calls"]) == 5
        assert got["bcast"].tobytes() == b"from rank 0" and bool(got["none"])
        assert got["gather"].tolist() == ([2, 3] if rank == 0 else [])
        assert got["rows"].tolist() == [[0, 0], [1, 1], [1, 1]]
        # 8 samples in batches of 5 and 3: rank 0 takes 0-1 and 5, rank 1 takes 2-4 and 6-7
        assert got["local"].tolist() == ([0, 1, 5] if rank == 0 else [2, 3, 4, 6, 7])
        assert got["assembled"].tolist() == list(range(8))


def test_slices_and_buckets_by_hand():
    assert [sharding.bounds(11, 2, r) for r in range(2)] == [(0, 5), (5, 11)]
    assert [sharding.bounds(10, 4, r) for r in range(4)] == [(0, 2), (2, 5), (5, 7), (7, 10)]
    assert buckets([10, 10, 30, 50, 5], 25) == [[0, 1], [2], [3], [4]]
    assert buckets([], 25) == []


def test_gradients_are_summed_in_few_bucketed_allreduces(tmp_path):
    check(run("train_job.py", "--model", "cnn", "--out", tmp_path, "--epochs", 1)[0])
    stats = _json(tmp_path, 0)["allreduce"]
    # 6 steps, one all-reduce each: the 4 gradients (235 floats) fit in one 4 MB bucket
    weights = _load(tmp_path, "rank0.npz")
    assert stats["calls"] == 6
    assert stats["bytes"] == 6 * 4 * sum(w.size for w in weights)


@pytest.mark.gpu
def test_one_rank_on_a_gpu_sums_through_nccl(tmp_path):
    from engine import backend

    if not backend.cupy_available():
        pytest.skip("CuPy with a CUDA device is not available")
    if backend.xp_for("gpu").__name__ != "cupy":
        # NOTE: the jobs run in fresh processes, which see only a real CuPy and a real device.
        pytest.skip(f"the GPU here is {backend.xp_for('gpu').__name__!r}, not CuPy: "
                    "the jobs' own processes cannot see it (a CuPy stand-in, say)")
    dist, single = tmp_path / "dist", tmp_path / "single"
    dist.mkdir(), single.mkdir()
    check(run("train_job.py", "--device", "gpu", "--out", dist, ranks=1)[0])
    check(run("train_job.py", "--device", "gpu", "--out", single, "--single", ranks=0)[0])
    assert _json(dist, 0)["nccl"] and _json(dist, 0)["allreduce"]["calls"] == 12
    for a, ref in zip(_load(dist, "rank0.npz"), _load(single, "rank0.npz")):
        assert np.linalg.norm(a - ref) / np.linalg.norm(ref) < 1e-5


def test_batch_norm_moving_statistics_stay_identical_across_ranks(tmp_path):
    check(run("train_job.py", "--model", "bn", "--out", tmp_path, "--epochs", 1)[0])
    rank0, rank1 = _load(tmp_path, "rank0.npz"), _load(tmp_path, "rank1.npz")
    assert len(rank0) == 8  # kernel, bias, gamma, beta, moving mean and variance, kernel, bias
    for a, b in zip(rank0, rank1):
        assert np.array_equal(a, b)
    assert np.abs(rank0[4]).min() > 0  # the moving mean moved away from its zeros
