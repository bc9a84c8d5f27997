"""`Masking`: mark timesteps whose features all equal `mask_value` as padding.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> x = np.array([[[1.0, 2.0], [0.0, 0.0], [3.0, 0.0]]], "float32")
>>> layers.Masking().compute_mask(x).numpy().tolist()
[[True, False, True]]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras.layers.layer import Layer
from ndflow.ops import math as m
from ndflow.ops.array import expand_dims
from ndflow.ops.reduce import reduce_any


class Masking(Layer):
    """Emit a mask (True = keep) for the timesteps (axis -2) where some feature differs from
    `mask_value`, and zero the masked timesteps. Downstream layers that support masking
    (e.g. RNNs, pooling, losses) skip them.

    >>> Masking(mask_value=-1.0).get_config()["mask_value"]
    -1.0
    """

    def __init__(self, mask_value: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)
        self.supports_masking = True
        self.built = True

    def compute_mask(self, inputs: Any, mask: Any = None) -> Tensor:
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        return reduce_any(m.not_equal(x, self.mask_value), axis=-1)

    def call(self, inputs: Tensor) -> Tensor:
        keep = self.compute_mask(inputs)
        return m.multiply(inputs, m.cast(expand_dims(keep, -1), inputs.dtype))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
