"""`ModelCheckpoint`: save the model (or its weights) during `fit`.

Every save is atomic (temporary file, fsync, rename), so a run killed in the middle of a save
keeps the previous checkpoint intact.

>>> import os, tempfile
>>> import numpy as np
>>> from ndflow import keras
>>> folder = tempfile.mkdtemp()
>>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> model.compile("sgd", "mse")
>>> ckpt = keras.callbacks.ModelCheckpoint(os.path.join(folder, "m-{epoch:02d}.weights.h5"),
...                                        save_weights_only=True)
>>> _ = model.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=2, verbose=0, callbacks=[ckpt])
>>> sorted(os.listdir(folder))
['m-01.weights.h5', 'm-02.weights.h5']
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import numpy as np

from ndflow.distribute import _context as _distribute
from ndflow.keras.callbacks.callback import Callback

__all__ = ["ModelCheckpoint"]

_MAX_WORDS = ("acc", "auc", "precision", "recall", "fmeasure", "f1", "iou", "psnr")


def _to_float(v: Any) -> Any:
    if hasattr(v, "_value"):
        v = v._value
    try:
        arr = np.asarray(v)
        return float(arr) if arr.size == 1 else v
    except (TypeError, ValueError):
        return v


class ModelCheckpoint(Callback):
    """Save the model or its weights at some frequency during training.

    Args:
        filepath: where to save; may hold ``str.format`` fields filled from ``epoch``
            (1-based), ``batch`` (1-based, when saving every N batches) and the logs, e.g.
            ``"ckpt/{epoch:02d}-{val_loss:.2f}.keras"``. It must end in ``.keras``, or in
            ``.weights.h5`` when ``save_weights_only=True``.
        monitor: the log to watch for ``save_best_only`` (e.g. ``"val_loss"``).
        verbose: 1 prints a line at each save.
        save_best_only: only save when ``monitor`` improves (the file is overwritten unless
            the filepath has format fields).
        save_weights_only: save with ``model.save_weights`` instead of ``model.save``.
        mode: ``"min"``, ``"max"`` or ``"auto"`` (``"max"`` for accuracy-like names).
        save_freq: ``"epoch"``, or an int: save every that many batches.
        initial_value_threshold: with ``save_best_only``, only save values better than this.
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False,
                 mode: str = "auto", save_freq: str | int = "epoch",
                 initial_value_threshold: float | None = None) -> None:
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.save_freq = save_freq
        if save_freq != "epoch" and not (isinstance(save_freq, (int, np.integer))
                                         and not isinstance(save_freq, bool)
                                         and save_freq > 0):
            raise ValueError(f"ModelCheckpoint: unrecognized save_freq {save_freq!r}; expected "
                             "'epoch' or a positive integer (a number of batches)")
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"ModelCheckpoint mode {mode!r} is unknown, using 'auto'",
                          stacklevel=2)
            mode = "auto"
        if mode == "auto":
            name = str(monitor).lower()
            mode = "max" if any(w in name for w in _MAX_WORDS) else "min"
        self.mode = mode
        self.monitor_op = np.greater if mode == "max" else np.less
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)
        else:
            self.best = -np.inf if mode == "max" else np.inf
        if self.save_weights_only:
            if not self.filepath.endswith(".weights.h5"):
                raise ValueError(
                    "ModelCheckpoint: when save_weights_only=True the filepath must end in "
                    f"'.weights.h5', got {self.filepath!r}")
        elif not self.filepath.endswith(".keras"):
            raise ValueError(
                "ModelCheckpoint: the filepath must end in '.keras' (or use "
                f"save_weights_only=True with '.weights.h5'), got {self.filepath!r}")
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen = 0
        self._current_epoch = 0
        self.last_saved_path: str | None = None

    # --- hooks ----------------------------------------------------------------------------------
    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self.save_freq == "epoch":
            return
        if batch <= self._last_batch_seen:  # a new epoch started
            add = batch + 1
        else:
            add = batch - self._last_batch_seen
        self._batches_seen_since_last_saving += add
        self._last_batch_seen = batch
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self._last_batch_seen = -1
        if self.save_freq == "epoch":
            self._save(epoch, None, logs)

    # --- saving ---------------------------------------------------------------------------------
    def _file_path(self, epoch: int, batch: int | None, logs: dict) -> str:
        fields = dict(logs)
        fields["epoch"] = epoch + 1
        if batch is not None:
            fields["batch"] = batch + 1
        try:
            return self.filepath.format(**fields)
        except KeyError as e:
            raise KeyError(
                f'ModelCheckpoint: failed to format the filepath "{self.filepath}": the logs '
                f"have no {e} (available: {sorted(fields)})") from None
        except (ValueError, IndexError) as e:
            raise ValueError(f'ModelCheckpoint: failed to format the filepath '
                             f'"{self.filepath}": {e}') from None

    def _should_save(self, logs: dict) -> bool:
        if not self.save_best_only:
            return True
        current = logs.get(self.monitor)
        if current is None or not isinstance(current, (int, float)):
            warnings.warn(
                f"ModelCheckpoint: can save the best model only with {self.monitor!r} in the "
                f"logs, which hold {sorted(logs)}; skipping.", stacklevel=3)
            return False
        if np.isnan(current):
            return False
        if self.monitor_op(current, self.best):
            if self.verbose > 0:
                print(f"\nEpoch {self._current_epoch + 1}: {self.monitor} improved from "
                      f"{self.best:.5f} to {current:.5f}")
            self.best = float(current)
            return True
        if self.verbose > 0:
            print(f"\nEpoch {self._current_epoch + 1}: {self.monitor} did not improve from "
                  f"{self.best:.5f}")
        return False

    def _save(self, epoch: int, batch: int | None, logs: dict | None) -> None:
        logs = {k: _to_float(v) for k, v in (logs or {}).items()}
        if not self._should_save(logs):
            return
        path = self._file_path(epoch, batch, logs)
        if not _distribute.is_chief():  # in a multi-worker job, worker 0 writes
            return
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        from ndflow.keras.saving import saving_api

        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        if self.save_weights_only:
            saving_api.save_weights(self.model, path, overwrite=True)
        else:
            saving_api.save_model(self.model, path, overwrite=True)
        self.last_saved_path = path
