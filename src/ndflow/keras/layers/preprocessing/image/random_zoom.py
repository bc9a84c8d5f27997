"""`RandomZoom`: when training, zoom each image in or out about its centre by a random
factor.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.RandomZoom(0.2, seed=0)(np.ones((2, 8, 8, 3)), training=True).shape
TensorShape([2, 8, 8, 3])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.base_image_layer import (
    BaseRandomAffine, factor_range,
)


class RandomZoom(BaseRandomAffine):
    """Random zoom while training (Keras 3 arguments).

    Args:
        height_factor: a float `f` (zoom in [-f, f]) or (lower, upper), fractions of the
            height: positive values zoom out (the image gets smaller), negative zoom in.
        width_factor: the same for the width; None keeps the aspect ratio (the width zooms
            with the height).
        fill_mode, interpolation, seed, fill_value, data_format: as in RandomRotation.
    """

    def __init__(self, height_factor: Any, width_factor: Any = None, fill_mode: str = "reflect",
                 interpolation: str = "bilinear", seed: int | None = None,
                 fill_value: float = 0.0, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = height_factor if isinstance(height_factor, (int, float)) else \
            tuple(height_factor)
        self.width_factor = width_factor if width_factor is None or isinstance(
            width_factor, (int, float)) else tuple(width_factor)
        self._h = factor_range("RandomZoom", "height_factor", height_factor, -1.0)
        self._w = None if width_factor is None else factor_range(
            "RandomZoom", "width_factor", width_factor, -1.0)

    def _matrices(self, rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
        zy = 1.0 + rng.uniform(self._h[0], self._h[1], n)
        zx = zy if self._w is None else 1.0 + rng.uniform(self._w[0], self._w[1], n)
        cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
        out = np.zeros((n, 8))
        out[:, 0], out[:, 2] = zx, cx - zx * cx
        out[:, 4], out[:, 5] = zy, cy - zy * cy
        return out

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"height_factor": self.height_factor, "width_factor": self.width_factor})
        return config
