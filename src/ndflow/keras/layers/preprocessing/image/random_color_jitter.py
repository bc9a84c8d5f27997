"""`RandomColorJitter`: random brightness, contrast, saturation and hue, in that order.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> jitter = layers.RandomColorJitter(brightness_factor=0.2, hue_factor=0.1, seed=0)
>>> jitter(np.full((2, 4, 4, 3), 100.0)).shape
TensorShape([2, 4, 4, 3])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer,
)
from ndflow.keras.layers.preprocessing.image.host_ops import host_op


class RandomColorJitter(BaseAugmentationLayer):
    """Random colour jitter while training (Keras 3 arguments): applies `RandomBrightness`,
    `RandomContrast`, `RandomSaturation` and `RandomHue` (each only when its factor is given)
    with their own rules and `value_range`.

    Args:
        value_range: the (min, max) of the pixel values.
        brightness_factor, contrast_factor, saturation_factor, hue_factor: the factors of the
            four layers, or None to skip one.
        seed, data_format.
    """

    def __init__(self, value_range: Any = (0, 255), brightness_factor: Any = None,
                 contrast_factor: Any = None, saturation_factor: Any = None,
                 hue_factor: Any = None, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        from ndflow.keras import layers

        self.value_range = tuple(float(v) for v in value_range)
        self.brightness_factor = brightness_factor
        self.contrast_factor = contrast_factor
        self.saturation_factor = saturation_factor
        self.hue_factor = hue_factor
        vr = self.value_range
        steps = []
        if brightness_factor is not None:
            steps.append(layers.RandomBrightness(brightness_factor, value_range=vr))
        if contrast_factor is not None:
            steps.append(layers.RandomContrast(contrast_factor, value_range=vr))
        if saturation_factor is not None:
            steps.append(layers.RandomSaturation(saturation_factor, value_range=vr))
        if hue_factor is not None:
            steps.append(layers.RandomHue(hue_factor, value_range=vr))
        self._steps = [host_op(s) for s in steps]

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> list:
        return [s.draw(rng, n, h, w, c) for s in self._steps]

    def augment_images(self, x: np.ndarray, p: list) -> np.ndarray:
        for step, q in zip(self._steps, p):
            x = step.augment_images(x, q).astype(x.dtype)
        return x

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"value_range": list(self.value_range),
                       "brightness_factor": self.brightness_factor,
                       "contrast_factor": self.contrast_factor,
                       "saturation_factor": self.saturation_factor,
                       "hue_factor": self.hue_factor})
        return config
