"""`Cropping3D`: crop the borders of volumes `(batch, d1, d2, d3, channels)`.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.Cropping3D(1)(np.ones((1, 4, 4, 4, 3), "float32")).shape
TensorShape([1, 2, 2, 2, 3])
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.reshaping.cropping2d import BaseCropping


class Cropping3D(BaseCropping):
    """`cropping`: an int, 3 ints, or 3 (start, end) pairs (Keras 3 arguments)."""

    def __init__(self, cropping: Any = ((1, 1), (1, 1), (1, 1)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(3, cropping, data_format, **kwargs)
