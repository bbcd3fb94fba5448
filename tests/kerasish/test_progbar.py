"""Progbar and ProgbarLogger: the exact bytes Keras 3 writes (as observed on Keras 3.15).

The expected strings are written out by hand from the documented output; the clock is a fake,
so that every time shown (ETA, elapsed, per step) is known in advance.
"""
import sys
import time
import types

import pytest

from kerasish import progbar as progbar_module
from kerasish.callbacks import CallbackList
from kerasish.progbar import Progbar

B, G, W, R = "\x1b[1m", "\x1b[32m", "\x1b[37m", "\x1b[0m"
BAR = "━"


class Clock:
    def __init__(self, now=100.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(time, "time", fake)
    monkeypatch.setattr(progbar_module, "in_notebook", lambda: False)
    return fake


def bar(step, target, done):
    digits = len(str(target))
    green = f"{G}{BAR * done}{R}" if done else ""
    return f"{B}{step:>{digits}}/{target}{R} {green}{W}{BAR * (20 - done)}{R}"


def callbacks(verbose, epochs, steps):
    return CallbackList(add_history=True, add_progbar=True, verbose=verbose, epochs=epochs,
                        steps=steps)


def test_verbose1_epoch_frames_are_keras_bytes(clock, capsys):
    cbs = callbacks(verbose=1, epochs=2, steps=5)
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)                                   # the bar starts at t=100.0
    clock.now = 100.126
    cbs.on_train_batch_end(0, {"accuracy": 0.3125, "loss": 1.2034})
    clock.now = 100.189
    cbs.on_train_batch_end(1, {"accuracy": 0.359375, "loss": 1.18024})
    clock.now = 100.2                                       # 11 ms later: no frame
    cbs.on_train_batch_end(2, {"accuracy": 0.5, "loss": 1.0})
    clock.now = 100.326
    cbs.on_test_begin()                                     # validation inside fit: silent
    cbs.on_test_batch_end(0, {"accuracy": 0.1, "loss": 2.0})
    cbs.on_test_end({"accuracy": 0.1, "loss": 2.0})
    cbs.on_epoch_end(0, {"accuracy": 0.32624, "loss": 1.23321, "val_accuracy": 0.35,
                         "val_loss": 1.21129})
    out = capsys.readouterr().out

    frame1 = (f"\r{bar(1, 5, 4)} {B}0s{R} 126ms/step - accuracy: 0.3125 - loss: 1.2034")
    # The documented frame: step 2 of 5 after a frame 72 wide, padded with one space.
    frame2 = ("\b" * 72 + f"\r{B}2/5{R} {G}━━━━━━━━{R}{W}━━━━━━━━━━━━{R} {B}0s{R} 63ms/step"
              " - accuracy: 0.3594 - loss: 1.1802 ")
    final = ("\b" * 71 + f"\r{bar(5, 5, 20)} {B}0s{R} 50ms/step - accuracy: 0.3262 - "
             "loss: 1.2332 - val_accuracy: 0.3500 - val_loss: 1.2113\n")
    assert out == "Epoch 1/2\n" + frame1 + frame2 + final


def test_verbose2_prints_one_line_per_epoch(clock, capsys):
    cbs = callbacks(verbose=2, epochs=3, steps=5)
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    for step in range(5):
        clock.now += 0.24
        cbs.on_train_batch_end(step, {"loss": 9.0})
    cbs.on_epoch_end(0, {"accuracy": 0.32624, "loss": 1.23321, "val_accuracy": 0.35,
                         "val_loss": 1.21129})
    # 1.2 s over 5 steps, the first step included: 240 ms/step.
    assert capsys.readouterr().out == (
        "Epoch 1/3\n5/5 - 1s - 240ms/step - accuracy: 0.3262 - loss: 1.2332 - "
        "val_accuracy: 0.3500 - val_loss: 1.2113\n")


def test_small_and_negative_values_format_like_keras(clock, capsys):
    values = {"a": -0.5, "b": 9.9998e-07, "c": 0.0, "d": 0.25}
    for verbose in (1, 2):
        cbs = CallbackList(add_progbar=True, verbose=verbose, epochs=1, steps=1)
        cbs.on_test_begin()
        cbs.on_test_batch_end(0, values)
        cbs.on_test_end(values)
    out = capsys.readouterr().out
    assert out.endswith("1/1 - 0s - 0s/step - a: -5.0000e-01 - b: 9.9998e-07 - "
                        "c: 0.0000e+00 - d: 0.2500\n")
    assert f"{B}0s{R} 0s/step - a: -0.5000 - b: 9.9998e-07 - c: 0.0000e+00 - d: 0.2500\n" in out


def test_no_epoch_line_for_one_epoch_and_evaluate_predict_bars(clock, capsys):
    cbs = callbacks(verbose=2, epochs=1, steps=2)
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    cbs.on_epoch_end(0, {"loss": 0.5})
    assert capsys.readouterr().out == "2/2 - 0s - 0s/step - loss: 0.5000\n"

    ev = CallbackList(add_progbar=True, verbose=1, epochs=1, steps=2)
    ev.on_test_begin()
    clock.now += 0.002
    ev.on_test_batch_end(0, {"accuracy": 0.5, "loss": 1.5})
    clock.now += 0.000916
    ev.on_test_batch_end(1, {"accuracy": 0.343, "loss": 1.1181})
    ev.on_test_end({"accuracy": 0.343, "loss": 1.1181})
    out = capsys.readouterr().out
    assert out.endswith(f"\r{bar(2, 2, 20)} {B}0s{R} 916us/step - accuracy: 0.3430 - "
                        "loss: 1.1181\n")

    pr = CallbackList(add_progbar=True, verbose=2, epochs=1, steps=2)
    pr.on_predict_begin()
    clock.now += 0.004
    pr.on_predict_batch_end(0, {"outputs": [[1.0]]})
    pr.on_predict_batch_end(1, {"outputs": [[1.0]]})
    pr.on_predict_end()
    assert capsys.readouterr().out == "2/2 - 0s - 2ms/step\n"


def test_unknown_number_of_steps(clock, capsys):
    cbs = callbacks(verbose=1, epochs=1, steps=None)
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    clock.now += 0.171
    cbs.on_train_batch_end(0, {"loss": 0.5})
    for step in range(1, 5):
        clock.now += 0.1
        cbs.on_train_batch_end(step, {"loss": 0.25})
    cbs.on_epoch_end(0, {"loss": 0.25})
    out = capsys.readouterr().out
    assert out.startswith(f"\r      1/Unknown {B}0s{R} 171ms/step - loss: 0.5000")
    assert f"\r      2/Unknown {B}0s{R} 100ms/step - loss: 0.2500" in out
    assert out.endswith(f"\r{bar(5, 5, 20)} {B}1s{R} 100ms/step - loss: 0.2500\n")


def test_eta_and_per_step_formats(clock, capsys):
    for per_step, eta, shown in [(2.0, "33:18", "2s/step"), (4.0, "1:06:36", "4s/step"),
                                 (0.03, "29s", "30ms/step")]:
        clock.now = 100.0
        progbar = Progbar(1000)
        clock.now += per_step
        progbar.update(1)
        assert capsys.readouterr().out == f"\r{bar(1, 1000, 0)} {B}{eta}{R} {shown}"


def test_stateless_values_are_averaged_by_steps_unless_stateful(clock, capsys):
    progbar = Progbar(4, verbose=1, interval=0.0)
    progbar.update(1, [("loss", 1.0)])
    progbar.update(3, [("loss", 4.0)])           # (1*1 + 4*2) / 3 = 3
    assert capsys.readouterr().out.endswith("loss: 3.0000")
    progbar = Progbar(4, verbose=1, interval=0.0, stateful_metrics=["loss"])
    progbar.update(1, [("loss", 1.0)])
    progbar.update(3, [("loss", 4.0)])
    assert capsys.readouterr().out.endswith("loss: 4.0000")
    with pytest.raises(ValueError, match="Received: stateful_metrics="):
        Progbar(4, stateful_metrics=["a"], stateless_metrics=["b"])


def test_verbose0_prints_nothing_and_adds_no_progbar(clock, capsys):
    cbs = callbacks(verbose=0, epochs=2, steps=1)
    assert [type(cb).__name__ for cb in cbs.callbacks] == ["History"]
    assert capsys.readouterr().out == ""


def test_notebook_rewrites_one_line_at_a_bounded_rate(monkeypatch, capsys):
    clock = Clock()
    monkeypatch.setattr(time, "time", clock)
    shell = types.SimpleNamespace(kernel=object())
    fake_ipython = types.ModuleType("IPython")
    fake_ipython.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)

    cbs = callbacks(verbose=1, epochs=1, steps=100)
    cbs.on_train_begin()
    cbs.on_epoch_begin(0)
    for step in range(100):
        clock.now += 0.01                         # 1 s in all: about 20 frames, not 100
        cbs.on_train_batch_end(step, {"loss": 1.0})
    cbs.on_epoch_end(0, {"loss": 1.0})
    out = capsys.readouterr().out
    assert "\b" not in out and out.count("\n") == 1 and out.endswith("\n")
    assert 15 <= out.count("\r") <= 25
    assert out.split("\r")[-1].startswith(bar(100, 100, 20))


def test_notebook_detection(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert not progbar_module.in_notebook()
    fake_ipython = types.ModuleType("IPython")
    fake_ipython.get_ipython = lambda: None        # IPython imported, but no shell running
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)
    assert not progbar_module.in_notebook()
    fake_ipython.get_ipython = lambda: types.SimpleNamespace()   # a terminal IPython
    assert not progbar_module.in_notebook()
    fake_ipython.get_ipython = lambda: types.SimpleNamespace(kernel=object())
    assert progbar_module.in_notebook()


def test_callback_messages_come_before_the_final_frame_and_added_keys_last(clock, capsys):
    from kerasish.callbacks import ReduceLROnPlateau

    optimizer = types.SimpleNamespace(learning_rate=0.5)
    model = types.SimpleNamespace(optimizer=optimizer, _compiled_metric_directions={})
    cbs = CallbackList([ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, verbose=1)],
                       add_history=True, add_progbar=True, model=model, verbose=2, epochs=2,
                       steps=1)
    cbs.on_train_begin()
    for epoch in range(2):
        cbs.on_epoch_begin(epoch)
        cbs.on_epoch_end(epoch, {"loss": 1.0, "val_loss": 2.0})
    assert capsys.readouterr().out == (
        "Epoch 1/2\n1/1 - 0s - 0s/step - loss: 1.0000 - val_loss: 2.0000 - learning_rate: 0.5000\n"
        "Epoch 2/2\n\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.25.\n"
        "1/1 - 0s - 0s/step - loss: 1.0000 - val_loss: 2.0000 - learning_rate: 0.5000\n")
    assert model.history.history["learning_rate"] == [0.5, 0.5] and optimizer.learning_rate == 0.25
