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

from ndflow.keras.optimizers.base_optimizer import Optimizer, _xp


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
        xp = _xp(var)
        tmp = self._scratch_for(var)
        tmp2 = self._scratch_for(var, 1)
        rho, eps = self.rho, self.epsilon
        a, u = slots
        a *= rho
        xp.multiply(g, g, out=tmp)
        tmp *= 1 - rho
        a += tmp
        xp.add(u, eps, out=tmp)
        xp.sqrt(tmp, out=tmp)
        tmp *= g
        xp.add(a, eps, out=tmp2)
        xp.sqrt(tmp2, out=tmp2)
        tmp /= tmp2  # tmp = -d
        u *= rho
        xp.multiply(tmp, tmp, out=tmp2)
        tmp2 *= 1 - rho
        u += tmp2
        tmp *= lr
        var -= tmp

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
