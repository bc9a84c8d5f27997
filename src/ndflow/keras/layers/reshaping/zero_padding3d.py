"""`ZeroPadding3D`: zeros at the borders of volumes `(batch, d1, d2, d3, channels)`.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.ZeroPadding3D(1)(np.ones((1, 2, 2, 2, 3), "float32")).shape
TensorShape([1, 4, 4, 4, 3])
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.reshaping.zero_padding2d import BaseZeroPadding


class ZeroPadding3D(BaseZeroPadding):
    """`padding`: an int, 3 ints, or 3 (before, after) pairs (Keras 3 arguments)."""

    def __init__(self, padding: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(3, padding, data_format, **kwargs)
