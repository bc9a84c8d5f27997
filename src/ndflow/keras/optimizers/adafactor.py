"""`Adafactor`: Adam-like steps with factored second moments (row and column averages).

>>> import ndflow as tf
>>> from ndflow.keras.optimizers import Adafactor
>>> v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
>>> opt = Adafactor(learning_rate=0.1)
>>> _ = opt.apply_gradients([(tf.constant([[0.1, 0.2], [0.3, 0.4]]), v)])
>>> [tuple(s.shape) for s in opt.variables[2:]]  # row sums, column sums, velocity
[(2,), (2,), (2, 2)]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ndflow.keras.optimizers.base_optimizer import Optimizer, _new_variable, _xp


class Adafactor(Optimizer):
    """Keras 3's Adafactor (Shazeer and Stern, 2018). At step ``t``:
    ``rho = min(lr, 1/sqrt(t))`` (with ``relative_step`` and a constant learning rate the
    learning rate itself is capped the same way); ``alpha = max(epsilon_2, rms(var)) * rho``;
    ``beta = 1 - t**beta_2_decay``; for a variable of rank >= 2 the second moment is factored:
    ``r = beta*r + (1-beta)*mean(g**2 + epsilon_1, -1)``,
    ``c = beta*c + (1-beta)*mean(g**2 + epsilon_1, -2)``, ``v = r/mean(r) (outer) c``; other
    variables keep ``v = beta*v + (1-beta)*(g**2 + epsilon_1)``. Then ``u = g/sqrt(v)``,
    ``var -= alpha * u / max(1, rms(u)/clip_threshold)``. As in Keras, a factored variable
    whose gradient has an all-zero row and an all-zero column at once gets ``v = 0`` there
    (float32 underflow of ``r * c``) and the update is NaN: use Adafactor where gradients do
    not vanish along both axes (e.g. no dead ReLU units fed by always-zero inputs).

    Args:
        learning_rate: a float or a `LearningRateSchedule` (default 0.001).
        beta_2_decay: the decay exponent of the second-moment rate (default -0.8).
        epsilon_1: added to squared gradients (default 1e-30).
        epsilon_2: the smallest parameter scale (default 1e-3).
        clip_threshold: clipping threshold of the update's RMS (default 1.0).
        relative_step: cap a constant learning rate at ``1/sqrt(t)`` (default True).
        The other arguments are those of every Keras optimizer.
    """

    def __init__(self, learning_rate: Any = 0.001, beta_2_decay: float = -0.8,
                 epsilon_1: float = 1e-30, epsilon_2: float = 1e-3,
                 clip_threshold: float = 1.0, relative_step: bool = True,
                 weight_decay: float | None = None, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        self.beta_2_decay = float(beta_2_decay)
        self.epsilon_1 = float(epsilon_1)
        self.epsilon_2 = float(epsilon_2)
        self.clip_threshold = float(clip_threshold)
        if not self.clip_threshold > 0:
            raise ValueError(f"Adafactor: expected clip_threshold > 0, got {clip_threshold!r}")
        self.relative_step = bool(relative_step)
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps,
                         name=name or "adafactor", **kwargs)

    def _slot_groups(self) -> list[tuple]:
        return [("r", "c", "velocity")]

    def _slot_variable(self, variable: Any, name: str) -> Any:
        if name == "velocity":
            return super()._slot_variable(variable, name)
        ref = variable._value
        label = getattr(variable, "_name", None) or "variable"
        if ref.ndim < 2:
            # Keras keeps a scalar int placeholder for the unfactored variables
            v = _new_variable(np.zeros((), np.int32), label)
            self._variables.append(v)
            return v
        shape = ref.shape[:-1] if name == "r" else ref.shape[:-2] + ref.shape[-1:]
        return self.add_variable(shape, dtype=ref.dtype, name=label)

    def _update(self, var: Any, g: Any, slots: list, lr: float, step: int) -> None:
        xp = _xp(var)
        t = var.dtype.type
        inv_sqrt_t = 1.0 / math.sqrt(step)
        if self._lr_var is not None and self.relative_step:
            lr = min(lr, inv_sqrt_t)
        rho = min(lr, inv_sqrt_t)
        alpha = max(self.epsilon_2, float(_rms(xp, var))) * rho
        beta = 1.0 - step ** self.beta_2_decay
        reg = g * g
        reg += t(self.epsilon_1)
        r, c, v = slots
        if var.ndim >= 2:
            r *= t(beta)
            r += t(1.0 - beta) * reg.mean(axis=-1)
            c *= t(beta)
            c += t(1.0 - beta) * reg.mean(axis=-2)
            v[...] = (r / r.mean(axis=-1, keepdims=True))[..., None] * c[..., None, :]
        else:
            v *= t(beta)
            reg *= t(1.0 - beta)
            v += reg
        u = g / xp.sqrt(v)
        # np.maximum, not max(): a NaN (a 0/0 above) spreads to the whole update, as in Keras
        scale = alpha / np.maximum(1.0, float(_rms(xp, u)) / self.clip_threshold)
        u *= t(scale)
        var -= u

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"beta_2_decay": self.beta_2_decay, "epsilon_1": self.epsilon_1,
                       "epsilon_2": self.epsilon_2, "clip_threshold": self.clip_threshold,
                       "relative_step": self.relative_step})
        return config


def _rms(xp: Any, x: Any) -> Any:
    return xp.sqrt(xp.mean(xp.square(x)))
