"""`AutoContrast`: stretch each image's channels to the full value range.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> x = np.array([[[[50.0], [100.0], [150.0]]]])
>>> layers.AutoContrast()(x).numpy().ravel().tolist()
[0.0, 127.5, 255.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.augment_kernels import to_range
from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer, value_range_arg,
)


class AutoContrast(BaseAugmentationLayer):
    """Per image and channel, map [min, max] linearly onto `value_range` (Keras 3 arguments;
    applied in training and inference, as in Keras). Constant channels are left as they are.

    Args:
        value_range: the (min, max) of the pixel values.
    """

    _random = False
    _inference_identity = False

    def __init__(self, value_range: Any = (0, 255), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.value_range = value_range_arg("AutoContrast", value_range)

    def augment_images(self, x: np.ndarray, p: Any) -> np.ndarray:
        y = to_range(x, self.value_range, (0, 255))
        lo = y.min(axis=(1, 2), keepdims=True)
        hi = y.max(axis=(1, 2), keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.float32(255.0) / (hi - lo)
            out = np.clip(y * scale - lo * scale, 0.0, 255.0)
        out = to_range(out, (0, 255), self.value_range)
        return np.where(np.isnan(out), x, out)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("seed", None)
        config["value_range"] = list(self.value_range)
        return config
