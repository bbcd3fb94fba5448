"""EarlyStopping: stop training when a monitored quantity stops improving."""
from __future__ import annotations

import warnings

from ..progbar import print_msg
from .monitor_callback import MonitorCallback


class EarlyStopping(MonitorCallback):
    """Stops training after ``patience`` epochs in a row without improvement of ``monitor``.

    An epoch improves if it beats the best so far by more than ``min_delta``; the first monitored
    epoch always does. With a ``baseline``, the wait is reset only by epochs that beat the
    baseline too. Epochs before ``start_from_epoch`` are ignored. With
    ``restore_best_weights=True`` the best epoch's weights are put back at the end of training,
    whether or not training stopped early.

    Args:
        monitor: Quantity to be monitored.
        min_delta: Minimum change that counts as an improvement.
        patience: Number of epochs with no improvement after which training is stopped.
        verbose: 0 (silent) or 1 (messages at the end of training).
        mode: "auto", "min" or "max".
        baseline: Value the monitored quantity must beat for the wait to be reset.
        restore_best_weights: Whether to restore the weights of the best epoch.
        start_from_epoch: Number of epochs to wait before starting to monitor.

    >>> callback = EarlyStopping(monitor="loss", patience=3)
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best_epoch = 0
        self.best_weights = None

    def on_train_begin(self, logs=None):
        # The same instance may serve several fits.
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch

        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg("Restoring model weights from the end of the best epoch: "
                          f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(logs)}", stacklevel=3)
        return value
