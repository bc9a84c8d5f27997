"""`AdamW`: Adam with decoupled weight decay (``weight_decay=0.004`` by default).

>>> from ndflow.keras.optimizers import AdamW
>>> AdamW().weight_decay
0.004
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.optimizers.adam import Adam


class AdamW(Adam):
    """Adam whose every step first shrinks each weight: ``var -= var * weight_decay * lr``."""

    def __init__(self, learning_rate: Any = 0.001, weight_decay: float = 0.004,
                 beta_1: float = 0.9, beta_2: float = 0.999, epsilon: float = 1e-07,
                 amsgrad: bool = False, clipnorm: float | None = None,
                 clipvalue: float | None = None, global_clipnorm: float | None = None,
                 use_ema: bool = False, ema_momentum: float = 0.99,
                 ema_overwrite_frequency: int | None = None,
                 loss_scale_factor: float | None = None,
                 gradient_accumulation_steps: int | None = None, name: str = "adamw",
                 **kwargs: Any) -> None:
        if weight_decay is None:
            raise ValueError("AdamW: expected a float weight_decay, got None; use Adam for no "
                             "weight decay")
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, weight_decay=weight_decay, clipnorm=clipnorm,
                         clipvalue=clipvalue, global_clipnorm=global_clipnorm, use_ema=use_ema,
                         ema_momentum=ema_momentum,
                         ema_overwrite_frequency=ema_overwrite_frequency,
                         loss_scale_factor=loss_scale_factor,
                         gradient_accumulation_steps=gradient_accumulation_steps, name=name,
                         **kwargs)
