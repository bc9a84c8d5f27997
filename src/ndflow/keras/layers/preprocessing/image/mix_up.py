"""`MixUp`: blend each image (and its labels) with another image of the batch.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> out = layers.MixUp(alpha=0.2, seed=0)({"images": np.ones((4, 2, 2, 1)),
...                                       "labels": np.eye(4)})
>>> bool(np.allclose(out["labels"].numpy().sum(-1), 1.0))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer,
)


class MixUp(BaseAugmentationLayer):
    """MixUp while training (Keras 3 arguments; Zhang et al. 2017): with a random
    permutation `p` of the batch and `lam ~ Beta(alpha, alpha)` per image,
    `x = lam x + (1 - lam) x[p]` and the same for labels and segmentation masks. Bounding
    boxes of the partner image are appended to each image's boxes.

    Args:
        alpha: the Beta distribution's concentration (> 0).
        data_format, seed.
    """

    _mixes_labels = True

    def __init__(self, alpha: float = 0.2, data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if not isinstance(alpha, (int, float)) or alpha <= 0:
            raise ValueError(f"MixUp: expected alpha > 0, got alpha={alpha!r}")
        self.alpha = float(alpha)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> dict:
        return {"perm": rng.permutation(n), "lam": rng.beta(self.alpha, self.alpha, n)}

    def _mix(self, a: np.ndarray, p: dict) -> np.ndarray:
        lam = p["lam"].reshape((-1,) + (1,) * (a.ndim - 1)).astype(np.float32)
        return (lam * a + (1 - lam) * a[p["perm"]]).astype(np.result_type(a, np.float32))

    def augment_images(self, x: np.ndarray, p: dict) -> np.ndarray:
        return self._mix(x, p).astype(x.dtype)

    def augment_labels(self, y: np.ndarray, p: dict) -> np.ndarray:
        return self._mix(y.astype(np.float32), p)

    def augment_masks(self, masks: np.ndarray, p: dict) -> np.ndarray:
        return self._mix(masks.astype(np.float32), p)

    def augment_box_sets(self, boxes: np.ndarray, labels: np.ndarray, p: dict) -> tuple:
        perm = p["perm"]
        return (np.concatenate([boxes, boxes[perm]], axis=1),
                np.concatenate([labels, labels[perm]], axis=1))

    def get_config(self) -> dict:
        config = super().get_config()
        config["alpha"] = self.alpha
        return config
