"""`AveragePooling2D`: 2-d average pooling (the average of each window).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.AveragePooling2D()(np.ones((2, 6, 6, 3), "float32")).shape.as_list()
[2, 3, 3, 3]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.pooling.base_pooling import BasePooling


class AveragePooling2D(BasePooling):
    """2-d average pooling layer (Keras 3 arguments and defaults; see `BasePooling`)."""

    def __init__(self, pool_size: Any = (2, 2), strides: Any = None, padding: str = "valid",
                 data_format: str | None = None, name: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(pool_size, strides, 2, "average", padding, data_format, name=name,
                         **kwargs)
