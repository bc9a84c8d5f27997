"""`RandomTranslation`: when training, shift each image by a random offset.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.RandomTranslation(0.2, 0.2, seed=0)(np.ones((2, 8, 8, 3)), training=True).shape
TensorShape([2, 8, 8, 3])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.base_image_layer import (
    BaseRandomAffine, factor_range,
)


class RandomTranslation(BaseRandomAffine):
    """Random translations while training (Keras 3 arguments).

    Args:
        height_factor, width_factor: a float `f` (shift in [-f, f]) or (lower, upper), as
            fractions of the height/width; positive values move the image down/right.
        fill_mode, interpolation, seed, fill_value, data_format: as in RandomRotation.
    """

    def __init__(self, height_factor: Any, width_factor: Any, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = height_factor if isinstance(height_factor, (int, float)) else \
            tuple(height_factor)
        self.width_factor = width_factor if isinstance(width_factor, (int, float)) else \
            tuple(width_factor)
        self._h = factor_range("RandomTranslation", "height_factor", height_factor, -1.0, 1.0)
        self._w = factor_range("RandomTranslation", "width_factor", width_factor, -1.0, 1.0)

    def _matrices(self, rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
        dy = rng.uniform(self._h[0], self._h[1], n) * h
        dx = rng.uniform(self._w[0], self._w[1], n) * w
        out = np.zeros((n, 8))
        out[:, 0], out[:, 2] = 1.0, -dx
        out[:, 4], out[:, 5] = 1.0, -dy
        return out

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"height_factor": self.height_factor, "width_factor": self.width_factor})
        return config
