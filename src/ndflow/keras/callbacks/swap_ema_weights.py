"""`SwapEMAWeights`: evaluate and predict with the optimizer's moving average of the weights
(``use_ema=True``) instead of the raw weights, as Keras does.

>>> from ndflow import keras
>>> opt = keras.optimizers.SGD(0.1, use_ema=True)
>>> cb = keras.callbacks.SwapEMAWeights(swap_on_epoch=True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.callbacks.callback import Callback


class SwapEMAWeights(Callback):
    """Swap the model's trainable weights with the optimizer's EMA copies around `evaluate`
    and `predict` (and the validation inside `fit`), then swap them back. With
    `swap_on_epoch`, the EMA weights are also in the model between epochs (so checkpoints
    saved at epoch end hold them) and stay there after the last epoch.

    Keras 3 never swaps back after `predict` (its ``on_predict_end`` tests the wrong flag);
    ndflow restores the raw weights there as after `evaluate`.
    """

    def __init__(self, swap_on_epoch: bool = False) -> None:
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_weights_in_model = False

    def _pairs(self) -> list:
        opt = getattr(self.model, "optimizer", None)
        opt = getattr(opt, "inner_optimizer", opt)
        optimizers = list(getattr(opt, "optimizers", None) or [opt])
        if not any(getattr(o, "use_ema", False) for o in optimizers):
            raise ValueError("SwapEMAWeights must be used when `use_ema=True` is set on the "
                             f"optimizer. Received: use_ema="
                             f"{getattr(opt, 'use_ema', None)}")
        pairs = []
        for o in optimizers:
            if not getattr(o, "use_ema", False):
                continue
            for v in self.model.trainable_variables:
                i = o._index.get(id(v))
                if i is not None:
                    pairs.append((v, o._ema[i]))
        return pairs

    def _swap_variables(self) -> None:
        for var, avg in self._pairs():
            raw = np.array(var._value, copy=True)
            var._value[...] = avg._value
            avg._value[...] = raw

    def _finalize_ema_values(self) -> None:
        # the model holds the averages and the slots hold the raw weights: make the slots
        # averages again, so that finalizing the optimizer keeps the averages
        for var, avg in self._pairs():
            avg._value[...] = var._value

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        if self.swap_on_epoch and self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if self.swap_on_epoch and not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True
            if epoch == self.params.get("epochs", 0) - 1:
                self._finalize_ema_values()

    def _to_ema(self, logs: Any = None) -> None:
        if not self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = True

    def _to_raw(self, logs: Any = None) -> None:
        if self._ema_weights_in_model:
            self._swap_variables()
            self._ema_weights_in_model = False

    on_test_begin = _to_ema
    on_test_end = _to_raw
    on_predict_begin = _to_ema
    on_predict_end = _to_raw
