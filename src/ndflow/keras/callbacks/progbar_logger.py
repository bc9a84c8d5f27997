"""`ProgbarLogger`: prints the progress bar and results of `fit` / `evaluate` / `predict`."""

from __future__ import annotations

import time
from typing import Any

from ndflow.keras.callbacks.callback import Callback


def _floats(logs: dict | None) -> dict:
    out = {}
    for k, v in (logs or {}).items():
        if isinstance(v, dict):
            out.update(_floats(v))
        else:
            try:
                out[k] = float(v)
            except (TypeError, ValueError):
                continue
    return out


class ProgbarLogger(Callback):
    """``verbose=1``: a live bar per epoch; ``verbose=2``: one line per epoch.

    Values shown are the running means returned by the model's metrics; the bar is redrawn
    at most every 0.05 s, so it costs nothing measurable per step.
    """

    def __init__(self, count_mode: str = "steps", verbose: int = 1) -> None:
        super().__init__()
        self.verbose = verbose
        self.target: int | None = None
        self.epochs = 1
        self.progbar: Any = None
        self._seen = 0
        self._mode = "train"

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        self.verbose = params.get("verbose", self.verbose)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _new_bar(self) -> None:
        from ndflow.keras.utils.progbar import Progbar

        self.progbar = Progbar(self.target, verbose=self.verbose, stateful_metrics="*",
                               unit_name="step")
        self.progbar.stateful_metrics = {"*"}
        self._seen = 0

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._mode = "train"

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._mode = "train"
        self._new_bar()
        if self.verbose and self.epochs > 1:
            from ndflow.keras.utils.io_utils import print_msg

            print_msg(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self._seen = batch + 1
        bar = self.progbar
        if bar is None:
            return
        if self.verbose == 1:
            now = time.perf_counter()
            if now - bar._last_draw < bar.interval:
                bar._seen = self._seen
                return
            if not bar._dynamic:
                bar._last_draw = now
            bar.update(self._seen, _floats(logs), finalize=False)
        else:
            bar._seen = self._seen

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.progbar is None:
            return
        if self.target is None:
            self.target = self._seen
            self.progbar.target = self._seen
        self.progbar.update(self._seen, _floats(logs), finalize=True)

    def on_test_begin(self, logs: dict | None = None) -> None:
        if self._mode == "train" and self.params.get("_in_fit"):
            return  # validation inside fit: no separate bar
        self._mode = "test"
        self.target = self.params.get("steps")
        self._new_bar()

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        if self._mode != "test":
            return
        self.on_train_batch_end(batch, logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        if self._mode != "test" or self.progbar is None:
            return
        if self.target is None:
            self.progbar.target = self._seen
        self.progbar.update(self._seen, _floats(logs), finalize=True)

    def on_predict_begin(self, logs: dict | None = None) -> None:
        self._mode = "predict"
        self.target = self.params.get("steps")
        self._new_bar()

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.on_train_batch_end(batch, None)

    def on_predict_end(self, logs: dict | None = None) -> None:
        if self.progbar is None:
            return
        if self.target is None:
            self.progbar.target = self._seen
        self.progbar.update(self._seen, None, finalize=True)
