"""Data-parallel training across processes and machines (``keras.distribution``), on MPI.

>>> import kerasish as keras
>>> keras.distribution.initialize()                    # rank and size from mpiexec / srun
>>> keras.distribution.set_distribution(keras.distribution.DataParallel())
>>> model.fit(x, y, batch_size=64)                     # 64 = the global batch

Run with ``mpiexec -n 4 python -m mpi4py train.py``. mpi4py is imported only by
``initialize``/``DataParallel`` (``pip install kerasish[distributed]``).
"""
from .api import (DataParallel, distribution, initialize, is_chief, list_devices,
                  set_distribution)
from .layouts import (DeviceMesh, LayoutMap, ModelParallel, TensorLayout, distribute_tensor,
                      get_device_count)

__all__ = ["DataParallel", "DeviceMesh", "LayoutMap", "ModelParallel", "TensorLayout",
           "distribute_tensor", "distribution", "get_device_count", "initialize", "is_chief",
           "list_devices", "set_distribution"]
