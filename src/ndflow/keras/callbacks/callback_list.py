"""`CallbackList`: calls a list of callbacks, skipping hooks none of them implements."""

from __future__ import annotations

from typing import Any

from ndflow.keras.callbacks.callback import Callback, overrides
from ndflow.keras.callbacks.history import History
from ndflow.keras.callbacks.progbar_logger import ProgbarLogger

_BATCH_HOOKS = {
    "on_train_batch_begin": ("on_train_batch_begin", "on_batch_begin"),
    "on_train_batch_end": ("on_train_batch_end", "on_batch_end"),
    "on_test_batch_begin": ("on_test_batch_begin",),
    "on_test_batch_end": ("on_test_batch_end",),
    "on_predict_batch_begin": ("on_predict_batch_begin",),
    "on_predict_batch_end": ("on_predict_batch_end",),
}


def pythonify_logs(logs: Any) -> dict:
    """Logs with tensors turned into Python floats and nested dicts flattened."""
    out: dict = {}
    for k, v in (logs or {}).items():
        if isinstance(v, dict):
            out.update(pythonify_logs(v))
            continue
        try:
            arr = v._value if hasattr(v, "_value") else v
            out[k] = float(arr) if getattr(arr, "size", 1) == 1 else v
        except (TypeError, ValueError):
            out[k] = v
    return out


class CallbackList(Callback):
    """A container that forwards every hook to its callbacks (and adds History/ProgbarLogger
    for `fit` when asked)."""

    def __init__(self, callbacks: Any = None, add_history: bool = False,
                 add_progbar: bool = False, model: Any = None, **params: Any) -> None:
        super().__init__()
        if isinstance(callbacks, CallbackList):
            callbacks = callbacks.callbacks
        elif isinstance(callbacks, Callback):
            callbacks = [callbacks]
        self.callbacks: list = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback) and not hasattr(cb, "on_epoch_end"):
                raise TypeError(f"callbacks: expected keras.callbacks.Callback instances, got "
                                f"{type(cb).__name__}")
        self._history = None
        if add_history:
            hist = next((c for c in self.callbacks if isinstance(c, History)), None)
            if hist is None:
                hist = History()
                self.callbacks.append(hist)
            self._history = hist
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.insert(0, ProgbarLogger())
        if model is not None:
            self.set_model(model)
        if params:
            self.set_params(params)
        self._active = {hook: [c for c in self.callbacks if overrides(c, *names)]
                        for hook, names in _BATCH_HOOKS.items()}
        # batch logs are turned into floats only for callbacks that read them
        self._raw_ok = {id(c) for c in self.callbacks if isinstance(c, ProgbarLogger)}

    def append(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        for hook, names in _BATCH_HOOKS.items():
            if overrides(callback, *names):
                self._active[hook].append(callback)

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params: dict) -> None:
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)

    def _batch(self, hook: str, batch: int, logs: Any) -> None:
        cbs = self._active[hook]
        if not cbs:
            return
        clean = None
        for cb in cbs:
            if id(cb) in self._raw_ok:
                getattr(cb, hook)(batch, logs)
            else:
                if clean is None:
                    clean = pythonify_logs(logs)
                getattr(cb, hook)(batch, clean)

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self._active["on_train_batch_begin"]:
            self._batch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._active["on_train_batch_end"]:
            self._batch("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self._active["on_test_batch_begin"]:
            self._batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._active["on_test_batch_end"]:
            self._batch("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        if self._active["on_predict_batch_begin"]:
            self._batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._active["on_predict_batch_end"]:
            self._batch("on_predict_batch_end", batch, logs)

    def _all(self, hook: str, *args: Any) -> None:
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._all("on_epoch_begin", epoch, pythonify_logs(logs))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._all("on_epoch_end", epoch, logs)

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._all("on_train_begin", pythonify_logs(logs))

    def on_train_end(self, logs: dict | None = None) -> None:
        self._all("on_train_end", pythonify_logs(logs))

    def on_test_begin(self, logs: dict | None = None) -> None:
        self._all("on_test_begin", pythonify_logs(logs))

    def on_test_end(self, logs: dict | None = None) -> None:
        self._all("on_test_end", pythonify_logs(logs))

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._all("on_predict_begin", pythonify_logs(logs))

    def on_predict_end(self, logs: dict | None = None) -> None:
        self._all("on_predict_end", pythonify_logs(logs))
