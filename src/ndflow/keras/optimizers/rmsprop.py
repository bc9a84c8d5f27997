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

from ndflow.keras.optimizers.base_optimizer import ElementwiseUpdate, Optimizer


def _rule(momentum: bool, centered: bool) -> ElementwiseUpdate:
    lines = ["v = v * rho + g * g * one_minus_rho"]
    if centered:
        lines += ["a = a * rho + g * one_minus_rho",
                  "inc = g / sqrt(v - a * a + eps) * lr"]
    else:
        lines += ["inc = g / sqrt(v + eps) * lr"]
    lines += ["m = m * momentum + inc", "var = var - m"] if momentum else ["var = var - inc"]
    slots = ("v",) + (("m",) if momentum else ()) + (("a",) if centered else ())
    return ElementwiseUpdate("\n".join(lines), ("var", "g") + slots,
                             ("lr", "rho", "one_minus_rho", "eps", "momentum"))


# slots: velocity, then momentum (with momentum > 0), then average_gradient (centered)
_RULES = {(m, c): _rule(m, c) for m in (False, True) for c in (False, True)}


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
        rule = _RULES[(self.momentum > 0, self.centered)]
        rule([var, g, *slots], (lr, self.rho, 1.0 - self.rho, self.epsilon, self.momentum),
             self._scratch_fn(var))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                       "centered": self.centered})
        return config
