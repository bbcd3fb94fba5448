"""The few calls training makes into the distribution. Each returns at once (or returns its
argument) when no distribution is set, so single-process training is untouched."""
from __future__ import annotations

import contextlib
import json

import numpy as np

from engine import backend
from engine import random as engine_random

from . import api

_BATCH_WEIGHT = None  # n_local / n_global of the batch being trained (set by sharded data)
_MOVING = []  # the BatchNormalization moving statistics of the model being fitted
_STANDIN = None  # {id(variable): (variable, value before)} while a stand-in batch runs


def set_batch_weight(weight):
    global _BATCH_WEIGHT
    _BATCH_WEIGHT = weight


def begin_standin(model):
    """This rank has no sample in the coming batch and steps on a stand-in: its metric
    state stays what it is now (see ``_local_value``)."""
    global _STANDIN
    metrics = [] if model is None else model.metrics
    _STANDIN = {id(v): (v, v.data.copy()) for m in metrics for v in m.variables}


def end_standin():
    """Undoes the stand-in's metric updates."""
    global _STANDIN
    for variable, value in (_STANDIN or {}).values():
        variable.data[...] = value
    _STANDIN = None


def _local_value(variable):
    """A metric variable's own value on this rank, without a stand-in step's update (a
    variable the stand-in step created was zero before it)."""
    if _STANDIN is None:
        return variable.data
    if id(variable) not in _STANDIN:
        _STANDIN[id(variable)] = (variable, variable.data * 0)
    return _STANDIN[id(variable)][1]


def _comm():
    d = api.distribution()
    return None if d is None else d.comm


def shard(data, model=None):
    """``data`` cut so that this rank gets its slice of each global batch."""
    d = api.distribution()
    if d is None or data is None:
        return data
    from .sharding import shard as shard_data

    return shard_data(data, d, model)


def average_gradients(grads):
    """The global-batch gradients: each rank's weighted by its share of the batch, summed over
    ranks in bucketed all-reduces (called inside ``Optimizer.apply``)."""
    comm = _comm()
    if comm is None:
        return grads
    weight = _BATCH_WEIGHT if _BATCH_WEIGHT is not None else 1.0 / comm.size
    grads = comm.allreduce_sum(grads, scale=weight)
    if _MOVING and comm.size > 1:
        # Each rank normalized with its own batch's statistics (no SyncBatchNorm): average
        # the moving statistics they updated, so the replicas stay identical.
        means = comm.allreduce_sum([v.data for v in _MOVING], scale=1.0 / comm.size)
        for variable, value in zip(_MOVING, means):
            variable.data[...] = value
    return grads


def on_fit_begin(model):
    """Rank 0's weights, optimizer state and random state on every rank."""
    global _MOVING
    comm = _comm()
    _MOVING = [] if comm is None else _moving_statistics(model)
    if comm is None or comm.size == 1:
        return
    variables = list(model.weights)
    if model.optimizer is not None and model.optimizer.built:
        variables += list(model.optimizer.variables)
    for variable in variables:
        host = np.ascontiguousarray(backend.to_numpy(variable.data)).copy()
        comm.bcast_inplace(host, root=0)
        if comm.rank != 0:
            variable.assign(host)
    from .. import random_state

    state = comm.bcast_bytes(dump_random_state() if comm.rank == 0 else None, root=0)
    if comm.rank != 0:
        random_state.set_state(load_random_state(state))
    # NOTE: from here each rank draws from its own stream (rank 0's jumped rank times), so
    # the ranks' slices get different dropout masks; the epoch order is rank 0's anyway.
    bits = engine_random.generator("cpu").bit_generator
    bits.state = bits.jumped(comm.rank).state


def _moving_statistics(model):
    from ..layers.normalization import BatchNormalization

    stack, found = list(getattr(model, "_layers", [])), []
    while stack:
        layer = stack.pop(0)
        stack.extend(getattr(layer, "_layers", []))
        if isinstance(layer, BatchNormalization) and layer.trainable and \
                layer.moving_mean is not None:
            found += [layer.moving_mean, layer.moving_variance]
    return found


def dump_random_state():
    from .. import random_state
    from ..callbacks.backup_and_restore import _to_json

    return json.dumps(_to_json(random_state.get_state())).encode()


def load_random_state(data):
    from ..callbacks.backup_and_restore import _from_json, _python_state

    state = _from_json(json.loads(data.decode() if isinstance(data, bytes) else data))
    state["python"] = _python_state(state["python"])
    return state


def _metric_variables(metrics):
    return [v for m in metrics for v in m.variables]


def summed_metric_state(metrics):
    """Every metric variable summed over ranks, as NumPy arrays (metric states are totals and
    counts, so the sums are the state one process would have had); local without a
    distribution. Summed in float64: exact for float32 totals and integer counts."""
    variables = _metric_variables(metrics)
    local = [backend.to_numpy(_local_value(v)) for v in variables]
    comm = _comm()
    if comm is None or comm.size == 1 or not variables:
        return [np.array(a, copy=True) for a in local]
    flat = np.concatenate([a.astype(np.float64).ravel() for a in local])
    flat = comm.sum_host(flat)
    out, offset = [], 0
    for a in local:
        out.append(flat[offset:offset + a.size].reshape(a.shape).astype(a.dtype))
        offset += a.size
    return out


@contextlib.contextmanager
def global_metric_state(metrics):
    """Inside the block the metrics hold the sums over ranks (so ``result()`` is global);
    after it, each rank's own state is back."""
    comm = _comm()
    if comm is None or comm.size == 1:
        yield
        return
    variables = _metric_variables(metrics)
    saved = [v.data.copy() for v in variables]
    for variable, value in zip(variables, summed_metric_state(metrics)):
        variable.data[...] = backend.to_device(value, variable.device)
    try:
        yield
    finally:
        for variable, value in zip(variables, saved):
            variable.data[...] = value


def gather_predictions(data, outputs):
    """The predictions of all ranks in sample order (unchanged without a distribution)."""
    assemble = getattr(data, "assemble", None)
    return outputs if assemble is None else assemble(outputs)


# -- for the callbacks ----------------------------------------------------------------------
def rank():
    comm = _comm()
    return 0 if comm is None else comm.rank


def num_processes():
    comm = _comm()
    return 1 if comm is None else comm.size


def chief_file_bytes(path):
    """The bytes of the file at ``path`` as rank 0 sees it (None if it has none), on every
    rank: restoring needs no shared file system."""
    comm = _comm()
    if comm is None or comm.size == 1:
        return None
    data = None
    if comm.rank == 0:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            data = None
    return comm.bcast_bytes(data, root=0)


def gather_to_chief(data):
    """Every rank's ``bytes``, as a list on rank 0 (None elsewhere); ``[data]`` alone."""
    comm = _comm()
    return [data] if comm is None else comm.gather_bytes(data, root=0)
