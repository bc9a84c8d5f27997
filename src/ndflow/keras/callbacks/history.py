"""`History`: records the logs of every epoch; `fit` returns it.

>>> h = History(); h.on_train_begin(); h.on_epoch_end(0, {"loss": 1.0})
>>> h.history
{'loss': [1.0]}
"""

from __future__ import annotations

from ndflow.keras.callbacks.callback import Callback


class History(Callback):
    """``history.history`` maps each logged name (``loss``, ``val_loss`` ...) to its values
    per epoch; ``history.epoch`` lists the epochs run."""

    def __init__(self) -> None:
        super().__init__()
        self.history: dict = {}
        self.epoch: list = []

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.epoch = []

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self
