"""`RandomPosterization`: keep only the top bits of each 8-bit pixel value.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> x = np.array([[[[0.0], [100.0], [255.0]]]])
>>> layers.RandomPosterization(factor=(2, 2))(x).numpy().ravel().tolist()
[0.0, 64.0, 192.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.augment_kernels import to_range
from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer, keras_factor, value_range_arg,
)


class RandomPosterization(BaseAugmentationLayer):
    """Random posterization while training (Keras 3 arguments): values are scaled to
    [0, 255], truncated to 8-bit integers and all but the top `bits` bits cleared. `bits` is
    drawn per image as an integer in `[lower, upper)` of `factor` (Keras's rule: `factor=f`
    means (1, f)); a pair with equal ends fixes it.

    Args:
        factor: a number in [1, 8] or a (lower, upper) pair.
        value_range: the (min, max) of the pixel values.
        data_format, seed.
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        lo, hi = keras_factor("RandomPosterization", "factor", factor, (1.0, 8.0))
        self.factor = (int(lo), int(hi))
        self.value_range = value_range_arg("RandomPosterization", value_range)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> np.ndarray:
        lo, hi = self.factor
        return np.full(n, lo) if lo == hi else rng.integers(lo, hi, n)

    def augment_images(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        shift = (8 - p).astype(np.uint8).reshape(-1, 1, 1, 1)
        v = to_range(x, self.value_range, (0, 255))
        v = np.trunc(v).astype(np.int64).astype(np.uint8)  # float -> uint8 as a C cast
        v = np.left_shift(np.right_shift(v, shift), shift)
        return to_range(v.astype(x.dtype), (0, 255), self.value_range)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"factor": list(self.factor), "value_range": list(self.value_range)})
        return config
