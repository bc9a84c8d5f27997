"""`LearningRateScheduler`: set the learning rate at the start of every epoch."""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.callbacks.callback import Callback


class LearningRateScheduler(Callback):
    """``schedule(epoch, lr) -> new_lr`` (or ``schedule(epoch)``) is called before each epoch.

    >>> from ndflow import keras
    >>> cb = keras.callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.9)
    """

    def __init__(self, schedule: Any, verbose: int = 0) -> None:
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        opt = self.model.optimizer
        if not hasattr(opt, "learning_rate"):
            raise ValueError("LearningRateScheduler: the optimizer must have a learning_rate")
        lr = float(np.asarray(opt.learning_rate))
        try:
            new = self.schedule(epoch, lr)
        except TypeError:
            new = self.schedule(epoch)
        try:
            new = float(np.asarray(new))
        except (TypeError, ValueError):
            raise ValueError(f"LearningRateScheduler: the schedule must return a number, got "
                             f"{new!r}") from None
        opt.learning_rate = new
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {new}.")

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = float(np.asarray(self.model.optimizer.learning_rate))
