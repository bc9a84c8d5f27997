"""`MaxPooling3D`: 3-d max pooling (the maximum of each window).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.MaxPooling3D()(np.ones((2, 4, 4, 4, 3), "float32")).shape.as_list()
[2, 2, 2, 2, 3]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.pooling.base_pooling import BasePooling


class MaxPooling3D(BasePooling):
    """3-d max pooling layer (Keras 3 arguments and defaults; see `BasePooling`)."""

    def __init__(self, pool_size: Any = (2, 2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(pool_size, strides, 3, "max", padding, data_format, name=name,
                         **kwargs)
