"""Exact resume: a run SIGKILLed at a random batch (or in the middle of writing a checkpoint)
and started again with the same command ends bitwise equal to an uninterrupted run."""
import os
import subprocess
import sys

import numpy as np
import pytest

import kerasish as keras

JOB = os.path.join(os.path.dirname(__file__), "resume_job.py")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_job(backup, out, *extra):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, JOB, str(backup), str(out), *extra], env=env,
                          capture_output=True, text=True, timeout=300)


def weights(path):
    with np.load(path) as f:
        return [f[k] for k in f.files if k.startswith("arr_")]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clean")
    result = run_job(tmp / "backup", tmp / "clean.npz")
    assert result.returncode == 0, result.stderr
    assert not (tmp / "backup").exists()  # deleted when fit ends normally
    return weights(tmp / "clean.npz")


@pytest.mark.parametrize("how", [
    ["--kill-at-batch", str(np.random.default_rng().integers(2, 24))],
    ["--kill-during-save", "4"],
    ["--kill-at-batch", "14", "--save-freq", "epoch"],
])
def test_killed_run_resumes_bitwise(tmp_path, uninterrupted, how):
    backup, out = tmp_path / "backup", tmp_path / "out.npz"
    save_freq = ["--save-freq", how[-1]] if "--save-freq" in how else []
    killed = run_job(backup, out, *how)
    assert killed.returncode == -9, killed.stderr  # SIGKILL
    resumed = run_job(backup, out, *save_freq)
    assert resumed.returncode == 0, resumed.stderr
    for a, b in zip(weights(out), uninterrupted):
        np.testing.assert_array_equal(a, b)


def test_empty_backup_dir_is_keras_error():
    with pytest.raises(ValueError, match="Empty `backup_dir` argument passed"):
        keras.callbacks.BackupAndRestore(None)
