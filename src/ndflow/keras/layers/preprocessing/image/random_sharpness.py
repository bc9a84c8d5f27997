"""`RandomSharpness`: sharpen or soften each image by a random amount.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> flat = np.full((1, 4, 4, 3), 80.0)
>>> float(layers.RandomSharpness(0.5, seed=0)(flat).numpy()[0, 1:3, 1:3].std())
0.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.augment_kernels import filter2d
from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer, keras_factor, value_range_arg,
)


class RandomSharpness(BaseAugmentationLayer):
    """Random sharpness while training (Keras 3 arguments): with `s = 2 u`, `u` uniform in
    `factor`'s range per image (Keras's rule: `factor=f` means (0, f)), the output is
    `x + (1 - s) * (smooth(x) - x)`: s < 1 blurs, s > 1 sharpens. `smooth` is the 3x3 filter
    [[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13 with zero padding; results are clipped to
    `value_range`.

    Args:
        factor: a number in [0, 1] or a (lower, upper) pair.
        value_range: the (min, max) of the pixel values.
        data_format, seed.
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor("RandomSharpness", "factor", factor, (0.0, 1.0))
        self.value_range = value_range_arg("RandomSharpness", value_range)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> np.ndarray:
        return rng.uniform(self.factor[0], self.factor[1], n)

    def augment_images(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        s = (p * 2).astype(x.dtype).reshape(-1, 1, 1, 1)
        k = np.full((3, 3), 1.0 / 13.0, x.dtype)
        k[1, 1] = 5.0 / 13.0
        y = x + (1 - s) * (filter2d(x, k) - x)
        return np.clip(y, self.value_range[0], self.value_range[1])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"factor": list(self.factor), "value_range": list(self.value_range)})
        return config
