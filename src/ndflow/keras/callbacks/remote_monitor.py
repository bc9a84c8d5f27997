"""`RemoteMonitor`: POST each epoch's logs to a server, as Keras does (form field holding
JSON, or a JSON body with ``send_as_json``). Uses only the standard library.

>>> from ndflow import keras
>>> cb = keras.callbacks.RemoteMonitor(root="http://localhost:9000", send_as_json=True)
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from ndflow.keras.callbacks.callback import Callback


class RemoteMonitor(Callback):
    """Send ``{"epoch": epoch, **logs}`` to ``root + path`` at the end of every epoch.

    By default the request is form-encoded with one field (`field`, ``"data"``) holding the
    JSON text; with ``send_as_json=True`` the JSON is the request body. `headers` are added
    to the request. An unreachable server gives a warning, not an error (as in Keras).
    `timeout` (seconds; ndflow only) bounds each request.
    """

    def __init__(self, root: str = "http://localhost:9000", path: str = "/publish/epoch/end/",
                 field: str = "data", headers: dict | None = None,
                 send_as_json: bool = False, timeout: float = 10.0) -> None:
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json
        self.timeout = timeout

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        send: dict = {"epoch": epoch}
        for k, v in (logs or {}).items():
            send[k] = v.item() if isinstance(v, (np.ndarray, np.generic)) else v
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as r:
                r.read()
        except (urllib.error.URLError, OSError, TimeoutError) as e:
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root} ({e})",
                          stacklevel=2)
