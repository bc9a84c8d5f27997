"""`RandAugment`: apply `num_ops` augmentations picked at random from a fixed list.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.RandAugment(num_ops=2, factor=0.5, seed=0)(np.full((2, 8, 8, 3), 90.0)).shape
TensorShape([2, 8, 8, 3])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image import bounding_boxes as bbox
from ndflow.keras.layers.preprocessing.image.augment_kernels import invert_projective
from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer, keras_factor,
)
from ndflow.keras.layers.preprocessing.image.host_ops import host_op

OP_NAMES = ("random_shear", "random_translation", "random_rotation", "random_brightness",
            "random_color_degeneration", "random_contrast", "random_sharpness",
            "random_posterization", "solarization", "auto_contrast", "equalization")


def augment_ops(factor: tuple, value_range: tuple, interpolation: str, names: tuple) -> list:
    """The sub-augmentations of RandAugment/AugMix at strength `factor` (Keras's table), in
    host form, in the order of `names`."""
    from ndflow.keras import layers

    vr = value_range
    make = {
        "random_shear": lambda: layers.RandomShear(factor, factor, interpolation=interpolation),
        "random_translation": lambda: layers.RandomTranslation(
            factor, factor, interpolation=interpolation),
        "random_rotation": lambda: layers.RandomRotation(factor, interpolation=interpolation),
        "random_brightness": lambda: layers.RandomBrightness(factor, value_range=vr),
        "random_color_degeneration": lambda: layers.RandomColorDegeneration(
            factor, value_range=vr),
        "random_contrast": lambda: layers.RandomContrast(factor, value_range=vr),
        "random_sharpness": lambda: layers.RandomSharpness(factor, value_range=vr),
        "random_posterization": lambda: layers.RandomPosterization(
            max(1, int(8 * factor[1])), value_range=vr),
        "solarization": lambda: layers.Solarization(factor, factor, value_range=vr),
        "auto_contrast": lambda: layers.AutoContrast(value_range=vr),
        "equalization": lambda: layers.Equalization(value_range=vr),
    }
    return [host_op(make[name]()) for name in names]


def geometric_boxes(ops: list, steps: list, boxes: np.ndarray, n: int, h: int,
                    w: int) -> np.ndarray:
    """Boxes carried through the geometric steps `(op index, params)` of a chain."""
    for i, q in steps:
        if ops[i]._geometric:
            boxes = bbox.transform_boxes(boxes, invert_projective(ops[i].matrices(q, n, h, w)))
    return boxes


class RandAugment(BaseAugmentationLayer):
    """RandAugment while training (Keras 3 arguments; Cubuk et al. 2019): on each call,
    `num_ops` augmentations are picked at random (with repetition) from shear, translation,
    rotation, brightness, colour degeneration, contrast, sharpness, posterization,
    solarization, auto-contrast and equalization, all at strength `factor`, and applied in
    turn to the whole batch. Bounding boxes follow the geometric ones.

    Args:
        value_range: the (min, max) of the pixel values.
        num_ops: the number of augmentations per call.
        factor: a number in [0, 1] (range (0, f)) or a (lower, upper) pair.
        interpolation: for the geometric augmentations.
        bounding_box_format, seed, data_format.
    """

    _geometric = True

    def __init__(self, value_range: Any = (0, 255), num_ops: int = 2, factor: Any = 0.5,
                 interpolation: str = "bilinear", seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if int(num_ops) < 0:
            raise ValueError(f"RandAugment: expected num_ops >= 0, got num_ops={num_ops!r}")
        self.value_range = tuple(float(v) for v in value_range)
        self.num_ops = int(num_ops)
        self.factor = keras_factor("RandAugment", "factor", factor, (0.0, 1.0))
        self.interpolation = interpolation
        self._ops = augment_ops(self.factor, self.value_range, interpolation, OP_NAMES)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> list:
        idx = rng.integers(0, len(self._ops), self.num_ops)
        drawn: dict = {}
        for i in idx:  # one draw per picked augmentation, reused when picked again
            if int(i) not in drawn:
                drawn[int(i)] = self._ops[int(i)].draw(rng, n, h, w, c)
        return [(int(i), drawn[int(i)]) for i in idx]

    def augment_images(self, x: np.ndarray, p: list) -> np.ndarray:
        for i, q in p:
            x = np.asarray(self._ops[i].augment_images(x, q)).astype(x.dtype)
        return x

    def augment_masks(self, masks: np.ndarray, p: list) -> np.ndarray:
        for i, q in p:
            if self._ops[i]._geometric:
                masks = self._ops[i].augment_masks(masks, q)
        return masks

    def augment_boxes(self, boxes: np.ndarray, labels: np.ndarray, p: list, h: int,
                      w: int) -> tuple:
        return geometric_boxes(self._ops, p, boxes, boxes.shape[0], h, w), labels

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"value_range": list(self.value_range), "num_ops": self.num_ops,
                       "factor": list(self.factor), "interpolation": self.interpolation})
        return config
