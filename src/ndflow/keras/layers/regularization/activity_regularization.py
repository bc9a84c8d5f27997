"""`ActivityRegularization`: add `l1 * sum(|x|) + l2 * sum(x**2)` of its inputs (divided by
the batch size) to the model's losses; the inputs pass through unchanged.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layer = layers.ActivityRegularization(l1=0.5)
>>> _ = layer(np.array([[1.0, -1.0]], "float32"))
>>> [float(v) for v in layer.losses]
[1.0]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.layer import Layer
from ndflow.keras.regularizers import L1L2


class ActivityRegularization(Layer):
    """Identity layer that penalises its activations with L1/L2 terms.

    >>> ActivityRegularization(l2=0.1).get_config()["l2"]
    0.1
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any) -> None:
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = float(l1)
        self.l2 = float(l2)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Any) -> Any:
        return inputs

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update({"l1": self.l1, "l2": self.l2})
        return config
