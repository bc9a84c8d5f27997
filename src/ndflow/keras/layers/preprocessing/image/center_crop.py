"""`CenterCrop`: the central `height x width` window of each image (images smaller than the
target are first resized, keeping their aspect ratio, as in Keras).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.CenterCrop(2, 3)(np.arange(16.0).reshape(1, 4, 4, 1)).numpy()[0, :, :, 0].tolist()
[[4.0, 5.0, 6.0], [8.0, 9.0, 10.0]]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.preprocessing.image.base_image_layer import (
    BaseImageLayer, is_keras_symbolic,
)
from ndflow.keras.layers.preprocessing.image.resizing import smart_resize
from ndflow.ops.array import transpose


def center_crop(x: Tensor, height: int, width: int) -> Tensor:
    """Crop (or, when too small, aspect-preserving resize) channels-last images."""
    nd = len(x.shape)
    h, w = x.shape[nd - 3], x.shape[nd - 2]
    if h < height or w < width:
        return smart_resize(x, height, width, crop_to_aspect_ratio=True)
    top, left = (h - height) // 2, (w - width) // 2
    key = (slice(None),) * (nd - 3) + (slice(top, top + height), slice(left, left + width))
    return x[key]


class CenterCrop(BaseImageLayer):
    """Crop the centre `(height, width)` of images (Keras 3 arguments)."""

    def __init__(self, height: int, width: int, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = int(height), int(width)

    def call(self, inputs: Any) -> Any:
        if isinstance(inputs, dict):  # Keras's {"images", "bounding_boxes", ...} input
            from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
                augment_call,
            )
            from ndflow.keras.layers.preprocessing.image.host_ops import HostWindow
            from ndflow.keras.layers.preprocessing.image.resizing import _crop_box

            th, tw = self.height, self.width

            def windows(rng: Any, n: int, h: int, w: int) -> tuple:
                if h < th or w < tw:
                    return _crop_box(h, w, th, tw)
                return (h - th) // 2, (w - tw) // 2, th, tw

            return augment_call(self, HostWindow(self, windows, (th, tw), "bilinear"), inputs,
                                True)
        x = self._tensor(inputs)
        if is_keras_symbolic(x):
            return self._symbolic(x)
        nd = len(x.shape)
        cf = self.data_format == "channels_first"
        if cf:
            x = transpose(x, (0, 2, 3, 1) if nd == 4 else (1, 2, 0))
        y = center_crop(x, self.height, self.width)
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
        config.pop("seed", None)
        config.update({"height": self.height, "width": self.width})
        return config
