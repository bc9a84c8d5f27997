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

from ndflow.keras.optimizers.base_optimizer import ElementwiseUpdate, Optimizer

_MOMENTS = """
    m = m + (g - m) * one_minus_b1
    v = v + (g * g - v) * one_minus_b2
"""
_SCALARS = ("one_minus_b1", "one_minus_b2", "eps", "alpha")
_ADAM = ElementwiseUpdate(_MOMENTS + "var = var - m / (sqrt(v) + eps) * alpha",
                          ("var", "g", "m", "v"), _SCALARS)
_AMSGRAD = ElementwiseUpdate(_MOMENTS + """
    vhat = maximum(vhat, v)
    var = var - m / (sqrt(vhat) + eps) * alpha
""", ("var", "g", "m", "v", "vhat"), _SCALARS)


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
        rule = _AMSGRAD if self.amsgrad else _ADAM
        rule([var, g, *slots], (1 - b1, 1 - b2, self.epsilon, alpha), self._scratch_fn(var))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "amsgrad": self.amsgrad})
        return config
