"""`EarlyStopping`: stop training when a monitored value has stopped improving.

>>> from ndflow import keras
>>> cb = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from ndflow.keras.callbacks.callback import Callback


def _mode_op(mode: str, monitor: str, who: str) -> Any:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{who}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode == "auto":
        name = monitor.lower()
        if name.endswith(("acc", "accuracy", "auc")) or "accuracy" in name or name.endswith(
                ("precision", "recall", "f1_score", "r2_score", "iou")):
            mode = "max"
        else:
            mode = "min"
    return np.greater if mode == "max" else np.less


class EarlyStopping(Callback):
    """Stop `fit` when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Args:
        monitor: the logged value to watch (default ``"val_loss"``).
        min_delta: smallest change counted as an improvement.
        patience: epochs without improvement before stopping.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (from the name: accuracies are maximised).
        baseline: a value the monitored quantity must beat.
        restore_best_weights: put back the weights of the best epoch when training stops
            (or ends).
        start_from_epoch: epochs to wait before starting to monitor.
    """

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0.0, patience: int = 0,
                 verbose: int = 0, mode: str = "auto", baseline: float | None = None,
                 restore_best_weights: bool = False, start_from_epoch: int = 0) -> None:
        super().__init__()
        self.monitor = monitor
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.min_delta = abs(float(min_delta))
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.monitor_op = _mode_op(mode, monitor, "EarlyStopping")
        if self.monitor_op is np.less:
            self.min_delta *= -1
        self.wait = 0
        self.stopped_epoch = 0
        self.best: float = np.inf if self.monitor_op is np.less else -np.inf
        self.best_weights: list | None = None
        self.best_epoch = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self.wait = 0
        self.stopped_epoch = 0
        self.best = np.inf if self.monitor_op is np.less else -np.inf
        self.best_weights = None
        self.best_epoch = 0

    def _improved(self, current: float, reference: float) -> bool:
        return bool(self.monitor_op(current - self.min_delta, reference))

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        current = (logs or {}).get(self.monitor)
        if current is None:
            warnings.warn(
                f"EarlyStopping: the monitored value '{self.monitor}' is not in the logs; "
                f"available: {sorted(logs or {})}", stacklevel=2)
            return
        if epoch < self.start_from_epoch:
            return
        current = float(current)
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._improved(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._improved(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs: dict | None = None) -> None:
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs: dict | None) -> Any:
        return (logs or {}).get(self.monitor)
