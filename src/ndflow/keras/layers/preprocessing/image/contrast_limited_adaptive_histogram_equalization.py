"""`ContrastLimitedAdaptiveHistogramEqualization` (CLAHE): local histogram equalisation on a
grid of tiles with a clipped histogram, blended between tiles.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> x = np.random.default_rng(0).uniform(0, 255, (1, 16, 16, 1))
>>> layers.ContrastLimitedAdaptiveHistogramEqualization(tile_grid_size=(2, 2))(x).shape
TensorShape([1, 16, 16, 1])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.augment_kernels import clahe, to_range
from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer, value_range_arg,
)


class ContrastLimitedAdaptiveHistogramEqualization(BaseAugmentationLayer):
    """CLAHE (Keras 3 arguments; applied in training and inference, as in Keras).

    Args:
        value_range: the (min, max) of the pixel values.
        clip_limit: histogram bins are clipped at `clip_limit * tile_pixels / 256` and the
            excess spread evenly over all bins (<= 0: no clipping).
        tile_grid_size: (rows, cols) of tiles; images are padded by reflection to a multiple.
        data_format: "channels_last" or "channels_first".
    """

    _random = False
    _inference_identity = False

    def __init__(self, value_range: Any = (0, 255), clip_limit: float = 4.0,
                 tile_grid_size: Any = (8, 8), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range_arg("ContrastLimitedAdaptiveHistogramEqualization",
                                           value_range)
        self.clip_limit = float(clip_limit)
        try:
            gh, gw = (int(v) for v in tile_grid_size)
        except (TypeError, ValueError):
            gh = gw = 0
        if gh < 1 or gw < 1:
            raise ValueError("ContrastLimitedAdaptiveHistogramEqualization: expected "
                             "tile_grid_size to be a pair of positive ints, got "
                             f"tile_grid_size={tile_grid_size!r}")
        self.tile_grid_size = (gh, gw)

    def augment_images(self, x: np.ndarray, p: Any) -> np.ndarray:
        y = to_range(x.astype(np.float32), self.value_range, (0, 255))
        y = clahe(y, self.clip_limit, self.tile_grid_size)
        return to_range(y, (0, 255), self.value_range)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("seed", None)
        config.update({"value_range": list(self.value_range), "clip_limit": self.clip_limit,
                       "tile_grid_size": list(self.tile_grid_size)})
        return config
