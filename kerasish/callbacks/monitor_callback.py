"""MonitorCallback: the shared "is this value an improvement?" logic of EarlyStopping,
ModelCheckpoint and ReduceLROnPlateau (mode "min"/"max"/"auto", min_delta, best so far)."""
from __future__ import annotations

import operator
import warnings

from .callback import Callback


class MonitorCallback(Callback):
    """Base class for callbacks that watch one logged quantity (not exported, as in Keras).

    mode="auto" minimizes names ending in ``loss`` and follows a compiled metric's own direction
    (``model._compiled_metric_directions``: name -> "up"/"down", with or without ``val_``);
    otherwise the first epoch end raises a ValueError.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.",
                          stacklevel=3)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _auto_direction(self):
        directions = getattr(self.model, "_compiled_metric_directions", None) or {}
        direction = directions.get(self.monitor) or directions.get(
            self.monitor.removeprefix("val_"))
        if direction in ("up", "down"):
            return direction
        if self.monitor.endswith("loss"):
            return "down"
        return None

    def _set_monitor_op(self):
        direction = {"min": "down", "max": "up"}.get(self.mode) or self._auto_direction()
        if direction is None:
            raise ValueError(
                f"{type(self).__name__} callback received monitor={self.monitor}, but Keras "
                "isn't able to automatically determine whether that metric should be maximized "
                "or minimized. Pass `mode='max'` in order to monitor based on the highest metric "
                "value, or pass `mode='min'` in order to use the lowest value.")
        self.monitor_op = operator.lt if direction == "down" else operator.gt

    def _is_improvement(self, value, reference):
        """Whether ``value`` beats ``reference`` by more than ``min_delta`` (None: always)."""
        if reference is None:
            return True
        if self.monitor_op is operator.lt:
            return value + self.min_delta < reference
        return value - self.min_delta > reference
