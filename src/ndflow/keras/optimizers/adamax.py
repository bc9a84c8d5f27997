"""`Adamax`: Adam with the infinity norm in place of the second moment.

>>> import ndflow as tf
>>> from ndflow.keras.optimizers import Adamax
>>> v = tf.Variable([1.0])
>>> _ = Adamax(learning_rate=0.1).apply_gradients([(tf.constant([2.0]), v)])
>>> round(float(v.numpy()[0]), 4)
0.9
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.optimizers.base_optimizer import ElementwiseUpdate, Optimizer

_ADAMAX = ElementwiseUpdate("""
    m = m + (g - m) * one_minus_b1
    u = maximum(u * b2, absolute(g))
    var = var - m / (u + eps) * step_size
""", ("var", "g", "m", "u"), ("one_minus_b1", "b2", "eps", "step_size"))


class Adamax(Optimizer):
    """Keras 3 update: ``m += (g - m) * (1 - beta_1)``; ``u = max(beta_2 * u, |g|)``;
    ``var -= lr * m / ((1 - beta_1**t) * (u + epsilon))``."""

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-07,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str = "adamax",
                 **kwargs: Any) -> None:
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self._decays = (self.beta_1, self.beta_2)
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)

    def _slot_groups(self) -> list[tuple]:
        return [("momentum", "norm")]

    def _update(self, var: Any, g: Any, slots: list, lr: float, step: int) -> None:
        _ADAMAX([var, g, *slots], (1 - self.beta_1, self.beta_2, self.epsilon,
                                   lr / (1 - self.beta_1 ** step)), self._scratch_fn(var))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
