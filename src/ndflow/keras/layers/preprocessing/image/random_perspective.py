"""`RandomPerspective`: move the image corners at random and warp the image to follow.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.RandomPerspective(scale=0.5, seed=0)(np.ones((2, 8, 8, 3))).shape
TensorShape([2, 8, 8, 3])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.augment_kernels import homography
from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseHostWarp, chance, keras_factor,
)


class RandomPerspective(BaseHostWarp):
    """Random perspective warps while training (Keras 3 arguments). With the probability
    rule of `RandomInvert` on `factor`, each corner `(x, y)` of an image moves to
    `(x (1 + dx), y (1 + dy))`, `dx`, `dy` uniform in `[-scale / 2, scale / 2]` (so the top-left
    corner stays, as in Keras), and the image follows by a homography; points from outside
    take `fill_value`. Bounding boxes become the box around their mapped corners, clipped.

    Args:
        factor: a number in [0, 1] or a (lower, upper) pair.
        scale: the corner displacement scale, in [0, 1].
        interpolation: "bilinear" or "nearest"; fill_value.
        bounding_box_format, data_format, seed.
    """

    def __init__(self, factor: Any = 1.0, scale: float = 1.0, interpolation: str = "bilinear",
                 fill_value: float = 0.0, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        kwargs.pop("fill_mode", None)
        super().__init__(interpolation=interpolation, fill_mode="constant",
                         fill_value=fill_value, seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor("RandomPerspective", "factor", factor, (0.0, 1.0))
        if not isinstance(scale, (int, float)) or not 0 <= scale <= 1:
            raise ValueError(f"RandomPerspective: expected scale in [0, 1], got scale={scale!r}")
        self.scale = float(scale)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> dict:
        apply = chance(rng, n, self.factor)
        d = rng.uniform(-0.5 * self.scale, 0.5 * self.scale, (n, 4, 2))
        start = np.tile(np.array([[[0.0, 0.0], [w - 1, 0.0], [0.0, h - 1], [w - 1, h - 1]]]),
                        (n, 1, 1))
        return {"apply": apply, "start": start, "end": start + start * d}

    def matrices(self, p: dict, n: int, h: int, w: int) -> np.ndarray:
        mats = homography(p["start"], p["end"])
        ident = np.array([1.0, 0, 0, 0, 1.0, 0, 0, 0])
        return np.where(p["apply"][:, None], mats, ident)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("fill_mode", None)
        config.update({"factor": list(self.factor), "scale": self.scale,
                       "interpolation": self.interpolation, "fill_value": self.fill_value})
        return config
