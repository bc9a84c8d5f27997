"""`RandomInvert`: replace pixels `v` by `value_range[1] - v`, image by image at random.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.RandomInvert(factor=(1.0, 1.0))(np.array([[[[0.0], [55.0]]]])).numpy().ravel().tolist()
[255.0, 200.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer, chance, keras_factor, value_range_arg,
)


class RandomInvert(BaseAugmentationLayer):
    """Random inversion while training (Keras 3 arguments). As in Keras, each image is
    inverted when a uniform draw falls below a probability itself drawn uniformly from
    `factor`'s range: `factor=f` gives (0, f) (so `factor=1.0` inverts half of the images);
    `factor=(1.0, 1.0)` inverts all.

    Args:
        factor: a number in [0, 1] or a (lower, upper) pair.
        value_range: the (min, max) of the pixel values.
        seed: int seed.
    """

    def __init__(self, factor: Any = 1.0, value_range: Any = (0, 255), seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor("RandomInvert", "factor", factor, (0.0, 1.0))
        self.value_range = value_range_arg("RandomInvert", value_range)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> np.ndarray:
        return chance(rng, n, self.factor)

    def augment_images(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.where(p.reshape(-1, 1, 1, 1), np.asarray(self.value_range[1], x.dtype) - x, x)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"factor": list(self.factor), "value_range": list(self.value_range)})
        return config
