"""`ELU` layer: `x` for `x > 0`, `alpha * (exp(x) - 1)` otherwise.

>>> from ndflow.keras import layers
>>> [round(v, 4) for v in layers.ELU()([-1.0, 2.0]).numpy().tolist()]
[-0.6321, 2.0]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras import activations
from ndflow.keras.layers.layer import Layer


class ELU(Layer):
    """Exponential linear unit with scale `alpha` for negative inputs.

    >>> ELU(alpha=0.5).get_config()["alpha"]
    0.5
    """

    def __init__(self, alpha: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.alpha = float(alpha)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Any) -> Any:
        return activations.elu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config["alpha"] = self.alpha
        return config
