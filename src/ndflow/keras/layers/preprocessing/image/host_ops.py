"""Host (NumPy) forms of the op-based image layers, so the composite augmentation layers
(`RandAugment`, `AugMix`, `RandomColorJitter`) can chain every sub-augmentation on one batch
with one random stream. Each adapter offers the hooks of `BaseAugmentationLayer`:
`draw(rng, n, h, w, c)`, `augment_images(x, p)` and, when geometric, `matrices(p, n, h, w)`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image import bounding_boxes as bbox
from ndflow.keras.layers.preprocessing.image.augment_kernels import invert_projective, warp
from ndflow.keras.layers.preprocessing.image.augmentation_hooks import AugmentationHooks


class HostOp(AugmentationHooks):
    """An adapter: the default hooks and flags of `AugmentationHooks`, overridden per op."""


class HostBrightness(HostOp):
    """`RandomBrightness`'s formula: add `u * (max - min)`, clip to the value range."""

    _geometric = False

    def __init__(self, layer: Any) -> None:
        self.range, self.value_range = layer._range, layer.value_range

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> np.ndarray:
        lo, hi = self.value_range
        return rng.uniform(self.range[0], self.range[1], n) * (hi - lo)

    def augment_images(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.clip(x + p.astype(x.dtype).reshape(-1, 1, 1, 1), *self.value_range)


class HostContrast(HostOp):
    """`RandomContrast`'s formula: `(x - mean) * f + mean` per channel, clipped."""

    _geometric = False

    def __init__(self, layer: Any) -> None:
        self.range, self.value_range = layer._range, layer.value_range

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> np.ndarray:
        return rng.uniform(self.range[0], self.range[1], n)

    def augment_images(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        mean = x.mean(axis=(1, 2), keepdims=True)
        f = p.astype(x.dtype).reshape(-1, 1, 1, 1)
        return np.clip((x - mean) * f + mean, *self.value_range)


class HostAffine(HostOp):
    """A geometric layer on the host: per-image projective maps (output pixel -> input
    point) applied with `augment_kernels.warp`, boxes through the inverse maps, masks with
    nearest sampling. By default the maps are the layer's own `_matrices` draw
    (RandomRotation, RandomTranslation, RandomZoom)."""

    _geometric = True

    def __init__(self, layer: Any, interpolation: str | None = None,
                 fill_mode: str | None = None, output_shape: tuple | None = None) -> None:
        self.layer = layer
        self.interpolation = interpolation or layer.interpolation
        self.fill_mode = fill_mode or layer.fill_mode
        self.fill_value = getattr(layer, "fill_value", 0.0)
        self.output_shape = output_shape

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> np.ndarray:
        return self.layer._matrices(rng, n, h, w)

    def matrices(self, p: np.ndarray, n: int, h: int, w: int) -> np.ndarray:
        return p

    def augment_images(self, x: np.ndarray, p: np.ndarray, interpolation: str | None = None
                       ) -> np.ndarray:
        return warp(x, p, interpolation or self.interpolation, self.fill_mode, self.fill_value,
                    self.output_shape)

    def augment_masks(self, masks: np.ndarray, p: np.ndarray) -> np.ndarray:
        return self.augment_images(masks.astype(np.float32), p, "nearest").astype(masks.dtype)

    def augment_boxes(self, boxes: np.ndarray, labels: np.ndarray, p: np.ndarray, h: int,
                      w: int) -> tuple:
        return bbox.transform_boxes(boxes, invert_projective(p)), labels


class HostFlip(HostAffine):
    """`RandomFlip` on the host: flips as exact projective maps."""

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.interpolation, self.fill_mode, self.fill_value = "nearest", "nearest", 0.0
        self.output_shape = None

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> np.ndarray:
        mode = self.layer.mode
        out = np.zeros((n, 8))
        out[:, 0] = out[:, 4] = 1.0
        if mode in ("horizontal", "horizontal_and_vertical"):
            flip = rng.random(n) < 0.5
            out[flip, 0], out[flip, 2] = -1.0, w - 1
        if mode in ("vertical", "horizontal_and_vertical"):
            flip = rng.random(n) < 0.5
            out[flip, 4], out[flip, 5] = -1.0, h - 1
        return out


def crop_resize_matrix(n: int, top: Any, left: Any, ch: Any, cw: Any, oh: int,
                       ow: int) -> np.ndarray:
    """(N, 8) maps resizing the window (top, left, ch, cw) of each image to (oh, ow) with
    half-pixel centres (TensorFlow's resize; a plain crop when the sizes agree)."""
    sy, sx = np.asarray(ch, float) / oh, np.asarray(cw, float) / ow
    out = np.zeros((n, 8))
    out[:, 0], out[:, 2] = sx, left + 0.5 * sx - 0.5
    out[:, 4], out[:, 5] = sy, top + 0.5 * sy - 0.5
    return out


class HostWindow(HostAffine):
    """RandomCrop / CenterCrop / Resizing on the host: each image's window `(top, left,
    height, width)` (from `windows(rng, n, h, w)`) is resized to the output size; outside
    points are clamped (or take `fill_value` when padding to an aspect ratio)."""

    def __init__(self, layer: Any, windows: Any, output_shape: tuple, interpolation: str,
                 fill_mode: str = "nearest", random: bool = False) -> None:
        self.layer = layer
        self.windows = windows
        self.output_shape = output_shape
        self.interpolation, self.fill_mode = interpolation, fill_mode
        self.fill_value = getattr(layer, "fill_value", 0.0)
        self._random = random

    def draw(self, rng: Any, n: int, h: int, w: int, c: int) -> np.ndarray:
        top, left, ch, cw = self.windows(rng, n, h, w)
        return crop_resize_matrix(n, top, left, ch, cw, *self.output_shape)


def host_op(layer: Any) -> Any:
    """The host form of an image layer (augmentation layers are their own)."""
    from ndflow.keras.layers.preprocessing.image.base_image_layer import BaseRandomAffine
    from ndflow.keras.layers.preprocessing.image.random_brightness import RandomBrightness
    from ndflow.keras.layers.preprocessing.image.random_contrast import RandomContrast

    if isinstance(layer, RandomBrightness):
        return HostBrightness(layer)
    if isinstance(layer, RandomContrast):
        return HostContrast(layer)
    if isinstance(layer, BaseRandomAffine):
        return HostAffine(layer)
    return layer
