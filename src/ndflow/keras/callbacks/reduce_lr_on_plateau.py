"""`ReduceLROnPlateau`: lower the learning rate when a monitored value stops improving."""

from __future__ import annotations

import warnings

import numpy as np

from ndflow.keras.callbacks.callback import Callback
from ndflow.keras.callbacks.early_stopping import _mode_op


class ReduceLROnPlateau(Callback):
    """Multiply the optimizer's learning rate by ``factor`` after ``patience`` epochs without
    improvement of ``monitor``, then wait ``cooldown`` epochs; never below ``min_lr``.

    >>> from ndflow import keras
    >>> cb = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2)
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10,
                 verbose: int = 0, mode: str = "auto", min_delta: float = 1e-4,
                 cooldown: int = 0, min_lr: float = 0.0, **kwargs: object) -> None:
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor must be < 1, got {factor}")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau: unknown arguments {sorted(kwargs)}")
        self.monitor = monitor
        self.factor = float(factor)
        self.patience = int(patience)
        self.verbose = verbose
        self.min_delta = float(min_delta)
        self.cooldown = int(cooldown)
        self.min_lr = float(min_lr)
        self.monitor_op = _mode_op(mode, monitor, "ReduceLROnPlateau")
        self._reset()

    def _reset(self) -> None:
        self.best = np.inf if self.monitor_op is np.less else -np.inf
        self.wait = 0
        self.cooldown_counter = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._reset()

    def _better(self, a: float, b: float) -> bool:
        if self.monitor_op is np.less:
            return a < b - self.min_delta
        return a > b + self.min_delta

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = logs if logs is not None else {}
        opt = self.model.optimizer
        logs["learning_rate"] = float(np.asarray(opt.learning_rate))
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"ReduceLROnPlateau: the monitored value '{self.monitor}' is not in "
                          f"the logs; available: {sorted(logs)}", stacklevel=2)
            return
        current = float(current)
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(current, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(np.asarray(opt.learning_rate))
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    opt.learning_rate = new
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
