"""`Muon`: momentum steps orthogonalized by a Newton-Schulz iteration for 2-D weights, AdamW for
the rest.

>>> import ndflow as tf
>>> from ndflow.keras import layers
>>> from ndflow.keras.optimizers import Muon
>>> dense = layers.Dense(3)
>>> dense.build((None, 4))
>>> opt = Muon()
>>> opt.build(dense.trainable_variables)
>>> [v.path.split("/")[-1] for v in opt.variables[2:]]  # no velocity for the 2-D kernel
['dense_kernel_momentum', 'dense_bias_momentum', 'dense_bias_velocity']
"""

from __future__ import annotations

import math
import re
from typing import Any

from ndflow.keras.optimizers.base_optimizer import Optimizer, _var_label, _xp


class Muon(Optimizer):
    """Keras 3's Muon. A variable uses the AdamW step (learning rate ``lr * adam_lr_ratio``,
    decay ``adam_weight_decay``) when it is not 2-D, when ``exclude_embeddings`` and its path
    contains "embedding", or when its path matches a regex of ``exclude_layers``. The others
    use the Muon step: ``m = momentum * m + g``; ``u = g + momentum * m`` (Nesterov) or ``m``;
    ``var -= lr * NS5(u) * sqrt(max(rows, cols)) * rms_rate`` (no ``rms_rate`` factor when it is
    None), where NS5 is ``ns_steps`` quintic Newton-Schulz iterations with coefficients
    ``(muon_a, muon_b, muon_c)`` on ``u / (||u||_F + 1e-7)``, approximately ``U V^T`` of its
    SVD; decay ``weight_decay``.

    Args:
        learning_rate: a float or a `LearningRateSchedule` (default 0.001).
        adam_beta_1, adam_beta_2, epsilon: the AdamW step's settings (0.9, 0.999, 1e-7).
        adam_weight_decay: the AdamW variables' weight decay (0.004).
        weight_decay: the Muon variables' weight decay (0.004).
        exclude_layers: regexes of variable paths that use AdamW.
        exclude_embeddings: embeddings use AdamW (True).
        muon_a, muon_b, muon_c: Newton-Schulz coefficients (3.4445, -4.7750, 2.0315).
        adam_lr_ratio: the AdamW learning rate relative to ``learning_rate`` (1).
        momentum: the Muon momentum (0.95); nesterov: Nesterov momentum (True).
        ns_steps: Newton-Schulz iterations (5).
        rms_rate: update scale of the Moonlight variant (0.2; None: off).
        The other arguments are those of every Keras optimizer.
    """

    def __init__(self, learning_rate: Any = 0.001, adam_beta_1: float = 0.9,
                 adam_beta_2: float = 0.999, adam_weight_decay: float | None = 0.004,
                 epsilon: float = 1e-7, weight_decay: float | None = 0.004,
                 clipnorm: float | None = None, clipvalue: float | None = None,
                 global_clipnorm: float | None = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str | None = None,
                 exclude_layers: list | None = None, exclude_embeddings: bool = True,
                 muon_a: float = 3.4445, muon_b: float = -4.7750, muon_c: float = 2.0315,
                 adam_lr_ratio: float = 1, momentum: float = 0.95, ns_steps: int = 5,
                 nesterov: bool = True, rms_rate: float | None = 0.2, **kwargs: Any) -> None:
        if int(ns_steps) < 0:
            raise ValueError(f"Muon: expected ns_steps >= 0, got {ns_steps!r}")
        if exclude_layers is not None and not isinstance(exclude_layers, (list, tuple)):
            raise ValueError(f"Muon: expected exclude_layers to be a list of regex strings, got "
                             f"{exclude_layers!r}")
        self.adam_beta_1 = float(adam_beta_1)
        self.adam_beta_2 = float(adam_beta_2)
        self.epsilon = float(epsilon)
        self.muon_a = float(muon_a)
        self.muon_b = float(muon_b)
        self.muon_c = float(muon_c)
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = float(momentum)
        self.ns_steps = int(ns_steps)
        self.nesterov = bool(nesterov)
        self.exclude_embeddings = bool(exclude_embeddings)
        self.exclude_layers = list(exclude_layers or [])
        self.adam_weight_decay = None if adam_weight_decay is None else float(adam_weight_decay)
        self.rms_rate = None if rms_rate is None else float(rms_rate)
        self._decays = (self.adam_beta_1, self.adam_beta_2, self.momentum)
        super().__init__(learning_rate, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps,
                         name=name or "muon", **kwargs)

    def _should_use_adamw(self, variable: Any) -> bool:
        if variable._value.ndim != 2:
            return True
        path = _var_label(variable)
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(k, path) for k in self.exclude_layers)

    def _slot_groups(self) -> list[tuple]:
        return [("momentum", "velocity")]

    def _slot_variable(self, variable: Any, name: str) -> Any:
        if name == "velocity" and not self._should_use_adamw(variable):
            return None
        return super()._slot_variable(variable, name)

    def _apply_weight_decay(self, variables: list, lr: float) -> None:
        for v in variables:
            if not self._use_weight_decay(v):
                continue
            wd = self.adam_weight_decay if self._should_use_adamw(v) else self.weight_decay
            if wd:
                arr = v._value
                arr *= arr.dtype.type(1.0 - lr * wd)

    def _update(self, var: Any, g: Any, slots: list, lr: float, step: int) -> None:
        xp = _xp(var)
        t = var.dtype.type
        if len(slots) == 2:  # AdamW step (Keras's Adam form: epsilon outside the root)
            m, v = slots
            b1, b2 = self.adam_beta_1, self.adam_beta_2
            lr = lr * self.adam_lr_ratio
            alpha = lr * math.sqrt(1 - b2 ** step) / (1 - b1 ** step)
            m += (g - m) * t(1 - b1)
            v += (g * g - v) * t(1 - b2)
            var -= (m * t(alpha)) / (xp.sqrt(v) + t(self.epsilon))
            return
        m = slots[0]
        m *= t(self.momentum)
        m += g
        u = g + t(self.momentum) * m if self.nesterov else m
        update = self._newton_schulz(xp, u) * t(lr)
        if self.rms_rate is not None:
            update *= t(math.sqrt(max(var.shape[0], var.shape[1])) * self.rms_rate)
        var -= update

    def _newton_schulz(self, xp: Any, x: Any) -> Any:
        t = x.dtype.type
        a, b, c = t(self.muon_a), t(self.muon_b), t(self.muon_c)
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = x.T
        x = x / (xp.sqrt(xp.sum(x * x)) + t(1e-7))
        for _ in range(self.ns_steps):
            s = x @ x.T
            x = a * x + (b * s + c * (s @ s)) @ x
        return x.T if tall else x

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"adam_beta_1": self.adam_beta_1, "adam_beta_2": self.adam_beta_2,
                       "epsilon": self.epsilon, "exclude_layers": list(self.exclude_layers),
                       "muon_a": self.muon_a, "muon_b": self.muon_b, "muon_c": self.muon_c,
                       "adam_lr_ratio": self.adam_lr_ratio, "momentum": self.momentum,
                       "ns_steps": self.ns_steps, "nesterov": self.nesterov,
                       "exclude_embeddings": self.exclude_embeddings,
                       "adam_weight_decay": self.adam_weight_decay,
                       "rms_rate": self.rms_rate})
        return config
