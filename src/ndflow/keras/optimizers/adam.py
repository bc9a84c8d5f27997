"""`Adam`: adaptive moment estimation (with optional AMSGrad).

>>> import ndflow as tf
>>> from ndflow.keras.optimizers import Adam
>>> v = tf.Variable([1.0])
>>> _ = Adam(learning_rate=0.1).apply_gradients([(tf.constant([3.0]), v)])
>>> round(float(v.numpy()[0]), 4)  # the first Adam step moves by about lr
0.9
"""

from __future__ import annotations

import math
from typing import Any

from ndflow.backend.jit import flat_operands
from ndflow.keras.optimizers import fused_updates
from ndflow.keras.optimizers.base_optimizer import Optimizer, _xp


class Adam(Optimizer):
    """Keras 3 update (``epsilon`` added to ``sqrt(v)`` with the bias correction folded into
    the step size): ``m += (g - m) * (1 - beta_1)``; ``v += (g**2 - v) * (1 - beta_2)``;
    ``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``;
    ``var -= alpha * m / (sqrt(v) + epsilon)`` (AMSGrad uses the running max of ``v``)."""

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-07, amsgrad: bool = False,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str = "adam",
                 **kwargs: Any) -> None:
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.amsgrad = bool(amsgrad)
        self._decays = (self.beta_1, self.beta_2)
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)

    def _slot_groups(self) -> list[tuple]:
        groups = [("momentum", "velocity")]
        if self.amsgrad:
            groups.append(("velocity_hat",))
        return groups

    def _update(self, var: Any, g: Any, slots: list, lr: float, step: int) -> None:
        b1, b2 = self.beta_1, self.beta_2
        alpha = lr * math.sqrt(1 - b2 ** step) / (1 - b1 ** step)
        flat = flat_operands(var, g, *slots)
        if flat is not None:
            t = var.dtype.type
            vhat = flat[4] if self.amsgrad else flat[3]
            fused_updates.adam(flat[0], flat[1], flat[2], flat[3], vhat, t(alpha), t(1 - b1),
                               t(1 - b2), t(self.epsilon), self.amsgrad)
            return
        xp = _xp(var)
        tmp = self._scratch_for(var)
        m, v = slots[0], slots[1]
        xp.subtract(g, m, out=tmp)
        tmp *= 1 - b1
        m += tmp
        xp.multiply(g, g, out=tmp)
        tmp -= v
        tmp *= 1 - b2
        v += tmp
        if self.amsgrad:
            vh = slots[2]
            xp.maximum(vh, v, out=vh)
            v = vh
        xp.sqrt(v, out=tmp)
        tmp += self.epsilon
        xp.divide(m, tmp, out=tmp)
        tmp *= alpha
        var -= tmp

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "amsgrad": self.amsgrad})
        return config
