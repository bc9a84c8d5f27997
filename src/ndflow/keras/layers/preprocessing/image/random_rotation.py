"""`RandomRotation`: when training, rotate each image by a random angle about its centre.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.RandomRotation(0.1, seed=0)(np.ones((2, 8, 8, 3)), training=True).shape
TensorShape([2, 8, 8, 3])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.base_image_layer import (
    BaseRandomAffine, factor_range,
)


def rotation_matrices(angles: np.ndarray, h: int, w: int) -> np.ndarray:
    """(n, 8) transforms rotating images counter-clockwise by `angles` (radians) about the
    centre: each output pixel reads the input at the inverse rotation."""
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    c, s = np.cos(angles), np.sin(angles)
    n = len(angles)
    out = np.zeros((n, 8))
    # with y pointing down: x_in = c (x - cx) - s (y - cy) + cx, y_in = s (x - cx) + c (y - cy) + cy
    out[:, 0], out[:, 1] = c, -s
    out[:, 2] = cx - c * cx + s * cy
    out[:, 3], out[:, 4] = s, c
    out[:, 5] = cy - s * cx - c * cy
    return out


class RandomRotation(BaseRandomAffine):
    """Random rotations while training (Keras 3 arguments).

    Args:
        factor: a float `f` (angles in [-f, f]) or a pair (lower, upper), in fractions of a
            full turn (0.1 = up to 36 degrees); positive angles turn counter-clockwise.
        fill_mode: "reflect" (default), "wrap", "constant" or "nearest": how points outside
            the image are filled.
        interpolation: "bilinear" (default) or "nearest".
        seed, fill_value (for "constant"), data_format.
    """

    def __init__(self, factor: Any, fill_mode: str = "reflect", interpolation: str = "bilinear",
                 seed: int | None = None, fill_value: float = 0.0,
                 data_format: str | None = None, **kwargs: Any) -> None:
        kwargs.pop("value_range", None)
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = factor if isinstance(factor, (int, float)) else tuple(factor)
        self._range = factor_range("RandomRotation", "factor", factor)

    def _matrices(self, rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
        lo, hi = self._range
        return rotation_matrices(rng.uniform(lo, hi, n) * 2 * np.pi, h, w)

    def get_config(self) -> dict:
        config = super().get_config()
        config["factor"] = self.factor
        return config
