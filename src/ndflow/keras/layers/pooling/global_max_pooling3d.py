"""`GlobalMaxPooling3D`: global max pooling over the 3 spatial dim(s).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.GlobalMaxPooling3D()(np.ones((2, 4, 4, 4, 3), "float32")).shape.as_list()
[2, 3]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.pooling.base_global_pooling import BaseGlobalPooling


class GlobalMaxPooling3D(BaseGlobalPooling):
    """Global max pooling (Keras 3 arguments; see `BaseGlobalPooling`)."""

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(3, "max", data_format, keepdims, **kwargs)
