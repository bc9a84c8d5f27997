"""Host (NumPy) forms of the op-based image layers, so the composite augmentation layers
(`RandAugment`, `AugMix`, `RandomColorJitter`) can chain every sub-augmentation on one batch
with one random stream. Each adapter offers the hooks of `BaseAugmentationLayer`:
`draw(rng, n, h, w, c)`, `augment_images(x, p)` and, when geometric, `matrices(p, n, h, w)`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.augment_kernels import warp


class HostBrightness:
    """`RandomBrightness`'s formula: add `u * (max - min)`, clip to the value range."""

    _geometric = False

    def __init__(self, layer: Any) -> None:
        self.range, self.value_range = layer._range, layer.value_range

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> np.ndarray:
        lo, hi = self.value_range
        return rng.uniform(self.range[0], self.range[1], n) * (hi - lo)

    def augment_images(self, x: np.ndarray, p: np.ndarray) -> np.ndarray:
        return np.clip(x + p.astype(x.dtype).reshape(-1, 1, 1, 1), *self.value_range)


class HostContrast:
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


class HostAffine:
    """A `BaseRandomAffine` layer (RandomRotation, RandomTranslation, RandomZoom) on the host:
    its own `_matrices` draw, applied with `augment_kernels.warp`."""

    _geometric = True

    def __init__(self, layer: Any) -> None:
        self.layer = layer

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> np.ndarray:
        return self.layer._matrices(rng, n, h, w)

    def matrices(self, p: np.ndarray, n: int, h: int, w: int) -> np.ndarray:
        return p

    def augment_images(self, x: np.ndarray, p: np.ndarray, interpolation: str | None = None
                       ) -> np.ndarray:
        lay = self.layer
        return warp(x, p, interpolation or lay.interpolation, lay.fill_mode, lay.fill_value)

    def augment_masks(self, masks: np.ndarray, p: np.ndarray) -> np.ndarray:
        return self.augment_images(masks.astype(np.float32), p, "nearest").astype(masks.dtype)


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
