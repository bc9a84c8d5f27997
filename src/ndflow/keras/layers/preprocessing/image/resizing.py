"""`Resizing`: resize images to a fixed size (bilinear by default), optionally cropping or
padding to the target aspect ratio first.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.Resizing(4, 6)(np.ones((2, 8, 8, 3), "uint8")).shape
TensorShape([2, 4, 6, 3])
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.preprocessing.image.base_image_layer import (
    BaseImageLayer, is_keras_symbolic,
)
from ndflow.ops.array import pad, transpose
from ndflow.ops.image import resize


def _crop_box(h: int, w: int, th: int, tw: int) -> tuple:
    """The centred (top, left, height, width) box of aspect th:tw inside h x w."""
    ch = min(h, int(round(w * th / tw)))
    cw = min(w, int(round(h * tw / th)))
    return (h - ch) // 2, (w - cw) // 2, ch, cw


def smart_resize(x: Tensor, height: int, width: int, interpolation: str = "bilinear",
                 crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
                 fill_value: float = 0.0) -> Tensor:
    """Resize channels-last images `(..., h, w, c)` (rank 3 or 4)."""
    nd = len(x.shape)
    h, w = x.shape[nd - 3], x.shape[nd - 2]
    if crop_to_aspect_ratio:
        top, left, ch, cw = _crop_box(h, w, height, width)
        key = (slice(None),) * (nd - 3) + (slice(top, top + ch), slice(left, left + cw))
        x = x[key]
    elif pad_to_aspect_ratio:
        ph = max(h, int(round(w * height / width)))
        pw = max(w, int(round(h * width / height)))
        if (ph, pw) != (h, w):
            pads = [[0, 0]] * (nd - 3) + [[(ph - h) // 2, ph - h - (ph - h) // 2],
                                          [(pw - w) // 2, pw - w - (pw - w) // 2], [0, 0]]
            x = pad(x, pads, constant_values=fill_value)
    return resize(x, (height, width), method=interpolation)


class Resizing(BaseImageLayer):
    """Resize to `(height, width)` (Keras 3 arguments).

    Args:
        height, width: the output size.
        interpolation: "bilinear" (default) or "nearest".
        crop_to_aspect_ratio: first crop the largest centred window with the target aspect
            ratio, so the image is not distorted.
        pad_to_aspect_ratio: first pad (with `fill_value`) evenly to the target aspect ratio.
        fill_mode: only "constant" (the padding mode).
        data_format: "channels_last" (default) or "channels_first".
    """

    def __init__(self, height: int, width: int, interpolation: str = "bilinear",
                 crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
                 fill_mode: str = "constant", fill_value: float = 0.0,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(data_format=data_format, **kwargs)
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Resizing: expected at most one of crop_to_aspect_ratio and "
                             "pad_to_aspect_ratio, got both True")
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(f"Resizing: expected interpolation 'bilinear' or 'nearest', got "
                             f"interpolation={interpolation!r}")
        if fill_mode != "constant":
            raise ValueError(f"Resizing: expected fill_mode='constant', got {fill_mode!r}")
        self.height, self.width = int(height), int(width)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = fill_mode
        self.fill_value = float(fill_value)

    def call(self, inputs: Any) -> Any:
        if isinstance(inputs, dict):  # Keras's {"images", "bounding_boxes", ...} input
            return self._call_dict(inputs)
        x = self._tensor(inputs)
        if is_keras_symbolic(x):
            return self._symbolic(x)
        nd = len(x.shape)
        cf = self.data_format == "channels_first"
        if cf:
            x = transpose(x, (0, 2, 3, 1) if nd == 4 else (1, 2, 0))
        y = smart_resize(x, self.height, self.width, self.interpolation,
                         self.crop_to_aspect_ratio, self.pad_to_aspect_ratio, self.fill_value)
        if cf:
            y = transpose(y, (0, 3, 1, 2) if nd == 4 else (2, 0, 1))
        return y

    def _call_dict(self, data: dict) -> dict:
        from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import augment_call
        from ndflow.keras.layers.preprocessing.image.host_ops import HostWindow

        th, tw = self.height, self.width

        def windows(rng: Any, n: int, h: int, w: int) -> tuple:
            if self.crop_to_aspect_ratio:
                return _crop_box(h, w, th, tw)
            if self.pad_to_aspect_ratio:
                ph, pw = max(h, int(round(w * th / tw))), max(w, int(round(h * tw / th)))
                return -((ph - h) // 2), -((pw - w) // 2), ph, pw
            return 0, 0, h, w

        fill = "constant" if self.pad_to_aspect_ratio else "nearest"
        return augment_call(self, HostWindow(self, windows, (th, tw), self.interpolation, fill),
                            data, True)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = list(input_shape)
        hx, wx = self._hw_axes(len(shape))
        shape[hx], shape[wx] = self.height, self.width
        return tuple(shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("seed", None)
        config.update({"height": self.height, "width": self.width,
                       "interpolation": self.interpolation,
                       "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                       "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
                       "fill_mode": self.fill_mode, "fill_value": self.fill_value})
        return config
