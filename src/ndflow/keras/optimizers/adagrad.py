"""`Adagrad`: per-parameter learning rates scaled by the accumulated squared gradients.

>>> import ndflow as tf
>>> from ndflow.keras.optimizers import Adagrad
>>> v = tf.Variable([1.0])
>>> _ = Adagrad(learning_rate=0.1).apply_gradients([(tf.constant([1.0]), v)])
>>> round(float(v.numpy()[0]), 5)  # 1 - 0.1 * 1 / sqrt(0.1 + 1 + 1e-7)
0.90465
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.optimizers.base_optimizer import ElementwiseUpdate, Optimizer

_ADAGRAD = ElementwiseUpdate("""
    acc = acc + g * g
    var = var - g / sqrt(acc + eps) * lr
""", ("var", "g", "acc"), ("eps", "lr"))


class Adagrad(Optimizer):
    """Keras 3 update: ``acc += g**2``; ``var -= lr * g / sqrt(acc + epsilon)``; the
    accumulators start at ``initial_accumulator_value``."""

    def __init__(self, learning_rate: Any = 0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-07,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str = "adagrad",
                 **kwargs: Any) -> None:
        if initial_accumulator_value < 0:
            raise ValueError("Adagrad: expected initial_accumulator_value >= 0, got "
                             f"{initial_accumulator_value!r}")
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)

    def _slot_groups(self) -> list[tuple]:
        return [("accumulator",)]

    def _slot_initial_value(self, name: str) -> Any:
        return self.initial_accumulator_value

    def _update(self, var: Any, g: Any, slots: list, lr: float, step: int) -> None:
        _ADAGRAD([var, g, slots[0]], (self.epsilon, lr), self._scratch_fn(var))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value,
                       "epsilon": self.epsilon})
        return config
