"""`RandomCrop`: when training, a random `height x width` window (one offset per image); at
inference, the centre crop (aspect-preserving resize for small images).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.RandomCrop(3, 3, seed=1)(np.ones((2, 5, 5, 1)), training=True).shape
TensorShape([2, 3, 3, 1])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.base_image_layer import (
    BaseRandomAffine, is_keras_symbolic,
)
from ndflow.keras.layers.preprocessing.image.center_crop import center_crop
from ndflow.keras.layers.preprocessing.image.resizing import smart_resize
from ndflow.ops._util import shape_of


class RandomCrop(BaseRandomAffine):
    """Random crops to `(height, width)` while training (Keras 3 arguments)."""

    def __init__(self, height: int, width: int, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height, self.width = int(height), int(width)

    def call(self, inputs: Any, training: Any = None) -> Any:
        if isinstance(inputs, dict):  # Keras's {"images", "bounding_boxes", ...} input
            return self._call_dict(inputs, bool(training))
        x = self._tensor(inputs)
        if is_keras_symbolic(x):
            return self._symbolic(x)
        x4, single = self._nhwc(x)
        n, h, w, _ = shape_of(x4)
        th, tw = self.height, self.width
        if not training:
            y = center_crop(x4, th, tw)
        elif h < th or w < tw:
            y = smart_resize(x4, th, tw, crop_to_aspect_ratio=True)
        else:
            def offsets(rng: np.random.Generator, n: int, h: int, w: int) -> np.ndarray:
                out = np.zeros((n, 8))
                out[:, 0] = out[:, 4] = 1.0
                out[:, 2] = rng.integers(0, w - tw + 1, n)
                out[:, 5] = rng.integers(0, h - th + 1, n)
                return out

            y = self.transform(x4, offsets, (th, tw), "nearest", "nearest")
        return self._back(y, single)

    def _call_dict(self, data: dict, training: bool) -> dict:
        from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import augment_call
        from ndflow.keras.layers.preprocessing.image.host_ops import HostWindow
        from ndflow.keras.layers.preprocessing.image.resizing import _crop_box

        th, tw = self.height, self.width

        def windows(rng: Any, n: int, h: int, w: int) -> tuple:
            if h < th or w < tw:
                return _crop_box(h, w, th, tw)
            if training:  # the same draws, in the same order, as the tensor path
                left = rng.integers(0, w - tw + 1, n)
                return rng.integers(0, h - th + 1, n), left, th, tw
            return (h - th) // 2, (w - tw) // 2, th, tw

        op = HostWindow(self, windows, (th, tw), "bilinear", random=training)
        return augment_call(self, op, data, True)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = list(input_shape)
        hx, wx = self._hw_axes(len(shape))
        shape[hx], shape[wx] = self.height, self.width
        return tuple(shape)

    def get_config(self) -> dict:
        config = super().get_config()
        for k in ("fill_mode", "interpolation", "fill_value"):
            config.pop(k, None)
        config.update({"height": self.height, "width": self.width})
        return config
