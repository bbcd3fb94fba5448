"""The public names, their errors, and single-process training that never loads MPI."""
import subprocess
import sys

import pytest

import kerasish as keras
from kerasish import distribution

from .launch import ROOT, env

_NO_MPI = """
import sys, numpy as np, kerasish as keras
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
model.compile("sgd", "mse", metrics=["mae"])
x, y = np.ones((8, 3), "float32"), np.zeros((8, 2), "float32")
model.fit(x, y, batch_size=4, epochs=2, verbose=0, validation_split=0.25,
          callbacks=[keras.callbacks.BackupAndRestore(sys.argv[1])])
model.evaluate(x, y, verbose=0); model.predict(x, verbose=0)
print("mpi4py" in sys.modules, keras.distribution.is_chief())
"""


def test_training_without_a_distribution_never_loads_mpi(tmp_path):
    done = subprocess.run([sys.executable, "-c", _NO_MPI, str(tmp_path / "backup")], cwd=ROOT,
                          env=env(), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]


def test_the_keras_names_and_their_errors():
    assert keras.distribution is distribution
    assert distribution.distribution() is None and distribution.is_chief()
    with pytest.raises(ValueError, match="expects a `DataParallel` instance or None"):
        distribution.set_distribution("data_parallel")
    with pytest.raises(ValueError, match="'cpu' or 'gpu'.*device_type='tpu'"):
        distribution.list_devices("tpu")
