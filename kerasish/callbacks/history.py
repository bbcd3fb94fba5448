"""History: records the epoch logs of ``fit``; ``fit`` returns it."""
from __future__ import annotations

from .callback import Callback


class History(Callback):
    """Records every epoch's logs in ``history`` (key -> list) and the epoch indices in ``epoch``.

    ``fit`` adds one automatically and returns it; it is also ``model.history``.

    >>> history = History()
    >>> history.on_train_begin()
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        # NOTE: set at every epoch end so model.history is the live record even mid-fit.
        if self.model is not None:
            self.model.history = self
