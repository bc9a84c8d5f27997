"""`ZeroPadding1D`: zeros before and after the steps of `(batch, steps, channels)` inputs.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.ZeroPadding1D((1, 2))(np.ones((2, 3, 4), "float32")).shape
TensorShape([2, 6, 4])
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.reshaping.zero_padding2d import BaseZeroPadding


class ZeroPadding1D(BaseZeroPadding):
    """`padding`: an int or `(before, after)` (Keras 3 arguments)."""

    def __init__(self, padding: Any = 1, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(1, padding, data_format, **kwargs)
