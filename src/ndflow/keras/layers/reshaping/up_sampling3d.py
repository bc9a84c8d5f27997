"""`UpSampling3D`: repeat voxels along the three spatial dims.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.UpSampling3D(2)(np.ones((1, 2, 2, 2, 3), "float32")).shape
TensorShape([1, 4, 4, 4, 3])
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.reshaping.up_sampling2d import BaseUpSampling


class UpSampling3D(BaseUpSampling):
    """`size`: int or 3 ints (Keras 3 arguments)."""

    def __init__(self, size: Any = (2, 2, 2), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(3, size, data_format, "nearest", **kwargs)
