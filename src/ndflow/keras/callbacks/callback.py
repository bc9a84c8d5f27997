"""`Callback`: hooks called by `fit`, `evaluate` and `predict`.

>>> from ndflow import keras
>>> class Count(keras.callbacks.Callback):
...     def on_epoch_end(self, epoch, logs=None):
...         self.last = epoch
"""

from __future__ import annotations

from typing import Any


class Callback:
    """Base class: override the hooks you need. ``self.model`` and ``self.params`` are set by
    the training loop (``params`` has ``epochs``, ``steps`` and ``verbose``)."""

    def __init__(self) -> None:
        self.validation_data = None
        self._model: Any = None
        self.params: dict = {}

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model: Any) -> None:
        self._model = model

    @property
    def model(self) -> Any:
        return self._model

    @model.setter
    def model(self, value: Any) -> None:
        self._model = value

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Keras 2 alias of `on_train_batch_begin`."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Keras 2 alias of `on_train_batch_end`."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the start of each epoch of `fit`."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the end of each epoch, with the epoch's (and validation) results."""

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before each batch of `evaluate` (and of validation in `fit`)."""

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after each batch of `evaluate`."""

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before each batch of `predict`."""

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after each batch of `predict` (``logs["outputs"]``)."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Called once at the start of `fit`."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """Called once at the end of `fit`."""

    def on_test_begin(self, logs: dict | None = None) -> None:
        """Called at the start of `evaluate`."""

    def on_test_end(self, logs: dict | None = None) -> None:
        """Called at the end of `evaluate`."""

    def on_predict_begin(self, logs: dict | None = None) -> None:
        """Called at the start of `predict`."""

    def on_predict_end(self, logs: dict | None = None) -> None:
        """Called at the end of `predict`."""


def overrides(cb: Any, *names: str) -> bool:
    """True if ``cb`` replaces one of the hooks ``names`` of `Callback` (method or attribute)."""
    for n in names:
        impl = getattr(cb, n, None)
        impl = getattr(impl, "__func__", impl)
        if impl is not None and impl is not getattr(Callback, n, None):
            return True
    return False
