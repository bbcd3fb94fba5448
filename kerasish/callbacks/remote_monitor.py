"""RemoteMonitor: POST each epoch's logs to a server (Keras's, over the standard library's
``urllib`` instead of ``requests``)."""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from .callback import Callback


class RemoteMonitor(Callback):
    """Sends ``{"epoch": epoch, **logs}`` to ``root + path`` at the end of every epoch.

    The body is a form with the JSON under ``field``, or the JSON itself with
    ``send_as_json=True`` (``Content-Type: application/json``). A server that cannot be reached
    gives a warning, not an error.

    Args:
        root: The server's root URL.
        path: The path, relative to ``root``, events are sent to.
        field: The form field holding the JSON (form bodies only).
        headers: Extra HTTP headers (a dict).
        send_as_json: Whether to send the JSON as the body.

    >>> monitor = RemoteMonitor(root="http://localhost:9000")
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data",
                 headers=None, send_as_json=False):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers["Content-Type"] = "application/json"
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("utf-8")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}",
                          stacklevel=2)
