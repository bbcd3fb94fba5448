"""A lost rank ends the whole MPI job within seconds; the same command run again resumes from
rank 0's BackupAndRestore checkpoint and ends bitwise equal to an uninterrupted run."""
import json
import os

import numpy as np

from .launch import check, run

FULL = 18  # 3 epochs of 6 batches


def _weights(folder, rank):
    with np.load(os.path.join(folder, f"rank{rank}.npz")) as f:
        return [f[k] for k in sorted(f)]


def _trained(folder, rank):
    with open(os.path.join(folder, f"rank{rank}.json")) as f:
        return json.load(f)["trained"]


def test_sigkill_ends_the_job_and_the_relaunch_resumes_bitwise(tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    whole.mkdir(), killed.mkdir()
    args = ["--epochs", 3]
    check(run("train_job.py", "--out", whole, "--backup", whole / "backup", *args)[0])
    assert _trained(whole, 0) == FULL
    # rank 1 SIGKILLs itself before its 10th batch; rank 0 saved after batch 8 (save_freq=2)
    done, seconds = run("train_job.py", "--out", killed, "--backup", killed / "backup", *args,
                        KILL_AT=10)
    assert done.returncode != 0 and seconds < 30, (done.returncode, seconds)
    assert not (killed / "rank0.npz").exists()
    assert (killed / "backup" / "checkpoint.h5").exists()
    check(run("train_job.py", "--out", killed, "--backup", killed / "backup", *args)[0])
    for rank in (0, 1):
        assert _trained(killed, rank) == FULL - 8  # resumed after batch 8, not from scratch
        for a, b in zip(_weights(whole, rank), _weights(killed, rank)):
            assert np.array_equal(a, b)
    assert not (killed / "backup").exists()  # rank 0 deletes it once training is done


def test_an_exception_on_one_rank_ends_the_job_with_an_error(tmp_path):
    done, seconds = run("train_job.py", "--out", tmp_path, RAISE_AT=3)
    assert done.returncode != 0 and seconds < 30, (done.returncode, seconds)
    assert "rank 1 fails on purpose" in done.stderr
    assert not (tmp_path / "rank0.npz").exists()
