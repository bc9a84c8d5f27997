"""`RandomGrayscale`: turn images grey (kept with 3 channels) with probability `factor`.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> y = layers.RandomGrayscale(factor=1.0)(np.array([[[[255.0, 0.0, 0.0]]]]))
>>> [round(float(v), 2) for v in y.numpy().ravel()]
[76.22, 76.22, 76.22]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.augment_kernels import rgb_to_grayscale
from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer,
)


class RandomGrayscale(BaseAugmentationLayer):
    """Random greyscale conversion while training (Keras 3 arguments): each image becomes
    its luma `0.2989 R + 0.587 G + 0.114 B` on all channels with probability `factor`.

    Args:
        factor: the probability, in [0, 1].
        data_format, seed.
    """

    def __init__(self, factor: float = 0.5, data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not isinstance(factor, (int, float)) or not 0 <= factor <= 1:
            raise ValueError(f"RandomGrayscale: expected factor in [0, 1], got factor={factor!r}")
        self.factor = float(factor)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> np.ndarray:
        return rng.uniform(0, 1, n) < self.factor

    def augment_images(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        if x.shape[-1] != 3:
            raise ValueError(f"RandomGrayscale: expected 3 (RGB) channels, got {x.shape[-1]}")
        return np.where(p.reshape(-1, 1, 1, 1), rgb_to_grayscale(x), x)

    def get_config(self) -> dict:
        config = super().get_config()
        config["factor"] = self.factor
        return config
