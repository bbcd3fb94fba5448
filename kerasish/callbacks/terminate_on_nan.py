"""TerminateOnNaN: stop training when a batch loss is NaN or infinite."""
from __future__ import annotations

import math

from ..progbar import print_msg
from .callback import Callback


class TerminateOnNaN(Callback):
    """Stops training (``model.stop_training = True``) on a NaN or inf training batch loss.

    The epoch still ends normally. With ``raise_error=True`` it raises a RuntimeError instead,
    so that no later hook (``on_train_end``...) runs.

    Args:
        raise_error: Raise a RuntimeError instead of stopping gracefully.

    >>> callback = TerminateOnNaN()
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. "
                               f"Loss value: {loss}. Terminating training immediately.")
        print_msg(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
