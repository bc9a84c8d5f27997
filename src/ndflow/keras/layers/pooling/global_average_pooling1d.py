"""`GlobalAveragePooling1D`: global average pooling over the 1 spatial dim(s).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.GlobalAveragePooling1D()(np.ones((2, 6, 3), "float32")).shape.as_list()
[2, 3]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.pooling.base_global_pooling import BaseGlobalPooling


class GlobalAveragePooling1D(BaseGlobalPooling):
    """Global average pooling (Keras 3 arguments; see `BaseGlobalPooling`).
    With a mask (e.g. from `Embedding(mask_zero=True)`), averages only the unmasked steps."""

    def __init__(self, data_format: str | None = None, keepdims: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(1, "average", data_format, keepdims, **kwargs)
