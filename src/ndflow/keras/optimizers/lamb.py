"""`Lamb`: Adam steps rescaled per variable by the trust ratio ``||var|| / ||step||``.

>>> import ndflow as tf
>>> from ndflow.keras.optimizers import Lamb
>>> v = tf.Variable([3.0, 4.0])
>>> _ = Lamb(learning_rate=0.1).apply_gradients([(tf.constant([1.0, 1.0]), v)])
>>> [round(x, 4) for x in v.numpy().tolist()]  # the step has norm lr * ||v|| = 0.5
[2.6464, 3.6464]
"""

from __future__ import annotations

import math
from typing import Any

from ndflow.keras.optimizers.base_optimizer import ElementwiseUpdate, Optimizer, _sqsum

# the Adam direction u = m_hat / (sqrt(v_hat) + eps) into a scratch array, then, after the
# norms (not element-wise), the step
_LAMB_DIRECTION = ElementwiseUpdate("""
    m = m + (g - m) * one_minus_b1
    v = v + (g * g - v) * one_minus_b2
    u = m / (sqrt(v / c2) + eps) / c1
""", ("g", "m", "v", "u"), ("one_minus_b1", "one_minus_b2", "eps", "c1", "c2"))
_LAMB_STEP = ElementwiseUpdate("var = var - u * scale", ("var", "u"), ("scale",))


class Lamb(Optimizer):
    """Keras 3's LAMB (You et al., 2019): ``m += (g - m)(1 - beta_1)``,
    ``v += (g**2 - v)(1 - beta_2)``, ``u = (m / (1 - beta_1**t)) /
    (sqrt(v / (1 - beta_2**t)) + epsilon)``, ``var -= lr * ratio * u`` with
    ``ratio = ||var|| / ||u||`` (1 when either norm is 0).

    Args:
        learning_rate: a float or a `LearningRateSchedule` (default 0.001).
        beta_1, beta_2: decay rates of the first and second moments (0.9, 0.999).
        epsilon: added to the root of the second moment (1e-7).
        The other arguments are those of every Keras optimizer.
    """

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-7, weight_decay: float | None = None,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None,
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
                         gradient_accumulation_steps=gradient_accumulation_steps,
                         name=name or "lamb", **kwargs)

    def _slot_groups(self) -> list[tuple]:
        return [("momentum", "velocity")]

    def _update(self, var: Any, g: Any, slots: list, lr: float, step: int) -> None:
        u = self._scratch_for(var, 6)  # (scratch 0.. are the generated kernels')
        scratch = self._scratch_fn(var)
        _LAMB_DIRECTION([g, *slots, u], (1 - self.beta_1, 1 - self.beta_2, self.epsilon,
                                          1 - self.beta_1 ** step, 1 - self.beta_2 ** step),
                        scratch)
        w_norm = math.sqrt(float(_sqsum(var)))
        u_norm = math.sqrt(float(_sqsum(u)))
        ratio = w_norm / u_norm if w_norm > 0 and u_norm > 0 else 1.0
        _LAMB_STEP([var, u], (ratio * lr,), scratch)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
