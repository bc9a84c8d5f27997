"""`Ftrl`: Follow The Regularized Leader (McMahan et al.), with L1/L2 regularization.

>>> import ndflow as tf
>>> from ndflow.keras.optimizers import Ftrl
>>> v = tf.Variable([1.0])
>>> _ = Ftrl(learning_rate=0.1).apply_gradients([(tf.constant([1.0]), v)])
>>> float(v.numpy()[0]) < 1.0
True
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.optimizers.base_optimizer import Optimizer, _xp


class Ftrl(Optimizer):
    """Keras 3 update with ``p = -learning_rate_power``: ``n' = n + g**2``;
    ``z += g + 2 * l2_shrinkage * var - (n'**p - n**p) / lr * var``;
    ``var = (clip(z, -l1, l1) - z) / (n'**p / lr + 2 * (l2 + beta / (2 * lr)))``."""

    def __init__(self, learning_rate: Any = 0.001, learning_rate_power: float = -0.5,
                 initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0,
                 l2_shrinkage_regularization_strength: float = 0.0, beta: float = 0.0,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str = "ftrl",
                 **kwargs: Any) -> None:
        checks = (("initial_accumulator_value", initial_accumulator_value),
                  ("l1_regularization_strength", l1_regularization_strength),
                  ("l2_regularization_strength", l2_regularization_strength),
                  ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength))
        for n, val in checks:
            if val < 0:
                raise ValueError(f"Ftrl: expected {n} >= 0, got {val!r}")
        if learning_rate_power > 0:
            raise ValueError(f"Ftrl: expected learning_rate_power <= 0, got "
                             f"{learning_rate_power!r}")
        self.learning_rate_power = float(learning_rate_power)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.l1_regularization_strength = float(l1_regularization_strength)
        self.l2_regularization_strength = float(l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = float(l2_shrinkage_regularization_strength)
        self.beta = float(beta)
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)

    def _slot_groups(self) -> list[tuple]:
        return [("accumulator", "linear")]

    def _slot_initial_value(self, name: str) -> Any:
        return self.initial_accumulator_value if name == "accumulator" else "zeros"

    def _update(self, var: Any, g: Any, slots: list, lr: float, step: int) -> None:
        xp = _xp(var)
        acc, lin = slots
        p = -self.learning_rate_power
        l1 = self.l1_regularization_strength
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        grad = g + (2 * self.l2_shrinkage_regularization_strength) * var \
            if self.l2_shrinkage_regularization_strength else g
        new_acc = acc + g * g
        new_pow = xp.power(new_acc, p)
        lin += grad - (new_pow - xp.power(acc, p)) / lr * var
        quadratic = new_pow / lr + 2 * l2
        var[...] = (xp.clip(lin, -l1, l1) - lin) / quadratic
        acc[...] = new_acc

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        })
        return config
