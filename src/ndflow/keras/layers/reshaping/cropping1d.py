"""`Cropping1D`: drop steps at the start and end of `(batch, steps, channels)` inputs.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.Cropping1D((1, 2))(np.ones((2, 6, 4), "float32")).shape
TensorShape([2, 3, 4])
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.reshaping.cropping2d import BaseCropping


class Cropping1D(BaseCropping):
    """`cropping`: an int or `(start, end)` (Keras 3 arguments)."""

    def __init__(self, cropping: Any = (1, 1), **kwargs: Any) -> None:
        super().__init__(1, cropping, "channels_last", **kwargs)
