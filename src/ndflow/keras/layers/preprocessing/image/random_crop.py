"""`RandomCrop`: when training, a random `height x width` window (one offset per image); at
inference, the centre crop (aspect-preserving resize for small images).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.RandomCrop(3, 3, seed=1)(np.ones((2, 5, 5, 1)), training=True).shape
TensorShape([2, 3, 3, 1])
"""

from __future__ import annotations

from typing import Any

from ndflow.backend.devices import get_array_module
from ndflow.core.tensor import Tensor
from ndflow.keras.layers.preprocessing.image.base_image_layer import BaseImageLayer
from ndflow.keras.layers.preprocessing.image.center_crop import center_crop
from ndflow.keras.layers.preprocessing.image.resizing import smart_resize
from ndflow.ops.array import transpose


class RandomCrop(BaseImageLayer):
    """Random crops to `(height, width)` while training (Keras 3 arguments)."""

    def __init__(self, height: int, width: int, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height, self.width = int(height), int(width)

    def call(self, inputs: Any, training: Any = None) -> Tensor:
        x = self._tensor(inputs)
        if x._symbolic:
            return self._symbolic(x)
        nd = len(x.shape)
        cf = self.data_format == "channels_first"
        if cf:
            x = transpose(x, (0, 2, 3, 1) if nd == 4 else (1, 2, 0))
        h, w = x.shape[nd - 3], x.shape[nd - 2]
        if not training:
            y = center_crop(x, self.height, self.width)
        elif h < self.height or w < self.width:
            y = smart_resize(x, self.height, self.width, crop_to_aspect_ratio=True)
        else:
            a = x._value
            xp = get_array_module(a)
            rng = self.seed_generator.next_rng()
            single = nd == 3
            a4 = a[None] if single else a
            n = a4.shape[0]
            tops = rng.integers(0, h - self.height + 1, n)
            lefts = rng.integers(0, w - self.width + 1, n)
            rows = xp.asarray(tops)[:, None] + xp.arange(self.height)[None]
            cols = xp.asarray(lefts)[:, None] + xp.arange(self.width)[None]
            out = a4[xp.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]
            y = Tensor(out[0] if single else out)
        if cf:
            y = transpose(y, (0, 3, 1, 2) if nd == 4 else (2, 0, 1))
        return y

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = list(input_shape)
        hx, wx = self._hw_axes(len(shape))
        shape[hx], shape[wx] = self.height, self.width
        return tuple(shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"height": self.height, "width": self.width})
        return config
