"""Keras 3's distribution API on MPI: ``initialize``, ``list_devices``, ``DataParallel``,
``set_distribution``, ``distribution``, plus ``is_chief`` for callbacks that write files.

Launched as ``mpiexec -n N python -m mpi4py train.py``: one process (rank) per device. Nothing
here imports mpi4py until ``initialize`` (or ``DataParallel``) runs, so a program that never
asks for a distribution never loads MPI.
"""
from __future__ import annotations

from .. import config

_COMM = None           # the MPI communicator wrapper, once initialized
_DISTRIBUTION = None   # what set_distribution() set


def initialize(job_addresses=None, num_processes=None, process_id=None):
    """Starts MPI (rank and size come from the launcher, ``mpiexec`` or ``srun``).

    Keras's arguments are accepted for compatibility: with MPI the launcher decides them, so
    given values are only checked against what MPI reports.

    Args:
        job_addresses: Unused (MPI's launcher connects the processes).
        num_processes: If given, must equal the number of MPI processes.
        process_id: If given, must equal this process's MPI rank.
    """
    global _COMM
    if _COMM is None:
        from .mpi_comm import MPICommunicator

        _COMM = MPICommunicator()
        if config.device() == "gpu":
            _COMM.select_gpu()
    if num_processes is not None and int(num_processes) != _COMM.size:
        raise ValueError(f"`num_processes` must match the MPI job's size. Received: "
                         f"num_processes={num_processes}, MPI size={_COMM.size}")
    if process_id is not None and int(process_id) != _COMM.rank:
        raise ValueError(f"`process_id` must match this process's MPI rank. Received: "
                         f"process_id={process_id}, MPI rank={_COMM.rank}")
    return _COMM


def communicator():
    """The MPI communicator wrapper (starts MPI on first use)."""
    return _COMM if _COMM is not None else initialize()


def list_devices(device_type=None):
    """The devices of the whole job, one per process: ``["cpu:0", "cpu:1", ...]``.

    Args:
        device_type: "cpu" or "gpu" (default: the device kerasish runs on).
    """
    kind = (device_type or config.device()).lower()
    if kind not in ("cpu", "gpu"):
        raise ValueError(f"`device_type` must be 'cpu' or 'gpu'. Received: device_type={kind!r}")
    return [f"{kind}:{i}" for i in range(communicator().size)]


class DataParallel:
    """Data parallelism: every process holds the whole model and trains on its slice of each
    global batch; gradients are averaged across processes inside the optimizer step.

    Args:
        devices: The job's devices (default ``list_devices()``), one per MPI process.
        device_mesh: A one-axis ``DeviceMesh`` over the job's devices (instead of
            ``devices``); its axis is the batch axis.
        auto_shard_dataset: Accepted; arrays and generators are always sharded by batch.

    >>> keras.distribution.set_distribution(keras.distribution.DataParallel())
    """

    def __init__(self, devices=None, device_mesh=None, auto_shard_dataset=True):
        from .layouts import DeviceMesh

        if device_mesh is not None and len(device_mesh.shape) != 1:
            raise ValueError("DataParallel takes a one-axis `device_mesh` (one device per MPI "
                             f"process). Received: device_mesh={device_mesh}")
        comm = communicator()
        if device_mesh is not None:
            devices = list(device_mesh.devices.ravel())
        self.devices = list(devices) if devices is not None else list_devices()
        if len(self.devices) != comm.size:
            raise ValueError(f"DataParallel needs one device per MPI process: the job has "
                             f"{comm.size} processes. Received: devices={self.devices}")
        self.comm = comm
        self.batch_dim_name = device_mesh.axis_names[0] if device_mesh is not None else "batch"
        self.device_mesh = device_mesh or DeviceMesh((len(self.devices),), [self.batch_dim_name],
                                                     self.devices)
        self.auto_shard_dataset = auto_shard_dataset

    @property
    def num_model_replicas(self):
        return len(self.devices)

    def get_data_layout(self, data_shape):
        """Data split along its first axis over the processes."""
        from .layouts import TensorLayout

        return TensorLayout([self.batch_dim_name] + [None] * (len(data_shape) - 1),
                            self.device_mesh)

    def get_variable_layout(self, variable):
        """Variables are replicated: a whole copy in each process."""
        from .layouts import TensorLayout

        return TensorLayout([None] * len(variable.shape), self.device_mesh)

    def get_tensor_layout(self, path):
        return None

    @property
    def rank(self):
        return self.comm.rank

    @property
    def num_processes(self):
        return self.comm.size

    def __repr__(self):
        return f"<DataParallel devices={self.devices}>"


def set_distribution(value):
    """Sets the distribution ``fit``/``evaluate``/``predict`` use (``None`` turns it off)."""
    global _DISTRIBUTION
    from .layouts import ModelParallel

    if isinstance(value, ModelParallel):
        raise value.refusal()
    if value is not None and not isinstance(value, DataParallel):
        raise ValueError("`set_distribution` expects a `DataParallel` instance or None. "
                         f"Received: {type(value).__name__}")
    _DISTRIBUTION = value


def distribution():
    """The distribution set by ``set_distribution`` (``None`` when none)."""
    return _DISTRIBUTION


def is_chief():
    """True on the process that prints and writes files: rank 0, or the only process."""
    return _DISTRIBUTION is None or _DISTRIBUTION.rank == 0
