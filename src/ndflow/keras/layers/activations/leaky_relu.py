"""`LeakyReLU` layer: `x` for `x >= 0`, `negative_slope * x` otherwise (default 0.3).

>>> from ndflow.keras import layers
>>> [round(v, 4) for v in layers.LeakyReLU()([-1.0, 2.0]).numpy().tolist()]
[-0.3, 2.0]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras import activations
from ndflow.keras.layers.layer import Layer


class LeakyReLU(Layer):
    """Leaky rectifier with slope `negative_slope` below zero (`alpha` is the Keras 2 name).

    >>> LeakyReLU(negative_slope=0.1).get_config()["negative_slope"]
    0.1
    """

    def __init__(self, negative_slope: float = 0.3, **kwargs: Any) -> None:
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        if negative_slope is None or float(negative_slope) < 0:
            raise ValueError(f"LeakyReLU: expected negative_slope >= 0, got "
                             f"negative_slope={negative_slope!r}")
        self.negative_slope = float(negative_slope)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Any) -> Any:
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config
