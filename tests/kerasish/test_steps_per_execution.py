"""compile(steps_per_execution=N): callbacks and the progress bar see one batch per execution
(begin = its first step, end = its last), the logs are read once per execution, and training
computes exactly what N single steps compute."""
import numpy as np
import pytest

import kerasish as keras
from kerasish import layers


def data(n=40):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 3)).astype("float32")
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], "float32"))


def model(steps_per_execution=1):
    m = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    m.compile(keras.optimizers.SGD(0.1), "mse", metrics=["mae"],
              steps_per_execution=steps_per_execution)
    return m


class Record(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_train_batch_begin(self, batch, logs=None):
        self.events.append(("begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("end", batch, sorted(logs)))

    def on_test_batch_end(self, batch, logs=None):
        self.events.append(("test_end", batch))

    def on_predict_batch_end(self, batch, logs=None):
        self.events.append(("predict_end", batch, len(logs["outputs"])))


def test_callbacks_see_one_batch_per_execution():
    x, y = data()  # 5 batches of 8: executions of 2 are [0, 1], [2, 3], [4]
    m, rec = model(2), Record()
    m.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[rec])
    assert rec.events == [("begin", 0), ("end", 1, ["loss", "mae"]), ("begin", 2),
                          ("end", 3, ["loss", "mae"]), ("begin", 4), ("end", 4, ["loss", "mae"])]
    rec.events.clear()
    m.evaluate(x, y, batch_size=8, verbose=0, callbacks=[rec])
    assert rec.events == [("test_end", 1), ("test_end", 3), ("test_end", 4)]
    rec.events.clear()
    m.predict(x, batch_size=8, verbose=0, callbacks=[rec])
    assert rec.events == [("predict_end", 1, 16), ("predict_end", 3, 16), ("predict_end", 4, 8)]


def test_training_equals_single_steps():
    x, y = data()
    a, b = model(1), model(3)
    b.set_weights(a.get_weights())
    ha = a.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history
    hb = b.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0).history
    assert ha == hb
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a.evaluate(x, y, batch_size=8, verbose=0) == b.evaluate(x, y, batch_size=8, verbose=0)


def test_logs_are_read_once_per_execution(monkeypatch):
    x, y = data()
    m = model(4)
    reads = []
    original = keras.Model.get_metrics_result

    def counting(self):
        reads.append(1)
        return original(self)

    monkeypatch.setattr(keras.Model, "get_metrics_result", counting)
    batch_logs = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: None)
    m.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[batch_logs])
    assert len(reads) == 2  # 5 steps: executions of 4 and 1
    reads.clear()
    m.fit(x, y, batch_size=8, epochs=1, verbose=0)  # no callback reads batch logs
    assert len(reads) == 1  # the epoch's, at its end


def test_steps_per_epoch_cuts_an_execution_short():
    x, y = data()
    m, rec = model(2), Record()
    m.fit(x, y, batch_size=8, epochs=1, steps_per_epoch=3, verbose=0, callbacks=[rec])
    assert [e[:2] for e in rec.events] == [("begin", 0), ("end", 1), ("begin", 2), ("end", 2)]


def test_progress_bar_counts_steps(capsys):
    x, y = data()
    model(2).fit(x, y, batch_size=8, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "5/5" in out


def test_an_endless_generator_stops_at_steps_per_epoch():
    x, y = data()

    def endless():
        while True:
            yield x[:8], y[:8]

    m, rec = model(2), Record()
    m.fit(endless(), epochs=2, steps_per_epoch=3, verbose=0, callbacks=[rec])
    assert [e[:2] for e in rec.events] == [("begin", 0), ("end", 1), ("begin", 2), ("end", 2)] * 2


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_bad_steps_per_execution_is_refused(bad):
    with pytest.raises(ValueError, match="steps_per_execution"):
        model(bad)
