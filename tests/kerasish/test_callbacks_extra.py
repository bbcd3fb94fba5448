"""RemoteMonitor against a local HTTP server on 127.0.0.1; SwapEMAWeights with an EMA optimizer,
numbers worked out by hand (and equal to Keras 3.15's for the same run)."""
import http.server
import json
import socket
import threading
import urllib.parse

import numpy as np
import pytest

import kerasish as keras
from kerasish import callbacks, layers


class _Recorder(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Recorder.received.append((self.path, dict(self.headers), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Recorder.received = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


X = np.array([[1.0]], "float32")
Y = np.array([[0.0]], "float32")


def one_weight_model(**optimizer_kwargs):
    """y = w * x with w = 1: for x = 1, y = 0 the mse is w**2 and its gradient 2 w."""
    inputs = keras.Input((1,))
    model = keras.Model(inputs, layers.Dense(1, use_bias=False, kernel_initializer="ones")(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.25, **optimizer_kwargs), loss="mse")
    return model


def kernel(model):
    return float(model.layers[1].kernel.numpy().ravel()[0])


def test_remote_monitor_posts_a_form_per_epoch(server):
    model = one_weight_model()
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[callbacks.RemoteMonitor(root=server)])
    assert [path for path, _, _ in _Recorder.received] == ["/publish/epoch/end/"] * 2
    _, headers, body = _Recorder.received[1]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = urllib.parse.parse_qs(body.decode())
    # Epoch 2 starts from w = 1 - 0.25 * 2 = 0.5: loss 0.25.
    assert json.loads(form["data"][0]) == {"epoch": 1, "loss": 0.25}


def test_remote_monitor_sends_json_with_headers(server):
    monitor = callbacks.RemoteMonitor(root=server, path="/events", field="ignored",
                                      headers={"X-Run": "7"}, send_as_json=True)
    monitor.set_model(one_weight_model())
    monitor.on_epoch_end(3, {"loss": np.float32(0.5), "acc": np.array(1.0)})
    path, headers, body = _Recorder.received[0]
    assert path == "/events" and headers["X-Run"] == "7"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"epoch": 3, "loss": 0.5, "acc": 1.0}


def test_remote_monitor_warns_when_the_server_is_unreachable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    monitor = callbacks.RemoteMonitor(root=f"http://127.0.0.1:{port}")
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server"):
        monitor.on_epoch_end(0, {"loss": 1.0})


# SGD(0.25) on w: 1 -> 0.5 -> 0.25 -> 0.125. The EMA (momentum 0.5, the first step copies):
# 0.5 -> 0.375 -> 0.25.

def test_ema_weights_are_evaluated_and_written_at_the_end_of_fit():
    model = one_weight_model(use_ema=True, ema_momentum=0.5)
    history = model.fit(X, Y, epochs=3, verbose=0, validation_data=(X, Y),
                        callbacks=[callbacks.SwapEMAWeights()])
    # Training sees the raw weights (1, 0.5, 0.25), validation the averages (0.5, 0.375, 0.25).
    assert history.history == {"loss": [1.0, 0.25, 0.0625], "val_loss": [0.25, 0.140625, 0.0625]}
    assert kernel(model) == 0.25  # fit ends with the weights set to their average


def test_swap_for_evaluate_and_predict_then_back():
    model = one_weight_model(use_ema=True, ema_momentum=0.5)
    model.fit(X, Y, epochs=2, verbose=0)
    assert kernel(model) == 0.375  # the EMA written at the end of fit
    model.fit(X, Y, epochs=1, verbose=0)  # raw w: 0.375 - 0.1875 = 0.1875; EMA stays built
    raw = kernel(model)
    average = float(model.optimizer._model_variables_moving_average[0].numpy().ravel()[0])
    model.layers[1].kernel.assign(np.array([[raw]], "float32"))
    swap = callbacks.SwapEMAWeights()
    assert model.evaluate(X, Y, verbose=0, callbacks=[swap]) == pytest.approx(average ** 2)
    assert kernel(model) == raw
    np.testing.assert_allclose(model.predict(X, verbose=0, callbacks=[swap]), [[average]])
    assert kernel(model) == raw


def test_swap_on_epoch_keeps_the_ema_weights_after_fit():
    model = one_weight_model(use_ema=True, ema_momentum=0.5)
    seen = []
    record = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(kernel(model)))
    history = model.fit(X, Y, epochs=3, verbose=0,
                        callbacks=[callbacks.SwapEMAWeights(swap_on_epoch=True), record])
    assert history.history["loss"] == [1.0, 0.25, 0.0625]  # each epoch trains the raw weights
    assert seen == [0.5, 0.375, 0.25]  # later callbacks see the averages
    assert kernel(model) == 0.25


def test_swap_needs_an_ema_optimizer():
    model = one_weight_model()
    with pytest.raises(ValueError, match="`use_ema=True` is set on the optimizer"):
        model.fit(X, Y, epochs=1, verbose=0, validation_data=(X, Y),
                  callbacks=[callbacks.SwapEMAWeights()])
