"""`RandomSaturation`: scale the saturation of each image by a random factor.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> y = layers.RandomSaturation((0.0, 0.0))(np.array([[[[200.0, 100.0, 50.0]]]]))
>>> y.numpy().ravel().tolist()  # factor 0: no saturation, a grey of the same value
[200.0, 200.0, 200.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.augment_kernels import hsv_to_rgb, rgb_to_hsv
from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer, keras_factor, value_range_arg,
)


class RandomSaturation(BaseAugmentationLayer):
    """Random saturation while training (Keras 3 arguments): with `u` uniform in `factor`'s
    range, the HSV saturation is multiplied by `u / (1 - u)` (0 -> grey, 0.5 -> unchanged,
    1 -> fully saturated), then clipped to `value_range` as Keras does.

    Args:
        factor: a number in [-1, 1] (range (-f, f)) or a (lower, upper) pair.
        value_range: the (min, max) of the pixel values.
        data_format, seed.
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor("RandomSaturation", "factor", factor)
        self.value_range = value_range_arg("RandomSaturation", value_range)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> np.ndarray:
        u = rng.uniform(self.factor[0], self.factor[1], n)
        return u / (1 - u + 1e-7)

    def augment_images(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        hsv = rgb_to_hsv(x)
        s = hsv[..., 1] * p.astype(x.dtype).reshape(-1, 1, 1)
        hsv[..., 1] = np.clip(s, self.value_range[0], self.value_range[1])
        return hsv_to_rgb(hsv)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"factor": list(self.factor), "value_range": list(self.value_range)})
        return config
