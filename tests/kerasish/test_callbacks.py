"""Callbacks against Keras 3's documented behaviour (as observed on Keras 3.15).

A small fake model stands in for the trainer: it has exactly the interface callbacks use.
Expected decisions (which epoch stops, which file is saved, which rate is set) are worked out
by hand from the rules in the comments.
"""
import numpy as np
import pytest

from kerasish.callbacks import (Callback, CallbackList, CSVLogger, EarlyStopping, History,
                                LambdaCallback, LearningRateScheduler, ModelCheckpoint,
                                ProgbarLogger, ReduceLROnPlateau, TerminateOnNaN)


class FakeOptimizer:
    def __init__(self, learning_rate):
        self._lr = np.float32(learning_rate)

    @property
    def learning_rate(self):
        return float(self._lr)

    @learning_rate.setter
    def learning_rate(self, value):
        self._lr = np.float32(value)   # kept as float32, as the real optimizer does


class FakeModel:
    def __init__(self, learning_rate=0.5, directions=None):
        self.stop_training = False
        self.weights = [np.zeros(2, "float32")]
        self.optimizer = FakeOptimizer(learning_rate)
        self._compiled_metric_directions = directions or {}
        self.saved = []

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [np.array(w) for w in weights]

    def save_weights(self, path):
        self.saved.append(("weights", path))

    def save(self, path):
        self.saved.append(("model", path))


def run_epochs(callback, values, model=None, key="loss", on_epoch=None):
    """Drives fit's hooks for one epoch per value; the model's weight is the epoch index."""
    model = model or FakeModel()
    cbs = CallbackList([callback], add_history=True, model=model, verbose=0,
                       epochs=len(values), steps=1)
    cbs.on_train_begin()
    logs = {}
    for epoch, value in enumerate(values):
        cbs.on_epoch_begin(epoch)
        model.weights = [np.full(2, epoch, "float32")]
        logs = {key: value} if key else {}
        if on_epoch:
            logs.update(on_epoch(epoch))
        logs = dict(sorted(logs.items()))        # the trainer sorts the keys
        cbs.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    return model


# -- CallbackList and History ----------------------------------------------------------------
class Recorder(Callback):
    """Records each hook called on it as (hook name, epoch or batch index if any)."""

    def __init__(self, events):
        super().__init__()
        self.events = events

    def __getattribute__(self, name):
        if not name.startswith("on_"):
            return object.__getattribute__(self, name)

        def hook(*args, **kwargs):
            self.events.append((name,) + tuple(a for a in args if not isinstance(a, dict)))
        return hook


def test_order_is_user_then_history_then_progbar():
    user, model = Callback(), FakeModel()
    cbs = CallbackList([user], add_history=True, add_progbar=True, model=model, verbose=1,
                       epochs=2, steps=3)
    assert [type(cb) for cb in cbs.callbacks] == [Callback, History, ProgbarLogger]
    assert model.history is cbs.callbacks[1] and user.model is model
    assert user.params == {"verbose": 1, "epochs": 2, "steps": 3}
    quiet = CallbackList([user], add_history=True, add_progbar=True, verbose=0, epochs=1,
                         steps=1)
    assert [type(cb) for cb in quiet.callbacks] == [Callback, History]
    history = History()
    given = CallbackList([history], add_history=True, model=model, verbose=0)
    assert given.callbacks == [history] and model.history is history


def test_hooks_reach_callbacks_in_fit_order():
    events = []
    cbs = CallbackList([Recorder(events)], verbose=0, epochs=1, steps=2)
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    for batch in range(2):
        cbs.on_train_batch_begin(batch)
        cbs.on_train_batch_end(batch, {"loss": 1.0})
    cbs.on_test_begin()
    cbs.on_test_batch_begin(0)
    cbs.on_test_batch_end(0, {"loss": 1.0})
    cbs.on_test_end({"loss": 1.0})
    cbs.on_epoch_end(0, {"loss": 1.0, "val_loss": 1.0})
    cbs.on_train_end({"loss": 1.0})
    cbs.on_predict_begin()
    cbs.on_predict_batch_begin(0)
    cbs.on_predict_batch_end(0, {"outputs": None})
    cbs.on_predict_end()
    assert events == [
        ("on_train_begin",), ("on_epoch_begin", 0),
        ("on_train_batch_begin", 0), ("on_train_batch_end", 0),
        ("on_train_batch_begin", 1), ("on_train_batch_end", 1),
        ("on_test_begin",), ("on_test_batch_begin", 0), ("on_test_batch_end", 0),
        ("on_test_end",), ("on_epoch_end", 0), ("on_train_end",),
        ("on_predict_begin",), ("on_predict_batch_begin", 0), ("on_predict_batch_end", 0),
        ("on_predict_end",)]


def test_logs_dict_is_shared_and_batch_hooks_take_logs_by_keyword():
    seen = []
    adder = LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(extra=1.0))
    reader = LambdaCallback(on_epoch_end=lambda epoch, log: seen.append(dict(log)))
    logs = {"loss": 0.5}
    CallbackList([adder, reader]).on_epoch_end(0, logs)
    assert seen == [{"loss": 0.5, "extra": 1.0}] and logs == seen[0]
    positional = LambdaCallback(on_train_batch_end=lambda batch, log: None)
    with pytest.raises(TypeError, match="unexpected keyword argument 'logs'"):
        CallbackList([positional]).on_train_batch_end(0, {"loss": 1.0})


def test_batch_aliases_and_lambda_callback_kwargs():
    calls = []
    cb = LambdaCallback(on_train_batch_end=lambda batch, logs: calls.append(("end", batch)),
                        on_test_begin=lambda logs: calls.append("test_begin"))
    alias = LambdaCallback(on_batch_begin=lambda batch, logs: calls.append(("alias", batch)))
    cbs = CallbackList([cb, alias])
    cbs.on_train_batch_begin(3)
    cbs.on_train_batch_end(3, {})
    cbs.on_test_begin()
    cbs.on_test_batch_begin(0)   # the alias covers training batches only
    assert calls == [("alias", 3), ("end", 3), "test_begin"]


def test_history_records_epochs_and_keys_in_logs_order():
    model = FakeModel()
    cbs = CallbackList(add_history=True, model=model, verbose=0, epochs=2, steps=3)
    cbs.on_train_begin()
    for epoch in range(2):
        cbs.on_epoch_end(epoch, {"accuracy": 0.5 + epoch, "loss": 1.0 - epoch / 4,
                                 "val_accuracy": 0.25, "val_loss": 2.0})
    history = model.history
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.history["accuracy"] == [0.5, 1.5] and history.history["loss"] == [1.0, 0.75]
    assert history.epoch == [0, 1] and history.params == {"verbose": 0, "epochs": 2, "steps": 3}


# -- EarlyStopping ---------------------------------------------------------------------------
def test_early_stopping_patience(capsys):
    # best 1.0, then 0.9 (improves), then 3 epochs without: wait reaches patience=2 at epoch 3.
    stop = EarlyStopping(monitor="loss", patience=2, verbose=1)
    model = run_epochs(stop, [1.0, 0.9, 0.95, 0.96, 0.97])
    assert model.stop_training and stop.stopped_epoch == 3 and stop.best_epoch == 1
    assert stop.best == 0.9 and stop.wait == 2 and model.history.epoch == [0, 1, 2, 3]
    assert capsys.readouterr().out == "Epoch 4: early stopping\n"


def test_early_stopping_min_delta_and_first_epoch_counts():
    # 0.95 beats 1.0 by 0.05 only (< min_delta 0.1): no improvement; patience 0 stops at once.
    stop = EarlyStopping(monitor="loss", min_delta=0.1)
    assert run_epochs(stop, [1.0, 0.95, 0.5]).stop_training and stop.stopped_epoch == 1
    # Epoch 0 always counts, and patience=0 never stops at epoch 0.
    stop = EarlyStopping(monitor="loss")
    run_epochs(stop, [5.0])
    assert stop.best == 5.0 and stop.stopped_epoch == 0


def test_early_stopping_baseline_keeps_going_while_improving():
    # Every epoch improves on its best but never reaches the baseline 0.5: the wait grows
    # (1, 2, 3) without stopping; epoch 3 does not improve and 4 >= patience stops it.
    stop = EarlyStopping(monitor="loss", patience=2, baseline=0.5)
    model = run_epochs(stop, [1.0, 0.9, 0.8, 0.8, 0.7])
    assert model.stop_training and stop.stopped_epoch == 3 and stop.wait == 4


def test_early_stopping_start_from_epoch():
    stop = EarlyStopping(monitor="loss", start_from_epoch=2)
    model = run_epochs(stop, [5.0, 6.0, 1.0, 1.1])   # epochs 0 and 1 are ignored
    assert stop.stopped_epoch == 3 and stop.best == 1.0 and stop.best_epoch == 2
    assert model.stop_training


def test_restore_best_weights_even_without_early_stop(capsys):
    stop = EarlyStopping(monitor="loss", patience=5, restore_best_weights=True, verbose=1)
    model = run_epochs(stop, [1.0, 0.5, 0.7])        # weights hold the epoch index
    assert not model.stop_training and stop.best_epoch == 1
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])
    assert capsys.readouterr().out == "Restoring model weights from the end of the best epoch: 2.\n"
    stop = EarlyStopping(monitor="loss", patience=1, restore_best_weights=True, verbose=1)
    model = run_epochs(stop, [1.0, 0.5, 0.7, 0.8, 0.9])      # stops at epoch 2
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])
    assert capsys.readouterr().out == (
        "Epoch 3: early stopping\nRestoring model weights from the end of the best epoch: 2.\n")


def test_early_stopping_missing_monitor_warns_and_goes_on():
    stop = EarlyStopping()
    with pytest.warns(UserWarning, match="^Early stopping conditioned on metric `val_loss` which "
                      "is not available. Available metrics are: accuracy,loss$"):
        model = run_epochs(stop, [1.0, 2.0], on_epoch=lambda e: {"accuracy": 0.5})
    assert not model.stop_training


def test_early_stopping_modes():
    with pytest.raises(ValueError) as info:
        run_epochs(EarlyStopping(monitor="val_acc"), [0.5], key="val_acc")
    assert str(info.value) == (
        "EarlyStopping callback received monitor=val_acc, but Keras isn't able to "
        "automatically determine whether that metric should be maximized or minimized. Pass "
        "`mode='max'` in order to monitor based on the highest metric value, or pass "
        "`mode='min'` in order to use the lowest value.")
    # A compiled metric's own direction: accuracy goes up, so 0.6 -> 0.5 is no improvement.
    model = FakeModel(directions={"accuracy": "up"})
    stop = EarlyStopping(monitor="val_accuracy")
    run_epochs(stop, [0.6, 0.5], model=model, key="val_accuracy")
    assert model.stop_training and stop.best == 0.6
    stop = EarlyStopping(monitor="val_custom", mode="max")
    assert not run_epochs(stop, [0.1, 0.2, 0.3], key="val_custom").stop_training
    stop = EarlyStopping(monitor="val_cls_loss")       # names ending in "loss" minimize
    assert run_epochs(stop, [0.1, 0.2], key="val_cls_loss").stop_training
    with pytest.warns(UserWarning, match="^EarlyStopping mode 'bogus' is unknown, fallback to "
                      "auto mode.$"):
        assert EarlyStopping(mode="bogus").mode == "auto"


# -- ModelCheckpoint -------------------------------------------------------------------------
def test_checkpoint_extension_errors():
    with pytest.raises(ValueError) as info:
        ModelCheckpoint("ck/a.ckpt")
    assert str(info.value) == ("The filepath provided must end in `.keras` (Keras model "
                               "format). Received: filepath=ck/a.ckpt")
    with pytest.raises(ValueError) as info:
        ModelCheckpoint("ck/a.h5", save_weights_only=True)
    assert str(info.value) == (
        "When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must "
        "end in `.weights.h5` (Keras weights format). Received: filepath=ck/a.h5")
    ModelCheckpoint("ck/a.h5")
    ModelCheckpoint("ck/a.weights.h5")                 # a model file ending in .h5 too
    with pytest.raises(ValueError, match="Unrecognized save_freq: 2.5"):
        ModelCheckpoint("a.keras", save_freq=2.5)


def test_checkpoint_best_only_messages_and_saves(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ck = ModelCheckpoint("ck/m-{epoch:02d}-{val_loss:.2f}.keras", save_best_only=True,
                         verbose=1)
    model = run_epochs(ck, [1.13125, 1.2, 1.0], key="val_loss")
    assert model.saved == [("model", "ck/m-01-1.13.keras"), ("model", "ck/m-03-1.00.keras")]
    assert capsys.readouterr().out == (
        "\nEpoch 1: val_loss improved from None to 1.13125, saving model to ck/m-01-1.13.keras\n"
        "\nEpoch 1: finished saving model to ck/m-01-1.13.keras\n"
        "\nEpoch 2: val_loss did not improve from 1.13125\n"
        "\nEpoch 3: val_loss improved from 1.13125 to 1.00000, saving model to "
        "ck/m-03-1.00.keras\n"
        "\nEpoch 3: finished saving model to ck/m-03-1.00.keras\n")
    assert (tmp_path / "ck").is_dir() and not any((tmp_path / "ck").iterdir())


def test_checkpoint_threshold_missing_monitor_and_weights(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ck = ModelCheckpoint("m.keras", save_best_only=True, initial_value_threshold=0.99,
                         verbose=1)
    assert run_epochs(ck, [1.13], key="val_loss").saved == []
    assert capsys.readouterr().out == "\nEpoch 1: val_loss did not improve from 0.99000\n"

    ck = ModelCheckpoint("m.keras", save_best_only=True, verbose=1)
    with pytest.warns(UserWarning, match="^Can save best model only with val_loss available.$"):
        model = run_epochs(ck, [1.0], key="loss")
    assert model.saved == [("model", "m.keras")]
    assert capsys.readouterr().out == "\nEpoch 1: finished saving model to m.keras\n"

    ck = ModelCheckpoint("ck/w-{epoch}.weights.h5", save_weights_only=True, verbose=1)
    assert run_epochs(ck, [3.0]).saved == [("weights", "ck/w-1.weights.h5")]
    assert capsys.readouterr().out == ("\nEpoch 1: saving model to ck/w-1.weights.h5\n"
                                       "\nEpoch 1: finished saving model to ck/w-1.weights.h5\n")


def test_checkpoint_every_n_batches(tmp_path, monkeypatch):
    # save_freq=2 with 3 batches per epoch: the count crosses 2 at batches (1-based)
    # e1b2, e2b1 (1 left from epoch 1 + 1) and e2b3.
    monkeypatch.chdir(tmp_path)
    model = FakeModel()
    cbs = CallbackList([ModelCheckpoint("b-{epoch}-{batch}.weights.h5", save_freq=2,
                                        save_weights_only=True)], model=model)
    for epoch in range(2):
        cbs.on_epoch_begin(epoch)
        for batch in range(3):
            cbs.on_train_batch_end(batch, {"loss": 1.0})
        cbs.on_epoch_end(epoch, {"loss": 1.0})
    assert [path for _, path in model.saved] == [
        "b-1-2.weights.h5", "b-2-1.weights.h5", "b-2-3.weights.h5"]


def test_checkpoint_format_error_and_auto_mode():
    ck = ModelCheckpoint("ck/k-{epoch:02d}-{val_loss:.2f}.keras")
    with pytest.raises(KeyError) as info:
        run_epochs(ck, [1.0], key="loss")
    assert str(info.value) == ("'Failed to format this callback filepath: "
                               "\"ck/k-{epoch:02d}-{val_loss:.2f}.keras\". Reason: \\'val_loss\\''")
    with pytest.raises(ValueError, match="^ModelCheckpoint callback received monitor=val_acc, "):
        run_epochs(ModelCheckpoint("m.keras", monitor="val_acc"), [1.0], key="val_acc")


# -- ReduceLROnPlateau, LearningRateScheduler ------------------------------------------------
def test_reduce_lr_factor_messages_and_logged_rate(capsys):
    # loss never improves: patience 1 reduces at epochs 1 and 2 (0.5 -> 0.25 -> 0.125).
    reduce = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, verbose=1)
    model = run_epochs(reduce, [1.0, 1.0, 1.0])
    assert model.history.history["learning_rate"] == [0.5, 0.5, 0.25]
    assert model.optimizer.learning_rate == 0.125
    assert capsys.readouterr().out == (
        "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.25.\n"
        "\nEpoch 3: ReduceLROnPlateau reducing learning rate to 0.125.\n")
    assert list(model.history.history) == ["loss", "learning_rate"]


def test_reduce_lr_cooldown_and_min_lr(capsys):
    # cooldown 2, patience 1: reduce at epoch 1; epochs 2 (cooldown 2 -> 1) and 3 (-> 0) reset
    # the wait, epoch 3 then counts again and reduces; epoch 4 is in cooldown again.
    reduce = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, cooldown=2)
    model = run_epochs(reduce, [1.0] * 5)
    assert model.history.history["learning_rate"] == [0.5, 0.5, 0.25, 0.25, 0.125]
    # Clamped at min_lr=0.3; the float32 rate 0.3 is not above min_lr, so no more reductions.
    reduce = ReduceLROnPlateau(monitor="loss", factor=0.1, patience=0, min_lr=0.3, verbose=1)
    model = run_epochs(reduce, [1.0, 1.0, 1.0, 1.0])
    assert model.history.history["learning_rate"] == [0.5, 0.5, 0.30000001192092896,
                                                      0.30000001192092896]
    assert capsys.readouterr().out == (
        "\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.3.\n")


def test_reduce_lr_missing_monitor_and_bad_factor():
    with pytest.warns(UserWarning, match="^Learning rate reduction is conditioned on metric "
                      "`val_loss` which is not available. Available metrics are: "
                      "accuracy,loss,learning_rate.$"):
        run_epochs(ReduceLROnPlateau(), [1.0], on_epoch=lambda e: {"accuracy": 0.5})
    with pytest.raises(ValueError, match=r"does not support a factor >= 1.0. Received factor=1"):
        ReduceLROnPlateau(factor=1)


def test_learning_rate_scheduler(capsys):
    model = run_epochs(LearningRateScheduler(lambda epoch, lr: lr * 0.5, verbose=1), [1.0, 1.0])
    assert model.history.history["learning_rate"] == [0.25, 0.125]
    assert capsys.readouterr().out == (
        "\nEpoch 1: LearningRateScheduler setting learning rate to 0.25.\n"
        "\nEpoch 2: LearningRateScheduler setting learning rate to 0.125.\n")
    model = run_epochs(LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1)), [1.0, 1.0])
    assert model.optimizer.learning_rate == float(np.float32(0.05))
    with pytest.raises(ValueError, match="^The output of the `schedule` function should be a "
                       "float. Got: 1$"):
        run_epochs(LearningRateScheduler(lambda epoch, lr: 1), [1.0])


# -- CSVLogger, TerminateOnNaN ---------------------------------------------------------------
def test_csv_logger_file_contents(tmp_path):
    path = tmp_path / "log.csv"
    run_epochs(CSVLogger(path), [0.30000001192092896, 0.25],
               on_epoch=lambda e: {"accuracy": 0.5})
    assert path.read_bytes() == (b"epoch,accuracy,loss,val_accuracy,val_loss\r\n"
                                 b"0,0.5,0.30000001192092896,NA,NA\r\n"
                                 b"1,0.5,0.25,NA,NA\r\n")
    # append=True: no second header; the rows follow this run's columns (val_ keys present,
    # so none are added; a later epoch without validation gets NA).
    run_epochs(CSVLogger(path, separator=";", append=True), [0.125, 0.5],
               on_epoch=lambda e: {"val_loss": 2.0} if e == 0 else {})
    assert path.read_bytes().decode().split("\r\n")[3:] == ["0;0.125;2.0", "1;0.5;NA", ""]


def test_terminate_on_nan(capsys):
    model = FakeModel()
    cbs = CallbackList([TerminateOnNaN()], model=model)
    cbs.on_test_batch_end(0, {"loss": float("nan")})     # only training batches are checked
    cbs.on_train_batch_end(0, {"loss": 1.0})
    assert not model.stop_training and capsys.readouterr().out == ""
    cbs.on_train_batch_end(2, {"loss": float("inf")})
    assert model.stop_training
    assert capsys.readouterr().out == "Batch 2: Invalid loss, terminating training\n"
    cbs = CallbackList([TerminateOnNaN(raise_error=True)], model=FakeModel())
    with pytest.raises(RuntimeError) as info:
        cbs.on_train_batch_end(0, {"loss": float("inf")})
    assert str(info.value) == ("NaN or Inf loss encountered at batch 0. Loss value: inf. "
                               "Terminating training immediately.")
