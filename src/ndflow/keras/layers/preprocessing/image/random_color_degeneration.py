"""`RandomColorDegeneration`: blend each image towards its greyscale version.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> y = layers.RandomColorDegeneration((1.0, 1.0))(np.array([[[[255.0, 0.0, 0.0]]]]))
>>> [round(float(v), 2) for v in y.numpy().ravel()]
[76.22, 76.22, 76.22]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.augment_kernels import rgb_to_grayscale
from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer, keras_factor, value_range_arg,
)


class RandomColorDegeneration(BaseAugmentationLayer):
    """Random colour degeneration while training (Keras 3 arguments):
    `x + f * (grey(x) - x)`, `f` uniform in `factor`'s range per image, clipped to
    `value_range`.

    Args:
        factor: a number in [-1, 1] (range (-f, f)) or a (lower, upper) pair.
        value_range: the (min, max) of the pixel values.
        data_format, seed.
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor("RandomColorDegeneration", "factor", factor)
        self.value_range = value_range_arg("RandomColorDegeneration", value_range)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> np.ndarray:
        return rng.uniform(self.factor[0], self.factor[1], n)

    def augment_images(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        f = p.astype(x.dtype).reshape(-1, 1, 1, 1)
        y = x + f * (rgb_to_grayscale(x) - x)
        return np.clip(y, self.value_range[0], self.value_range[1])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"factor": list(self.factor), "value_range": list(self.value_range)})
        return config
