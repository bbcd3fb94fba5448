"""Callbacks and progress through a real fit (the callbacks' own tests use a stand-in model)."""
import os
import re

import numpy as np
import pytest

import kerasish as keras
from kerasish import layers
from tests.kerasish.test_trainer import blobs, mlp

LOGITS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
V = r"(\d\.\d{4}|\d\.\d{4}e[+-]\d\d)"  # Keras prints values <= 1e-3 as 1.0000e-04


def compiled(lr=0.01, metrics=("accuracy",)):
    keras.utils.set_random_seed(0)
    model = mlp()
    model.compile(keras.optimizers.SGD(lr), LOGITS, metrics=list(metrics))
    return model


def test_verbose_2_prints_one_keras_line_per_epoch(capsys):
    x, y = blobs(64)
    compiled().fit(x, y, batch_size=16, epochs=2, validation_split=0.25, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert re.fullmatch(rf"3/3 - \d+s - \d+(ms|us|s)/step - accuracy: {V} - loss: {V}"
                        rf" - val_accuracy: {V} - val_loss: {V}", lines[1]), lines[1]


def test_verbose_1_draws_one_bar_that_ends_with_the_epoch_logs(capsys):
    x, y = blobs(64)
    compiled().fit(x, y, batch_size=16, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "Epoch" not in out  # a single epoch prints no Epoch line
    final = re.sub(r"\x1b\[[0-9;]*m", "", out.split("\r")[-1])
    assert re.fullmatch(rf"4/4 ━{{20}} \d+s \d+(ms|us|s)/step - accuracy: {V} - "
                        rf"loss: {V} *\n", final), repr(final)  # spaces pad a shorter frame


def test_evaluate_and_predict_bars(capsys):
    x, y = blobs(40)
    model = compiled()
    model.evaluate(x, y, verbose=2)
    model.predict(x, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert re.fullmatch(rf"2/2 - \d+s - \d+(ms|us|s)/step - accuracy: {V} - loss: {V}",
                        lines[0])
    assert re.fullmatch(r"2/2 - \d+s - \d+(ms|us|s)/step", lines[1])


def test_early_stopping_restores_the_best_weights():
    x, y = blobs(64)
    model = compiled(lr=0.5)
    snapshots = []

    class Snap(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append((logs["loss"], model.get_weights()))

    stopper = keras.callbacks.EarlyStopping(monitor="loss", patience=1,
                                            restore_best_weights=True)
    model.fit(x, y, epochs=6, batch_size=64, verbose=0, callbacks=[Snap(), stopper])
    best_loss, best_weights = min(snapshots, key=lambda s: s[0])
    for a, b in zip(model.get_weights(), best_weights):
        np.testing.assert_array_equal(a, b)
    assert stopper.best == best_loss


def test_model_checkpoint_writes_the_best_weights_only(tmp_path):
    x, y = blobs(64)
    model = compiled()
    path = str(tmp_path / "best-{epoch:02d}.weights.h5")
    checkpoint = keras.callbacks.ModelCheckpoint(path, monitor="loss", save_best_only=True,
                                                 save_weights_only=True)
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[checkpoint])
    losses = history.history["loss"]
    improved = [i + 1 for i, v in enumerate(losses) if v == min(losses[:i + 1])]
    assert sorted(os.listdir(tmp_path)) == [f"best-{e:02d}.weights.h5" for e in improved]
    fresh = compiled()
    fresh.load_weights(str(tmp_path / f"best-{improved[-1]:02d}.weights.h5"))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow warnings
def test_terminate_on_nan_stops_and_the_epoch_still_ends(capsys):
    x, y = blobs(64)
    model = compiled(lr=1e30, metrics=())
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0,
                        callbacks=[keras.callbacks.TerminateOnNaN()])
    assert len(history.history["loss"]) == 1
    assert not np.isfinite(history.history["loss"][0])
    assert re.search(r"Batch \d: Invalid loss, terminating training", capsys.readouterr().out)


def test_learning_rate_scheduler_reaches_the_optimizer():
    x, y = blobs(32)
    model = compiled()
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[
        keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    assert model.optimizer.learning_rate == pytest.approx(0.1 / 3)


def test_validation_data_and_freq():
    x, y = blobs(64)
    history = compiled().fit(x[:48], y[:48], epochs=4, verbose=0, validation_freq=2,
                             validation_data=(x[48:], y[48:]))
    assert len(history.history["val_loss"]) == 2 and len(history.history["loss"]) == 4


def test_summary_counts_the_optimizer_after_fit():
    x, y = blobs(16)
    model = keras.Sequential([keras.Input((2,)), layers.Dense(3)])
    model.compile("adam", LOGITS)
    model.fit(x, y, verbose=0)
    lines = []
    model.summary(print_fn=lines.append)
    assert " Optimizer params: 20 (" in lines[0]  # 2 * 9 slots + iteration + learning_rate
