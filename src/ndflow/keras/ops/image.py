"""`keras.ops.image`: resizing and grayscale conversion (on ndflow.image's kernels).

>>> from ndflow.keras import ops
>>> ops.image.resize(ops.ones((1, 2, 2, 3)), (4, 4)).shape.as_list()
[1, 4, 4, 3]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.dispatch import fail
from ndflow.core.tensor import Tensor
from ndflow.keras.ops._common import as_tensor, rank
from ndflow.ops import array as a_
from ndflow.ops import image as im_
from ndflow.ops import math as m
from ndflow.ops._util import npdt


def _channels_first(op: str, data_format: Any) -> bool:
    if data_format is None:
        from ndflow.keras import config

        data_format = config.image_data_format()
    if data_format not in ("channels_last", "channels_first"):
        raise fail(f"keras.ops.image.{op}", "data_format 'channels_last' or 'channels_first'",
                   repr(data_format))
    return data_format == "channels_first"


def _to_last(x: Tensor) -> Tensor:
    nd = rank(x)
    return a_.transpose(x, list(range(nd - 3)) + [nd - 2, nd - 1, nd - 3])


def _to_first(x: Tensor) -> Tensor:
    nd = rank(x)
    return a_.transpose(x, list(range(nd - 3)) + [nd - 1, nd - 3, nd - 2])


def _images_last(op: str, images: Any, data_format: Any) -> tuple[Tensor, bool]:
    """`images` of rank 3 or 4 as a channels-last tensor, and whether they came channels
    first (the result goes back with `_to_first`)."""
    x = as_tensor(images)
    if rank(x) not in (3, 4):
        raise fail(f"keras.ops.image.{op}", "images of rank 3 or 4", f"shape {list(x.shape)}")
    cf = _channels_first(op, data_format)
    return (_to_last(x) if cf else x), cf


def resize(images: Any, size: Any, interpolation: str = "bilinear", antialias: bool = False,
           crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
           fill_mode: str = "constant", fill_value: float = 0.0,
           data_format: str | None = None) -> Tensor:
    """Resize `(h, w, c)` or `(batch, h, w, c)` images (channels first with that data format)
    to `size = (height, width)` with 'bilinear' or 'nearest' interpolation (half-pixel
    centres, as TensorFlow); bilinear resizing of integer images gives float32."""
    if crop_to_aspect_ratio or pad_to_aspect_ratio:
        raise fail("keras.ops.image.resize", "crop_to_aspect_ratio=False and "
                   "pad_to_aspect_ratio=False", "one of them True",
                   "Crop or pad first (ndflow.image.resize_with_crop_or_pad).")
    x, cf = _images_last("resize", images, data_format)
    y = im_.resize(x, size, method=interpolation, antialias=antialias)
    return _to_first(y) if cf else y


def rgb_to_grayscale(images: Any, data_format: str | None = None) -> Tensor:
    """Luma `0.2989 R + 0.5870 G + 0.1140 B`, keeping a channel axis of size 1 and the input
    dtype (integer results are truncated)."""
    x, cf = _images_last("rgb_to_grayscale", images, data_format)
    y = im_.rgb_to_grayscale(x)
    if npdt(y) != npdt(x):
        y = m.cast(y, npdt(x))
    return _to_first(y) if cf else y


__all__ = ["resize", "rgb_to_grayscale"]
