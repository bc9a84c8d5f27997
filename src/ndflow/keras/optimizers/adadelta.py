"""`Adadelta`: step sizes from running averages of squared gradients and squared updates.

>>> import ndflow as tf
>>> from ndflow.keras.optimizers import Adadelta
>>> v = tf.Variable([1.0])
>>> _ = Adadelta(learning_rate=1.0).apply_gradients([(tf.constant([1.0]), v)])
>>> float(v.numpy()[0]) < 1.0
True
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.optimizers.base_optimizer import ElementwiseUpdate, Optimizer

_ADADELTA = ElementwiseUpdate("""
    a = a * rho + g * g * one_minus_rho
    neg_delta = sqrt(u + eps) * g / sqrt(a + eps)
    u = u * rho + neg_delta * neg_delta * one_minus_rho
    var = var - neg_delta * lr
""", ("var", "g", "a", "u"), ("rho", "one_minus_rho", "eps", "lr"))


class Adadelta(Optimizer):
    """Keras 3 update, with ``rms(x) = sqrt(x + epsilon)``: ``a = rho * a + (1 - rho) * g**2``;
    ``d = -rms(u) * g / rms(a)``; ``u = rho * u + (1 - rho) * d**2``; ``var += lr * d``."""

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.95, epsilon: float = 1e-07,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str = "adadelta",
                 **kwargs: Any) -> None:
        self.rho = float(rho)
        self.epsilon = float(epsilon)
        self._decays = (self.rho,)
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)

    def _slot_groups(self) -> list[tuple]:
        return [("accumulated_grad", "accumulated_delta_var")]

    def _update(self, var: Any, g: Any, slots: list, lr: float, step: int) -> None:
        _ADADELTA([var, g, *slots], (self.rho, 1 - self.rho, self.epsilon, lr),
                  self._scratch_fn(var))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
