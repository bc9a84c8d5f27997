"""`RandomErasing`: overwrite a random rectangle of each image.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> y = layers.RandomErasing(factor=(1.0, 1.0), fill_value=0.0, seed=0)(np.ones((1, 8, 8, 1)))
>>> bool(0 < (y.numpy() == 0).mean() < 1)
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer, chance, keras_factor, value_range_arg,
)


def rect_masks(x0: np.ndarray, x1: np.ndarray, y0: np.ndarray, y1: np.ndarray, h: int,
               w: int) -> np.ndarray:
    """(N, H, W, 1) masks of the pixels with x0 <= x < x1 and y0 <= y < y1."""
    gy, gx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    col = lambda v: v.reshape(-1, 1, 1)  # noqa: E731
    m = (gx >= col(x0)) & (gx < col(x1)) & (gy >= col(y0)) & (gy < col(y1))
    return m[..., None]


class RandomErasing(BaseAugmentationLayer):
    """Random erasing while training (Keras 3 arguments). With the probability rule of
    `RandomInvert` on `factor`, a rectangle whose width and height fractions are
    `sqrt(u1)`, `sqrt(u2)` (`u` uniform in `scale`, so its area fraction lies in `scale`) is
    filled with `fill_value`, or, when None, Gaussian noise times `value_range[1]`, clipped
    to `value_range`.

    Args:
        factor: a number in [0, 1] or a (lower, upper) pair.
        scale: (min, max) area fraction, within [0, 1].
        fill_value: None, a number, or 3 per-channel numbers.
        value_range: the (min, max) of the pixel values.
        seed, data_format.
    """

    def __init__(self, factor: Any = 1.0, scale: Any = (0.02, 0.33), fill_value: Any = None,
                 value_range: Any = (0, 255), seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor("RandomErasing", "factor", factor, (0.0, 1.0))
        self.scale = keras_factor("RandomErasing", "scale", scale, (0.0, 1.0))
        if fill_value is not None and not isinstance(fill_value, (int, float)) and len(
                tuple(fill_value)) != 3:
            raise ValueError(f"RandomErasing: expected fill_value None, a number or 3 numbers, "
                             f"got fill_value={fill_value!r}")
        self.fill_value = fill_value if fill_value is None or isinstance(
            fill_value, (int, float)) else [float(v) for v in fill_value]
        self.value_range = value_range_arg("RandomErasing", value_range)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> dict:
        frac = np.sqrt(rng.uniform(self.scale[0], self.scale[1], (n, 2)))
        cw, ch = frac[:, 0] * w, frac[:, 1] * h
        x0 = rng.uniform(0, 1, n) * (w - cw)
        y0 = rng.uniform(0, 1, n) * (h - ch)
        p = {"mask": rect_masks(x0, x0 + cw, y0, y0 + ch, h, w),
             "apply": chance(rng, n, self.factor)}
        if self.fill_value is None:
            p["noise"] = rng.standard_normal((n, h, w, c)) * self.value_range[1]
        return p

    def augment_images(self, x: np.ndarray, p: dict) -> np.ndarray:
        fill = p["noise"] if self.fill_value is None else np.broadcast_to(
            np.asarray(self.fill_value, np.float64), x.shape)
        fill = np.clip(fill, self.value_range[0], self.value_range[1]).astype(x.dtype)
        erased = np.where(p["mask"], fill, x)
        return np.where(p["apply"].reshape(-1, 1, 1, 1), erased, x)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"factor": list(self.factor), "scale": list(self.scale),
                       "fill_value": self.fill_value, "value_range": list(self.value_range)})
        return config
