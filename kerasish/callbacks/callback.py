"""Callback: the base class of everything that hooks into fit/evaluate/predict."""
from __future__ import annotations


class Callback:
    """Base class of callbacks; override the hooks you need.

    Every hook takes ``logs=None``. Batch and epoch indices are 0-based. ``self.model`` is the
    model being trained and ``self.params`` is ``{"verbose": v, "epochs": n, "steps": s}``.

    >>> class Count(Callback):
    ...     def on_train_batch_end(self, batch, logs=None):
    ...         self.batches = batch + 1
    """

    def __init__(self):
        self.params = None
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    def on_batch_begin(self, batch, logs=None):
        """A backwards-compatible alias of ``on_train_batch_begin``."""

    def on_batch_end(self, batch, logs=None):
        """A backwards-compatible alias of ``on_train_batch_end``."""

    def on_epoch_begin(self, epoch, logs=None):
        """Called at the start of an epoch of ``fit``."""

    def on_epoch_end(self, epoch, logs=None):
        """Called at the end of an epoch of ``fit`` with its train and ``val_`` logs."""

    def on_train_batch_begin(self, batch, logs=None):
        """Called at the start of a training batch."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        """Called at the end of a training batch with the running epoch means."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        """Called at the start of a batch of ``evaluate`` or of validation."""

    def on_test_batch_end(self, batch, logs=None):
        """Called at the end of a batch of ``evaluate`` or of validation."""

    def on_predict_batch_begin(self, batch, logs=None):
        """Called at the start of a batch of ``predict``."""

    def on_predict_batch_end(self, batch, logs=None):
        """Called at the end of a batch of ``predict`` with ``{"outputs": ...}``."""

    def on_train_begin(self, logs=None):
        """Called at the start of ``fit``."""

    def on_train_end(self, logs=None):
        """Called at the end of ``fit`` with the last epoch's logs."""

    def on_test_begin(self, logs=None):
        """Called at the start of ``evaluate`` or of validation."""

    def on_test_end(self, logs=None):
        """Called at the end of ``evaluate`` or of validation."""

    def on_predict_begin(self, logs=None):
        """Called at the start of ``predict``."""

    def on_predict_end(self, logs=None):
        """Called at the end of ``predict``."""
