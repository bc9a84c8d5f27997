"""`RandomFlip`: when training, flip each image left-right and/or up-down with probability
1/2.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> x = np.arange(4.0).reshape(1, 1, 4, 1)
>>> layers.RandomFlip("horizontal")(x).numpy().ravel().tolist()  # inference: unchanged
[0.0, 1.0, 2.0, 3.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.base_image_layer import (
    BaseImageLayer, is_keras_symbolic,
)
from ndflow.ops._util import shape_of
from ndflow.ops.array import reverse
from ndflow.ops.math import where

HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL = "horizontal", "vertical", "horizontal_and_vertical"


class RandomFlip(BaseImageLayer):
    """Random flips while training (Keras 3 arguments).

    Args:
        mode: "horizontal" (left-right), "vertical" (up-down) or "horizontal_and_vertical".
        seed: int seed.
    """

    def __init__(self, mode: str = HORIZONTAL_AND_VERTICAL, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in (HORIZONTAL, VERTICAL, HORIZONTAL_AND_VERTICAL):
            raise ValueError(f"RandomFlip: expected mode 'horizontal', 'vertical' or "
                             f"'horizontal_and_vertical', got mode={mode!r}")
        self.mode = mode

    def call(self, inputs: Any, training: Any = None) -> Any:
        if isinstance(inputs, dict):  # Keras's {"images", "bounding_boxes", ...} input
            from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
                augment_call,
            )
            from ndflow.keras.layers.preprocessing.image.host_ops import HostFlip

            return augment_call(self, HostFlip(self), inputs, bool(training))
        x = self._tensor(inputs)
        if not training or is_keras_symbolic(x):
            return x
        x4, single = self._nhwc(x)
        n = shape_of(x4)[0]
        axes = []
        if self.mode in (HORIZONTAL, HORIZONTAL_AND_VERTICAL):
            axes.append(2)
        if self.mode in (VERTICAL, HORIZONTAL_AND_VERTICAL):
            axes.append(1)
        for ax in axes:
            flip = self._sample(lambda rng: rng.random(n) < 0.5, (n, 1, 1, 1), np.bool_)
            x4 = where(flip, reverse(x4, [ax]), x4)
        return self._back(x4, single)

    def get_config(self) -> dict:
        config = super().get_config()
        config["mode"] = self.mode
        return config
