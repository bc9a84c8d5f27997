"""`Equalization`: histogram equalisation of each channel.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> x = np.array([[[[0.0], [0.0], [10.0], [20.0]]]])
>>> layers.Equalization()(x).numpy().ravel().tolist()
[0.0, 0.0, 128.0, 255.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.augment_kernels import equalize
from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer, value_range_arg,
)


class Equalization(BaseAugmentationLayer):
    """Histogram equalisation (Keras 3 arguments): each channel's values are mapped through
    the normalised cumulative histogram of `bins` bins. As in Keras, the histogram of a channel
    is taken over the whole batch, and the layer is the identity when `training=False`.

    Args:
        value_range: the (min, max) of the pixel values.
        bins: the number of histogram bins.
        data_format: "channels_last" or "channels_first".
    """

    _random = False

    def __init__(self, value_range: Any = (0, 255), bins: int = 256,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format=data_format, **kwargs)
        if int(bins) < 2:
            raise ValueError(f"Equalization: expected bins >= 2, got bins={bins!r}")
        self.bins = int(bins)
        self.value_range = value_range_arg("Equalization", value_range)

    def augment_images(self, x: np.ndarray, p: Any) -> np.ndarray:
        return equalize(x, self.value_range, self.bins)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("seed", None)
        config.update({"bins": self.bins, "value_range": list(self.value_range)})
        return config
