"""`SGD`: gradient descent with optional (Nesterov) momentum.

>>> import ndflow as tf
>>> from ndflow.keras.optimizers import SGD
>>> v = tf.Variable([1.0])
>>> opt = SGD(learning_rate=0.5, momentum=0.9)
>>> for _ in range(2):
...     _ = opt.apply_gradients([(tf.constant([1.0]), v)])
>>> round(float(v.numpy()[0]), 4)  # 1 - 0.5 - (0.9 * 0.5 + 0.5)
-0.45
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.optimizers.base_optimizer import ElementwiseUpdate, Optimizer

_PLAIN = ElementwiseUpdate("var = var - g * lr", ("var", "g"), ("lr",))
_MOMENTUM = ElementwiseUpdate("""
    m = m * momentum - g * lr
    var = var + m
""", ("var", "g", "m"), ("lr", "momentum"))
_NESTEROV = ElementwiseUpdate("""
    step = g * lr
    m = m * momentum - step
    var = var - step + m * momentum
""", ("var", "g", "m"), ("lr", "momentum"))


class SGD(Optimizer):
    """Keras 3 update: ``m = momentum * m - lr * g``; ``var += m`` (or, with Nesterov,
    ``var += momentum * m - lr * g``); without momentum ``var -= lr * g``."""

    def __init__(self, learning_rate: Any = 0.01, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str = "SGD",
                 **kwargs: Any) -> None:
        if not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(f"SGD: expected momentum as a float in [0, 1], got {momentum!r}")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self._decays = (self.momentum,)
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)

    def _slot_groups(self) -> list[tuple]:
        return [("momentum",)] if self.momentum != 0 else []

    def _update(self, var: Any, g: Any, slots: list, lr: float, step: int) -> None:
        if self.momentum == 0:
            _PLAIN([var, g], (lr,), self._scratch_fn(var))
        else:
            rule = _NESTEROV if self.nesterov else _MOMENTUM
            rule([var, g, slots[0]], (lr, self.momentum), self._scratch_fn(var))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
