"""`CutMix`: paste a random rectangle of another image of the batch into each image.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> x = np.stack([np.zeros((8, 8, 1)), np.ones((8, 8, 1))])
>>> out = layers.CutMix(seed=3)({"images": x, "labels": np.eye(2)})
>>> bool(np.allclose(out["labels"].numpy().sum(-1), 1.0))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer, keras_factor,
)
from ndflow.keras.layers.preprocessing.image.random_erasing import rect_masks


class CutMix(BaseAugmentationLayer):
    """CutMix while training (Keras 3 arguments; Yun et al. 2019): with a random permutation
    `p` of the batch and `lam ~ Beta(a, a)` per image (`a` uniform in `factor`'s range, plus
    1e-6), a rectangle of side fractions `sqrt(1 - lam)` at a random place is copied from image
    `p[i]`; labels mix with the weight `1 - rectangle area / image area`. Bounding boxes are
    refused, as in Keras.

    Args:
        factor: a number in [0, 1] (range (0, f)) or a (lower, upper) pair.
        seed, data_format.
    """

    _mixes_labels = True
    _supports_boxes = False

    def __init__(self, factor: Any = 1.0, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = keras_factor("CutMix", "factor", factor, (0.0, 1.0))

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> dict:
        a = rng.uniform(self.factor[0], self.factor[1]) + 1e-6
        ratio = np.sqrt(1.0 - rng.beta(a, a, n))
        cw, ch = ratio * w, ratio * h
        x0 = rng.uniform(0, 1, n) * (w - cw)
        y0 = rng.uniform(0, 1, n) * (h - ch)
        mask = rect_masks(x0, x0 + cw, y0, y0 + ch, h, w)
        return {"perm": rng.permutation(n), "mask": mask, "weight": 1.0 - cw * ch / (w * h)}

    def augment_images(self, x: np.ndarray, p: dict) -> np.ndarray:
        return np.where(p["mask"], x[p["perm"]], x)

    def augment_masks(self, masks: np.ndarray, p: dict) -> np.ndarray:
        return self.augment_images(masks.astype(np.float32), p)

    def augment_labels(self, y: np.ndarray, p: dict) -> np.ndarray:
        y = y.astype(np.float32)
        lam = p["weight"].reshape((-1,) + (1,) * (y.ndim - 1)).astype(np.float32)
        return lam * y + (1 - lam) * y[p["perm"]]

    def get_config(self) -> dict:
        config = super().get_config()
        config["factor"] = list(self.factor)
        return config
