"""Running the jobs of these tests under ``mpiexec`` (MPICH's, from the ``mpich`` wheel)."""
import os
import shutil
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def mpiexec():
    """The mpiexec next to this Python (a venv's bin/), else the one on PATH."""
    pytest.importorskip("mpi4py", reason="pip install -e .[distributed] for these tests")
    found = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or \
        shutil.which("mpiexec")
    if found is None:
        pytest.skip("no mpiexec found (pip install mpich)")
    return found


def env(**extra):
    # One BLAS thread per rank: the 2 ranks share the machine's cores.
    out = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    out.pop("KILL_AT", None)
    out.pop("RAISE_AT", None)
    out.update({key: str(value) for key, value in extra.items()})
    return out


def run(script, *args, ranks=2, timeout=120, **extra):
    """Runs ``tests/distribution/<script>`` on ``ranks`` MPI processes (``ranks=0``: plain
    python, no mpiexec). Returns (completed process, seconds)."""
    path = os.path.join(HERE, script)
    if ranks:
        command = [mpiexec(), "-n", str(ranks), sys.executable, "-m", "mpi4py", path]
    else:
        command = [sys.executable, path]
    start = time.monotonic()
    done = subprocess.run(command + [str(a) for a in args], cwd=ROOT, env=env(**extra),
                          capture_output=True, text=True, timeout=timeout)
    return done, time.monotonic() - start


def check(done):
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done
