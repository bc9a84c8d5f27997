"""`RandomHue`: rotate the hue of each image by a random amount.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> grey = np.full((1, 2, 2, 3), 90.0)
>>> bool(np.allclose(layers.RandomHue(0.5, seed=1)(grey).numpy(), grey, atol=1e-3))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.augment_kernels import (
    hsv_to_rgb, rgb_to_hsv, to_range,
)
from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer, keras_factor,
)


class RandomHue(BaseAugmentationLayer):
    """Random hue shifts while training (Keras 3 arguments): the hue (in turns) moves by
    `± u / 2`, `u` uniform in `factor`'s range (Keras's rule: `factor=f` means (0, f)), the
    sign at random, one shift per image. Greys stay grey; saturation and value are kept.

    Args:
        factor: a number in [0, 1] or a (lower, upper) pair.
        value_range: the (min, max) of the pixel values.
        data_format, seed.
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor("RandomHue", "factor", factor, (0.0, 1.0))
        self.value_range = tuple(float(v) for v in value_range)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> np.ndarray:
        sign = np.where(rng.uniform(0, 1, n) > 0.5, -1.0, 1.0)
        return sign * rng.uniform(self.factor[0], self.factor[1], n) * 0.5

    def augment_images(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        hsv = rgb_to_hsv(to_range(x, self.value_range, (0, 1)))
        hue = hsv[..., 0] + p.astype(x.dtype).reshape(-1, 1, 1)
        hue = np.where(hue > 1.0, hue - 1.0, hue)
        hsv[..., 0] = np.where(hue < 0.0, hue + 1.0, hue)
        return to_range(np.clip(hsv_to_rgb(hsv), 0, 1), (0, 1), self.value_range)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"factor": list(self.factor), "value_range": list(self.value_range)})
        return config
