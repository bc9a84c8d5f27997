"""`Lion`: sign-of-momentum updates (evolved sign momentum).

>>> import ndflow as tf
>>> from ndflow.keras.optimizers import Lion
>>> v = tf.Variable([1.0, 1.0])
>>> _ = Lion(learning_rate=0.1).apply_gradients([(tf.constant([3.0, -0.5]), v)])
>>> [round(x, 4) for x in v.numpy().tolist()]
[0.9, 1.1]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.optimizers.base_optimizer import ElementwiseUpdate, Optimizer

_LION = ElementwiseUpdate("""
    var = var - sign(m * b1 + g * one_minus_b1) * lr
    m = m * b2 + g * one_minus_b2
""", ("var", "g", "m"), ("b1", "one_minus_b1", "b2", "one_minus_b2", "lr"))


class Lion(Optimizer):
    """Keras 3 update: ``var -= lr * sign(beta_1 * m + (1 - beta_1) * g)``;
    ``m = beta_2 * m + (1 - beta_2) * g``."""

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.99,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str = "lion",
                 **kwargs: Any) -> None:
        if not 0 < float(beta_1) <= 1:
            raise ValueError(f"Lion: expected beta_1 in (0, 1], got {beta_1!r}")
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self._decays = (self.beta_2,)
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)

    def _slot_groups(self) -> list[tuple]:
        return [("momentum",)]

    def _update(self, var: Any, g: Any, slots: list, lr: float, step: int) -> None:
        b1, b2 = self.beta_1, self.beta_2
        _LION([var, g, slots[0]], (b1, 1.0 - b1, b2, 1.0 - b2, lr), self._scratch_fn(var))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2})
        return config
