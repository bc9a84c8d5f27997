"""`Nadam`: Adam with Nesterov momentum (Dozat's momentum schedule).

>>> import ndflow as tf
>>> from ndflow.keras.optimizers import Nadam
>>> v = tf.Variable([1.0])
>>> _ = Nadam(learning_rate=0.1).apply_gradients([(tf.constant([2.0]), v)])
>>> float(v.numpy()[0]) < 1.0
True
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.optimizers.base_optimizer import ElementwiseUpdate, Optimizer

_NADAM = ElementwiseUpdate("""
    m = m + (g - m) * one_minus_b1
    v = v + (g * g - v) * one_minus_b2
    var = var - (m * c1 + g * c2) / (sqrt(v * c3) + eps) * lr
""", ("var", "g", "m", "v"), ("one_minus_b1", "one_minus_b2", "c1", "c2", "c3", "eps", "lr"))


class Nadam(Optimizer):
    """Keras 3 update: ``u_t = beta_1 * (1 - 0.5 * 0.96**t)``, ``u_prod *= u_t``;
    ``m_hat = u_{t+1} * m / (1 - u_prod * u_{t+1}) + (1 - u_t) * g / (1 - u_prod)``;
    ``v_hat = v / (1 - beta_2**t)``; ``var -= lr * m_hat / (sqrt(v_hat) + epsilon)``."""

    def __init__(self, learning_rate: Any = 0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-07,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str = "nadam",
                 **kwargs: Any) -> None:
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self._decays = (self.beta_1, self.beta_2)
        self._u_product = None
        self._coef = (0.0, 0.0, 0.0)
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)

    def _slot_groups(self) -> list[tuple]:
        return [("momentum", "velocity")]

    def _register(self, variables: list) -> None:
        super()._register(variables)
        if self._u_product is None and self._trainable_variables:
            dt = self._trainable_variables[0]._value.dtype
            self._u_product = self.add_variable((), initializer="ones", dtype=dt,
                                                name="u_product")

    def _prepare_step(self, step: int, lr: float) -> None:
        b1 = self.beta_1
        u_t = b1 * (1.0 - 0.5 * 0.96 ** step)
        u_t1 = b1 * (1.0 - 0.5 * 0.96 ** (step + 1))
        up = self._u_product._value
        up *= up.dtype.type(u_t)
        u_prod = float(up)
        u_prod1 = u_prod * u_t1
        self._coef = (u_t1 / (1 - u_prod1), (1 - u_t) / (1 - u_prod),
                      1.0 / (1 - self.beta_2 ** step))

    def _update(self, var: Any, g: Any, slots: list, lr: float, step: int) -> None:
        c1, c2, c3 = self._coef
        _NADAM([var, g, *slots], (1 - self.beta_1, 1 - self.beta_2, c1, c2, c3, self.epsilon, lr),
               self._scratch_fn(var))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
