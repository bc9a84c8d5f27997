"""`ScheduleFreeAdamW`: AdamW without a learning-rate schedule (Defazio et al., 2024).

The trained variable holds the interpolation ``y`` of the paper; the optimizer's "momentum"
slot holds the base sequence ``z`` (started at the variable's initial value), and the average
``x`` is recovered from both on each step.

>>> import ndflow as tf
>>> from ndflow.keras.optimizers import ScheduleFreeAdamW
>>> v = tf.Variable([1.0])
>>> _ = ScheduleFreeAdamW(learning_rate=0.1).apply_gradients([(tf.constant([2.0]), v)])
>>> round(float(v.numpy()[0]), 4)  # first step: z = 1 - lr * g/|g| = 0.9, x = z, y = z
0.9
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.optimizers.base_optimizer import ElementwiseUpdate, Optimizer

# the variable holds y; x is recovered from it, averaged with the new z, and y rebuilt
_SCHEDULE_FREE = ElementwiseUpdate("""
    v = v + (g * g - v) * one_minus_b2
    x = (var - z * one_minus_b1) / b1
    z = z - g / (sqrt(v / c2) + eps) * lr
    x = x * one_minus_w + z * w
    var = x * b1 + z * one_minus_b1
""", ("var", "g", "z", "v"), ("one_minus_b1", "one_minus_b2", "b1", "c2", "eps", "lr",
                               "one_minus_w", "w"))


class ScheduleFreeAdamW(Optimizer):
    """Keras 3's schedule-free AdamW. At step ``t`` (learning rate warmed up linearly over
    ``warmup_steps``): ``v += (g**2 - v)(1 - beta_2)``;
    ``z -= lr * g / (sqrt(v / (1 - beta_2**t)) + epsilon)``;
    ``x = (y - (1 - beta_1) z_old) / beta_1``; ``x = (1 - 1/t) x + z / t``;
    ``y = (1 - beta_1) z + beta_1 x``. Weight decay (``weight_decay``) is decoupled, as in
    AdamW, and applied to ``y`` before the step.

    Args:
        learning_rate: a float or a `LearningRateSchedule` (default 0.0025).
        beta_1: the interpolation weight between ``x`` and ``z`` (0.9).
        beta_2: the second-moment decay rate (0.999).
        epsilon: added to the root of the second moment (1e-8).
        warmup_steps: steps of linear learning-rate warmup (0: none).
        The other arguments are those of every Keras optimizer.
    """

    def __init__(self, learning_rate: Any = 0.0025, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8, warmup_steps: int = 0,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        if not 0 < float(beta_1) <= 1:
            raise ValueError(f"ScheduleFreeAdamW: expected beta_1 in (0, 1], got {beta_1!r}")
        if int(warmup_steps) < 0:
            raise ValueError(f"ScheduleFreeAdamW: expected warmup_steps >= 0, got "
                             f"{warmup_steps!r}")
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.warmup_steps = int(warmup_steps)
        self._decays = (self.beta_2,)
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps,
                         name=name or "schedule_free_adam_w", **kwargs)

    def _slot_groups(self) -> list[tuple]:
        return [("momentum", "velocity")]

    def _slot_variable(self, variable: Any, name: str) -> Any:
        slot = super()._slot_variable(variable, name)
        if name == "momentum":
            slot._value[...] = variable._value  # z starts at the initial weights
        return slot

    def _update(self, var: Any, g: Any, slots: list, lr: float, step: int) -> None:
        if self.warmup_steps > 0:
            lr = lr * min(step / self.warmup_steps, 1.0)
        b1, w = self.beta_1, 1.0 / step
        _SCHEDULE_FREE([var, g, *slots], (1 - b1, 1 - self.beta_2, b1, 1 - self.beta_2 ** step,
                                          self.epsilon, lr, 1 - w, w), self._scratch_fn(var))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "warmup_steps": self.warmup_steps})
        return config
