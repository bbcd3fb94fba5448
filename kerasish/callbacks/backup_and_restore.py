"""BackupAndRestore: fault-tolerant training that resumes exactly where it stopped.

One checkpoint file (``backup_dir/checkpoint.h5``), written to a temporary name and renamed,
holds everything an uninterrupted run would still have in memory: the weights, the optimizer's
variables (slots and step), the position in the epoch (epoch, next batch and the epoch's sample
order), every random generator's state, the compiled metrics' running state, and the plain
state of the other callbacks. A run killed at any point and started again with the same
command ends with the same weights, bit for bit, as a run that was never interrupted.

Under a distribution (``kerasish.distribution``) rank 0 writes the file, holding the metric
states summed over ranks and every rank's random state; every rank restores from rank 0's
copy of the file (sent over MPI, so no shared file system is needed).
"""
from __future__ import annotations

import io
import json
import os
import shutil

import h5py
import numpy as np

from .. import distribution, random_state
from ..distribution import hooks as distributed
from ..saving import atomic
from .callback import Callback

CHECKPOINT = "checkpoint.h5"


def _to_json(value):
    if isinstance(value, np.ndarray):
        return {"__ndarray__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, np.generic):
        return value.item()
    return value


def _from_json(value):
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.asarray(value["__ndarray__"], dtype=value["dtype"])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def _python_state(state):
    """JSON turns random.getstate()'s tuples into lists; give them back as tuples."""
    version, internal, gauss = state
    return version, tuple(internal), gauss


_PLAIN = (bool, int, float, str, type(None))


def _callback_state(callback):
    """A callback's plain attributes (counters, best values, flags) and arrays lists."""
    scalars, arrays = {}, {}
    for key, value in vars(callback).items():
        if key in ("model", "params", "validation_data") or key.startswith("__"):
            continue
        if isinstance(value, _PLAIN):
            scalars[key] = value
        elif isinstance(value, list) and value and all(isinstance(v, np.ndarray) for v in value):
            arrays[key] = value
    return scalars, arrays


class BackupAndRestore(Callback):
    """Backs training up to ``backup_dir`` and resumes from it when ``fit`` runs again.

    Args:
        backup_dir: folder of the checkpoint (deleted when training ends normally).
        save_freq: "epoch", or an int N to back up every N batches as well.
        double_checkpoint: keep the previous checkpoint as ``checkpoint.h5.bkp``.
        delete_checkpoint: delete ``backup_dir`` when ``fit`` finishes.

    >>> model.fit(x, y, epochs=10, callbacks=[BackupAndRestore("/tmp/backup")])
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and (not isinstance(save_freq, int) or save_freq <= 0):
            raise ValueError("Invalid value for argument `save_freq`. Expected 'epoch' or a "
                             f"positive integer. Received: save_freq={save_freq}")
        self.backup_dir = str(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self.path = os.path.join(self.backup_dir, CHECKPOINT)
        self._batches_seen = 0
        self._epoch = 0
        self._pending_metrics = None
        self._pending_callbacks = None

    # -- the hooks -----------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._batches_seen = 0
        blob = distributed.chief_file_bytes(self.path)  # None with one process
        if blob is not None:
            self._restore(io.BytesIO(blob))
        elif distributed.num_processes() == 1 and os.path.exists(self.path):
            self._restore(self.path)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        # NOTE: applied here, not in on_train_begin, where other callbacks reset themselves.
        if self._pending_callbacks is not None:
            for callback, (scalars, arrays) in zip(self._other_callbacks(),
                                                   self._pending_callbacks):
                for key, value in {**scalars, **arrays}.items():
                    setattr(callback, key, value)
            self._pending_callbacks = None
        if self._pending_metrics is not None:  # resuming mid-epoch: the running means too
            for metric, arrays in zip(self.model.metrics, self._pending_metrics):
                for variable, value in zip(metric.variables, arrays):
                    variable.assign(value)
            self._pending_metrics = None

    _reads_batch_logs = False  # counts batches only: the trainer need not read their logs

    def on_train_batch_end(self, batch, logs=None):
        self._batches_seen += 1
        if isinstance(self.save_freq, int) and self._batches_seen % self.save_freq == 0:
            self._save(self._epoch, batch + 1, self.model._epoch_order)

    def on_epoch_end(self, epoch, logs=None):
        self._save(epoch + 1, 0, None)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and distribution.is_chief() and \
                os.path.isdir(self.backup_dir):
            shutil.rmtree(self.backup_dir)

    # -- the checkpoint ------------------------------------------------------------------------
    def _other_callbacks(self):
        listed = getattr(self.model, "_callback_list", None)
        return [] if listed is None else [c for c in listed.callbacks if c is not self]

    def _save(self, epoch, batch, order):
        model, optimizer = self.model, self.model.optimizer
        metric_state = distributed.summed_metric_state(model.metrics)  # collective
        ranks = distributed.num_processes()
        randoms = distributed.gather_to_chief(distributed.dump_random_state()) \
            if ranks > 1 else None
        if not distribution.is_chief():
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        meta = {"epoch": epoch, "batch": batch,
                "random": _to_json(random_state.get_state()),
                "layer_random": _to_json(random_state.get_layer_state(model)), "callbacks": []}
        if randoms is not None:
            meta["random_ranks"] = [r.decode() for r in randoms]

        def write(f):
            _write_list(f, "weights", [w.numpy() for w in model.weights])
            _write_list(f, "optimizer", [v.numpy() for v in optimizer.variables]
                        if optimizer.built else [])
            start = 0
            for i, metric in enumerate(model.metrics):
                count = len(metric.variables)
                _write_list(f, f"metrics/{i}", metric_state[start:start + count])
                start += count
            if order is not None:
                f.create_dataset("order", data=np.asarray(order))
            for i, callback in enumerate(self._other_callbacks()):
                scalars, arrays = _callback_state(callback)
                meta["callbacks"].append(scalars)
                for key, values in arrays.items():
                    _write_list(f, f"callbacks/{i}/{key}", values)
            f.attrs["metadata"] = json.dumps(meta)

        if self.double_checkpoint and os.path.exists(self.path):
            shutil.copyfile(self.path, self.path + ".bkp")
        atomic.atomic_write(self.path, lambda tmp: _with_h5(tmp, write))

    def _restore(self, source):
        model, optimizer = self.model, self.model.optimizer
        with h5py.File(source, "r") as f:
            meta = json.loads(f.attrs["metadata"])
            model.set_weights(_read_list(f, "weights"))
            saved = _read_list(f, "optimizer")
            if saved:
                optimizer.build(model.trainable_weights)
                for variable, value in zip(optimizer.variables, saved):
                    variable.assign(value)
            self._pending_metrics = [_read_list(f, f"metrics/{i}") for i in
                                     range(len(f["metrics"]))] if "metrics" in f else None
            order = f["order"][()] if "order" in f else None
            self._pending_callbacks = []
            for i, scalars in enumerate(meta["callbacks"]):
                group = f"callbacks/{i}"
                arrays = {key: _read_list(f, f"{group}/{key}")
                          for key in (f[group] if group in f else [])}
                self._pending_callbacks.append((scalars, arrays))
        ranks = meta.get("random_ranks")
        if ranks is not None and len(ranks) == distributed.num_processes():
            state = distributed.load_random_state(ranks[distributed.rank()])
        else:
            state = _from_json(meta["random"])
            state["python"] = _python_state(state["python"])
        random_state.set_state(state)
        random_state.set_layer_state(model, _from_json(meta.get("layer_random", [])))
        if meta["batch"] == 0:
            self._pending_metrics = None
        elif self._pending_metrics is not None and distributed.rank() != 0:
            # The file holds the sums over ranks: rank 0 takes them, the others start at zero.
            self._pending_metrics = [[np.zeros_like(a) for a in m] for m in self._pending_metrics]
        model._resume = {"epoch": meta["epoch"], "batch": meta["batch"], "order": order}
        self._batches_seen = 0


def _with_h5(path, write):
    with h5py.File(path, "w") as f:
        write(f)


def _write_list(f, name, arrays):
    group = f.require_group(name)
    group.attrs["count"] = len(arrays)
    for i, a in enumerate(arrays):
        group.create_dataset(str(i), data=a)


def _read_list(f, name):
    group = f[name]
    return [group[str(i)][()] for i in range(int(group.attrs["count"]))]
