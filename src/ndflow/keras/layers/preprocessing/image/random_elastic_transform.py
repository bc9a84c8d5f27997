"""`RandomElasticTransform`: displace pixels by a smooth random field.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> flat = np.full((2, 16, 16, 3), 7.0)  # a constant image stays constant
>>> bool(np.allclose(layers.RandomElasticTransform(seed=0)(flat).numpy(), 7.0))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.augment_kernels import (
    gaussian_blur, sample_points,
)
from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer, chance, keras_factor,
)

_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")


class RandomElasticTransform(BaseAugmentationLayer):
    """Random elastic distortion while training (Keras 3 arguments; Simard et al. 2003).
    With the probability rule of `RandomInvert` on `factor`, each image is resampled at
    `(x + alpha dx, y + alpha dy)` where `dx`, `dy` are standard normal fields times `sigma`,
    blurred by a Gaussian of width `sigma`; one `s` uniform in `scale`'s range per call gives
    `alpha = 0.1 s max(h, w)` and `sigma = 0.05 s min(h, w)`, as in Keras. Results are
    clipped to `value_range`. Segmentation masks follow (nearest); bounding boxes are
    refused, as in Keras.

    Args:
        factor: a number in [0, 1] or a (lower, upper) pair.
        scale: a number in [0, 1] (range (0, s)) or a pair.
        interpolation: "bilinear" or "nearest".
        fill_mode: "reflect", "mirror", "wrap", "constant" or "nearest"; fill_value.
        value_range, seed, data_format.
    """

    _geometric = True
    _supports_boxes = False

    def __init__(self, factor: Any = 1.0, scale: Any = 1.0, interpolation: str = "bilinear",
                 fill_mode: str = "reflect", fill_value: float = 0.0,
                 value_range: Any = (0, 255), seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor("RandomElasticTransform", "factor", factor, (0.0, 1.0))
        self.scale = keras_factor("RandomElasticTransform", "scale", scale, (0.0, 1.0))
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"RandomElasticTransform: expected interpolation 'bilinear' or "
                             f"'nearest', got interpolation={interpolation!r}")
        if fill_mode not in _MODES:
            raise ValueError(f"RandomElasticTransform: expected fill_mode in {_MODES}, got "
                             f"fill_mode={fill_mode!r}")
        self.interpolation = interpolation
        self.fill_mode = fill_mode
        self.fill_value = float(fill_value)
        self.value_range = tuple(float(v) for v in value_range)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> dict | None:
        if self.scale[1] == 0 or self.factor[1] == 0:
            return None
        apply = chance(rng, n, self.factor)
        s = rng.uniform(self.scale[0], self.scale[1])
        alpha, sigma = max(h, w) * 0.1 * s, min(h, w) * 0.05 * s
        k = int(6 * sigma) | 1
        field = (rng.standard_normal((n, h, w, 2)) * sigma).astype(np.float32)
        if sigma > 0:
            field = gaussian_blur(field, (k, k), (sigma, sigma))
        gy, gx = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64),
                             indexing="ij")
        sx = gx + alpha * field[..., 0]
        sy = gy + alpha * field[..., 1]
        keep = ~apply.reshape(-1, 1, 1)
        return {"sx": np.where(keep, gx, sx), "sy": np.where(keep, gy, sy)}

    def _sample(self, x: np.ndarray, p: dict | None, interpolation: str) -> np.ndarray:
        if p is None:
            return x
        return sample_points(x, p["sx"], p["sy"], interpolation, self.fill_mode,
                             self.fill_value)

    def augment_images(self, x: np.ndarray, p: dict | None) -> np.ndarray:
        return np.clip(self._sample(x, p, self.interpolation), self.value_range[0],
                       self.value_range[1])

    def augment_masks(self, masks: np.ndarray, p: dict | None) -> np.ndarray:
        return self._sample(masks.astype(np.float32), p, "nearest").astype(masks.dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"factor": list(self.factor), "scale": list(self.scale),
                       "interpolation": self.interpolation, "fill_mode": self.fill_mode,
                       "fill_value": self.fill_value, "value_range": list(self.value_range)})
        return config
