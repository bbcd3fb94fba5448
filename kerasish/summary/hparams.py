"""HParams dashboard data (in the spirit of ``tensorboard.plugins.hparams.api``).

The experiment config (hyperparameters and metrics) goes at the top of the log folder; each
run's folder gets its session start (its hyperparameter values) and session end. TensorBoard's
HParams tab then lists the runs with their final metrics, read from the runs' scalars.

>>> from kerasish.summary import hparams as hp
>>> HP_LR = hp.HParam("learning_rate", hp.Discrete([1e-3, 1e-4]))
>>> with create_file_writer("logs").as_default():
...     hp.hparams_config([HP_LR], [hp.Metric("epoch_accuracy", group="validation")])
>>> model.fit(x, y, callbacks=[TensorBoard("logs/run1"),
...                            hp.KerasCallback("logs/run1", {HP_LR: 1e-3})])
"""
from __future__ import annotations

import time

from ..callbacks.callback import Callback
from ._lib import tb
from .writer import SummaryWriter, default_writer

_api = tb("plugins.hparams.summary_v2")
HParam = _api.HParam
Discrete = _api.Discrete
IntInterval = _api.IntInterval
RealInterval = _api.RealInterval
Metric = _api.Metric

_STATUS = {"success": "STATUS_SUCCESS", "failure": "STATUS_FAILURE", "running": "STATUS_RUNNING",
           "unknown": "STATUS_UNKNOWN"}


def _write(summary, writer=None):
    writer = writer if writer is not None else default_writer()[0]
    if writer is None:
        return False
    writer.write_summary(summary, step=0)
    writer.flush()
    return True


def hparams_config(hparams, metrics, time_created_secs=None):
    """Writes the experiment: the ``HParam``s and ``Metric``s (usually at the top folder)."""
    return _write(_api.hparams_config_pb(hparams, metrics, time_created_secs))


def hparams(hparams, trial_id=None, start_time_secs=None):
    """Writes a run's session start: its hyperparameter values (``{HParam or name: value}``)."""
    return _write(_api.hparams_pb(hparams, trial_id=trial_id, start_time_secs=start_time_secs))


def session_end_pb(status="success", end_time_secs=None):
    """A ``Summary`` marking the end of a run's session (``status``: success, failure, ...)."""
    if status not in _STATUS:
        raise ValueError(f"`status` must be one of {sorted(_STATUS)}. Received: status={status!r}")
    api_pb2 = tb("plugins.hparams.api_pb2")
    plugin_data_pb2 = tb("plugins.hparams.plugin_data_pb2")
    metadata = tb("plugins.hparams.metadata")
    info = plugin_data_pb2.SessionEndInfo(
        status=getattr(api_pb2, _STATUS[status]),
        end_time_secs=time.time() if end_time_secs is None else end_time_secs)
    summary = tb("compat.proto.summary_pb2").Summary()
    summary.value.add(
        tag=metadata.SESSION_END_INFO_TAG, tensor=metadata.NULL_TENSOR,
        metadata=metadata.create_summary_metadata(
            plugin_data_pb2.HParamsPluginData(session_end_info=info)))
    return summary


def session_end(status="success", end_time_secs=None):
    """Writes a run's session end to the default writer."""
    return _write(session_end_pb(status, end_time_secs))


class KerasCallback(Callback):
    """Logs a run's hyperparameters when ``fit`` starts and its session end when it stops.

    Args:
        writer: The run's log folder (the TensorBoard callback's ``log_dir``) or a
            ``SummaryWriter``.
        hparams: ``{HParam or name: value}`` of this run.
        trial_id: A name grouping runs of the same values (default: a hash of them).
    """

    def __init__(self, writer, hparams, trial_id=None):
        super().__init__()
        if not isinstance(hparams, dict):
            raise TypeError(f"`hparams` must be a dict. Received: hparams={hparams!r}")
        _api.hparams_pb(hparams, trial_id=trial_id)  # checks the names and value types now
        self._writer_arg = writer
        self._writer = writer if isinstance(writer, SummaryWriter) else None
        self.hparams = dict(hparams)
        self.trial_id = trial_id

    def _get_writer(self):
        if self._writer is None or self._writer.closed:
            self._writer = SummaryWriter(self._writer_arg)
        return self._writer

    def on_train_begin(self, logs=None):
        _write(_api.hparams_pb(self.hparams, trial_id=self.trial_id), self._get_writer())

    def on_train_end(self, logs=None):
        status = "failure" if any(
            v != v for v in (logs or {}).values() if isinstance(v, float)) else "success"
        _write(session_end_pb(status), self._get_writer())
        if self._writer is not self._writer_arg:
            self._writer.close()
