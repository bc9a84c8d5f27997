"""`RMSprop`: divide the gradient by a running root-mean-square of recent gradients.

>>> import ndflow as tf
>>> from ndflow.keras.optimizers import RMSprop
>>> v = tf.Variable([1.0])
>>> _ = RMSprop(learning_rate=0.01).apply_gradients([(tf.constant([2.0]), v)])
>>> round(float(v.numpy()[0]), 5)  # 1 - 0.01 * 2 / sqrt(0.1 * 4 + 1e-7)
0.96838
"""

from __future__ import annotations

from typing import Any

from ndflow.backend.jit import flat_operands
from ndflow.keras.optimizers import fused_updates
from ndflow.keras.optimizers.base_optimizer import Optimizer, _xp


class RMSprop(Optimizer):
    """Keras 3 update (note ``epsilon`` inside the square root, unlike PyTorch):
    ``v = rho * v + (1 - rho) * g**2``; ``inc = lr * g / sqrt(v + epsilon)`` (centered:
    ``sqrt(v - a**2 + epsilon)`` with ``a`` the running mean gradient); with momentum
    ``m = momentum * m + inc; var -= m``, else ``var -= inc``."""

    def __init__(self, learning_rate: Any = 0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-07, centered: bool = False,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str = "rmsprop",
                 **kwargs: Any) -> None:
        self.rho = float(rho)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.centered = bool(centered)
        self._decays = (self.rho, self.momentum)
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)

    def _slot_groups(self) -> list[tuple]:
        groups = [("velocity",)]
        if self.momentum > 0:
            groups.append(("momentum",))
        if self.centered:
            groups.append(("average_gradient",))
        return groups

    def _update(self, var: Any, g: Any, slots: list, lr: float, step: int) -> None:
        if not self.centered:
            flat = flat_operands(var, g, *slots)
            if flat is not None:
                t = var.dtype.type
                m = flat[3] if self.momentum > 0 else flat[2]
                fused_updates.rmsprop(flat[0], flat[1], flat[2], m, t(lr), t(self.rho),
                                      t(1.0 - self.rho), t(self.epsilon), t(self.momentum),
                                      self.momentum > 0)
                return
        xp = _xp(var)
        tmp = self._scratch_for(var)
        rho = self.rho
        v = slots[0]
        v *= rho
        xp.multiply(g, g, out=tmp)
        tmp *= 1.0 - rho
        v += tmp
        if self.centered:
            a = slots[-1]
            a *= rho
            xp.multiply(g, 1.0 - rho, out=tmp)
            a += tmp
            xp.multiply(a, a, out=tmp)
            xp.subtract(v, tmp, out=tmp)
            tmp += self.epsilon
        else:
            xp.add(v, self.epsilon, out=tmp)
        xp.sqrt(tmp, out=tmp)
        xp.divide(g, tmp, out=tmp)
        tmp *= lr
        if self.momentum > 0:
            m = slots[1]
            m *= self.momentum
            m += tmp
            var -= m
        else:
            var -= tmp

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                       "centered": self.centered})
        return config
