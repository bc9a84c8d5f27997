"""`RandomGaussianBlur`: blur images with a Gaussian kernel of random width.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> x = np.zeros((1, 5, 5, 1)); x[0, 2, 2] = 255.0
>>> y = layers.RandomGaussianBlur(factor=(1.0, 1.0), sigma=(1.0, 1.0))(x).numpy()
>>> bool(y[0, 2, 2, 0] < 255.0 and y[0, 1, 2, 0] > 0.0)
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.augment_kernels import gaussian_blur
from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer, chance, keras_factor,
)


def _kernel_size(k: Any) -> tuple:
    vals = (k, k) if isinstance(k, (int, float)) else tuple(k)
    if len(vals) != 2 or any(int(v) != v or int(v) % 2 == 0 or v < 1 for v in vals):
        raise ValueError(f"RandomGaussianBlur: expected kernel_size to be an odd int or a pair "
                         f"of odd ints, got kernel_size={k!r}")
    return (int(vals[0]), int(vals[1]))


class RandomGaussianBlur(BaseAugmentationLayer):
    """Random Gaussian blur while training (Keras 3 arguments). Each image is blurred with
    the probability rule of `RandomInvert` on `factor`; as in Keras, one pair of sigmas (x, y),
    each uniform in `sigma`'s range, serves the whole batch; zero padding at the borders;
    results clipped to `value_range`.

    Args:
        factor: a number in [0, 1] or a (lower, upper) pair (blur probability range).
        kernel_size: odd int or (x, y) pair of odd ints.
        sigma: a number in [0, 1] (range (0, s)) or a pair.
        value_range: the (min, max) of the pixel values.
        data_format, seed.
    """

    def __init__(self, factor: Any = 1.0, kernel_size: Any = 3, sigma: Any = 1.0,
                 value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor("RandomGaussianBlur", "factor", factor, (0.0, 1.0))
        self.kernel_size = _kernel_size(kernel_size)
        self.sigma = keras_factor("RandomGaussianBlur", "sigma", sigma, (0.0, 1.0))
        self.value_range = tuple(float(v) for v in value_range)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> dict:
        apply = chance(rng, n, self.factor)
        return {"apply": apply, "sigma": rng.uniform(self.sigma[0], self.sigma[1], 2) + 1e-6}

    def augment_images(self, x: np.ndarray, p: dict) -> np.ndarray:
        y = np.where(p["apply"].reshape(-1, 1, 1, 1),
                     gaussian_blur(x, self.kernel_size, tuple(p["sigma"])), x)
        return np.clip(y, self.value_range[0], self.value_range[1])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"factor": list(self.factor), "kernel_size": list(self.kernel_size),
                       "sigma": list(self.sigma), "value_range": list(self.value_range)})
        return config
