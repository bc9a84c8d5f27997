"""`CSVLogger`: write the logs of every epoch to a CSV file."""

from __future__ import annotations

import csv
import os
from typing import Any

import numpy as np

from ndflow.distribute import _context as _distribute
from ndflow.keras.callbacks.callback import Callback


class CSVLogger(Callback):
    """One row per epoch: ``epoch`` then each logged value in sorted name order.

    >>> from ndflow import keras
    >>> cb = keras.callbacks.CSVLogger("training.log", separator=",", append=False)
    """

    def __init__(self, filename: str, separator: str = ",", append: bool = False) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys: list | None = None
        self._file: Any = None
        self._writer: Any = None

    def on_train_begin(self, logs: dict | None = None) -> None:
        if not _distribute.is_chief():  # in a multi-worker job, worker 0 writes
            return
        exists = os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        mode = "a" if self.append else "w"
        self._append_header = not (self.append and exists)
        self._file = open(self.filename, mode, newline="")  # noqa: SIM115
        self.keys = None
        self._writer = None

    @staticmethod
    def _fmt(v: Any) -> Any:
        if isinstance(v, str):
            return v
        arr = np.asarray(v)
        if arr.ndim == 0:
            return arr.item()
        return f'"[{", ".join(map(str, arr.ravel().tolist()))}]"'

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self._file is None:
            return
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        if self._writer is None:
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch"] + self.keys,
                                          delimiter=self.sep)
            if self._append_header:
                self._writer.writeheader()
        row = {"epoch": epoch}
        row.update({k: self._fmt(logs[k]) if k in logs else "NA" for k in self.keys})
        self._writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._writer = None
