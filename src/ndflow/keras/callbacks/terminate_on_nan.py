"""`TerminateOnNaN`: stop training as soon as the loss becomes NaN or infinite."""

from __future__ import annotations

import math

from ndflow.keras.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Sets ``model.stop_training`` when a batch's loss is NaN or infinite."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        loss = (logs or {}).get("loss")
        if loss is not None:
            value = float(loss)
            if math.isnan(value) or math.isinf(value):
                print(f"Batch {batch}: invalid loss {value}, terminating training")
                self.model.stop_training = True
