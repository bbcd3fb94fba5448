"""SwapEMAWeights: evaluate and predict with the optimizer's moving average of the weights."""
from __future__ import annotations

from .callback import Callback


def _swap(optimizer):
    for variable, average in zip(optimizer._trainable_variables,
                                 optimizer._model_variables_moving_average):
        current = variable.numpy().copy()  # NOTE: numpy() may share the variable's buffer
        variable.assign(average.numpy())
        average.assign(current)


def _finalize(optimizer):
    for variable, average in zip(optimizer._trainable_variables,
                                 optimizer._model_variables_moving_average):
        average.assign(variable.numpy())


class SwapEMAWeights(Callback):
    """Swaps the model's weights with the optimizer's EMA of them around evaluation and
    prediction (and, with ``swap_on_epoch``, at each epoch's end, e.g. for checkpoints).

    The optimizer needs ``use_ema=True``. Put this callback before the ones that should see
    the EMA weights (``ModelCheckpoint``...).

    Args:
        swap_on_epoch: Also swap at the end of every epoch and back at the start of the next;
            after the last epoch the model keeps the EMA weights.

    >>> model.compile(optimizer=SGD(use_ema=True), loss="mse")
    >>> model.fit(x, y, callbacks=[SwapEMAWeights(swap_on_epoch=True)])
    """

    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _apply(self, fn):
        optimizer = self.model.optimizer
        optimizer = getattr(optimizer, "inner_optimizer", optimizer)
        inner = getattr(optimizer, "optimizers", None)
        if inner is not None:
            users = [opt for opt in inner if getattr(opt, "use_ema", False)]
            if not users:
                raise ValueError("SwapEMAWeights must be used when at least one inner optimizer "
                                 "has `use_ema=True` set. Received a MultiOptimizer with all "
                                 "inner optimizers having `use_ema=False`.")
        else:
            users = [optimizer]
        for opt in users:
            if not hasattr(opt, "_model_variables_moving_average"):
                raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on the "
                                 f"optimizer. Received: use_ema={getattr(opt, 'use_ema', None)}")
            fn(opt)

    def _to_ema(self):
        if not self._ema_weights_in_model:
            self._apply(_swap)
            self._ema_weights_in_model = True

    def _from_ema(self):
        if self._ema_weights_in_model:
            self._apply(_swap)
            self._ema_weights_in_model = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._from_ema()

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._to_ema()
            if epoch == self.params["epochs"] - 1:
                # fit ends by writing the averages into the weights: make them the EMA ones.
                self._apply(_finalize)

    def on_test_begin(self, logs=None):
        self._to_ema()

    def on_test_end(self, logs=None):
        self._from_ema()

    def on_predict_begin(self, logs=None):
        self._to_ema()

    def on_predict_end(self, logs=None):
        self._from_ema()
