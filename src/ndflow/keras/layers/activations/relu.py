"""`ReLU` layer: `relu` with optional saturation, leak and threshold.

>>> from ndflow.keras import layers
>>> layers.ReLU(max_value=1.0)([-1.0, 0.5, 3.0]).numpy().tolist()
[0.0, 0.5, 1.0]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras import activations
from ndflow.keras.layers.layer import Layer


class ReLU(Layer):
    """`max_value` above it, `x` for `threshold <= x < max_value`, and
    `negative_slope * (x - threshold)` below the threshold.

    >>> ReLU(negative_slope=0.5)([-2.0]).numpy().tolist()
    [-1.0]
    """

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for nm, v in (("max_value", max_value), ("negative_slope", negative_slope),
                      ("threshold", threshold)):
            if v is not None and float(v) < 0:
                raise ValueError(f"ReLU: expected {nm} >= 0, got {nm}={v!r}")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope = float(negative_slope)
        self.threshold = float(threshold)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Any) -> Any:
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config
