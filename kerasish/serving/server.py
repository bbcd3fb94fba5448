"""``ModelServer``: a ServerCore, its REST API and uvicorn, in the foreground or in a thread."""
import logging
import socket
import threading

from .app import RestApi
from .metrics import Metrics
from .repository import ServerCore


def _uvicorn():
    try:
        import uvicorn
    except ImportError as e:  # pragma: no cover - the extra names it
        raise ImportError("The model server needs uvicorn: pip install 'kerasish[serving]'") \
            from e
    return uvicorn


class ModelServer:
    """Serves model repositories over HTTP.

    Args:
        models: list of ``{"name", "base_path", "policy", "labels"}`` (``policy`` as
            ``("latest", n)``, ``("all", None)`` or ``("specific", (1, 2))``).
        host, port: where to listen (port 0: any free port; see ``port`` after ``start``).
        poll_seconds: ``--file_system_poll_wait_seconds`` (0: look once, at start).
        batching: ``None`` (off) or the batcher's keyword arguments.

    >>> server = ModelServer([{"name": "mlp", "base_path": "models/mlp"}], port=0)
    >>> server.start()            # in a thread; server.url is "http://127.0.0.1:<port>"
    >>> server.stop()
    """

    def __init__(self, models, host="127.0.0.1", port=8501, poll_seconds=1.0, batching=None,
                 workers=None):
        self.metrics = Metrics()
        self.core = ServerCore(models, poll_seconds=poll_seconds, batching=batching,
                               metrics=self.metrics)
        self.api = RestApi(self.core, self.metrics, workers=workers)
        self.host, self.port = host, port
        self._server = self._thread = None

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def _bind(self):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # NOTE: proto must say TCP: asyncio turns Nagle off (TCP_NODELAY) only on sockets whose
        # proto is IPPROTO_TCP; with proto 0 every answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(2048)  # connections wait in the backlog until uvicorn accepts them
        self.port = sock.getsockname()[1]
        return sock

    def _make(self):
        uvicorn = _uvicorn()
        config = uvicorn.Config(self.api.app, log_level="warning", access_log=False,
                                lifespan="off", timeout_keep_alive=30)
        self._server = uvicorn.Server(config)

    def start(self, timeout=30.0):
        """Loads the models (as TF Serving does before it listens), then serves in a thread."""
        self.core.start()
        sock = self._bind()
        self._make()
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="kerasish-serving-http", daemon=True)
        self._thread.start()
        ready = threading.Event()

        def check():
            while not self._server.started and self._thread.is_alive():
                ready.wait(0.01)
        check()
        if not self._server.started:
            raise RuntimeError(f"The HTTP server did not start on {self.url}")
        return self

    def run(self):
        """Loads the models, then serves in the foreground until interrupted (Ctrl-C)."""
        self.core.start()
        sock = self._bind()
        self._make()
        logging.getLogger("kerasish.serving").info(
            "Serving %s on %s", ", ".join(self.core.models), self.url)
        try:
            self._server.run(sockets=[sock])
        finally:
            self.close()

    def stop(self):
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join()
        self.close()

    def close(self):
        self.core.stop()
        self.api.close()
