"""`UpSampling1D`: repeat each step `size` times.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.UpSampling1D(3)(np.ones((2, 4, 5), "float32")).shape
TensorShape([2, 12, 5])
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.reshaping.up_sampling2d import BaseUpSampling


class UpSampling1D(BaseUpSampling):
    """`size`: int repeat factor (Keras 3 arguments)."""

    def __init__(self, size: int = 2, **kwargs: Any) -> None:
        super().__init__(1, size, "channels_last", "nearest", **kwargs)
