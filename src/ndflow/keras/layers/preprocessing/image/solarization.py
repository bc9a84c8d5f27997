"""`Solarization`: invert the pixels above a threshold (after adding an offset).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.Solarization()(np.array([[[[0.0], [100.0], [255.0]]]])).numpy().ravel().tolist()
[255.0, 155.0, 0.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.augment_kernels import to_range
from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer, value_range_arg,
)


def _factor(name: str, factor: Any) -> tuple:
    msg = (f"Solarization: expected {name} to be a number or a (lower, upper) pair in "
           f"[0, 1], got {name}={factor!r}")
    if isinstance(factor, (int, float)) and not isinstance(factor, bool):
        vals = (0.0, float(factor))
    else:
        try:
            vals = tuple(sorted(float(v) for v in factor))
        except (TypeError, ValueError):
            raise ValueError(msg) from None
        if len(vals) != 2:
            raise ValueError(msg)
    if not all(0.0 <= v <= 1.0 for v in vals):
        raise ValueError(msg)
    return vals


class Solarization(BaseAugmentationLayer):
    """Solarization while training (Keras 3 arguments): on the [0, 255] scale, add an offset
    `a`, clip, and replace values `v >= t` by `255 - v`. As in Keras, `a` and `t` are drawn
    per image uniformly from `[lower, upper * 255]` of `addition_factor` / `threshold_factor`
    (so the defaults, 0 and 0, invert every pixel).

    Args:
        addition_factor, threshold_factor: a number `f` in [0, 1] (range (0, f)) or a pair.
        value_range: the (min, max) of the pixel values.
        seed: int seed.
    """

    def __init__(self, addition_factor: Any = 0.0, threshold_factor: Any = 0.0,
                 value_range: Any = (0, 255), seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = _factor("addition_factor", addition_factor)
        self.threshold_factor = _factor("threshold_factor", threshold_factor)
        self.value_range = value_range_arg("Solarization", value_range)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> dict:
        a, t = self.addition_factor, self.threshold_factor
        return {"add": rng.uniform(a[0], a[1] * 255, n), "thr": rng.uniform(t[0], t[1] * 255, n)}

    def augment_images(self, x: np.ndarray, p: dict) -> np.ndarray:
        add = p["add"].astype(x.dtype).reshape(-1, 1, 1, 1)
        thr = p["thr"].astype(x.dtype).reshape(-1, 1, 1, 1)
        y = np.clip(to_range(x, self.value_range, (0, 255)) + add, 0, 255)
        y = np.where(y < thr, y, 255 - y)
        return to_range(y, (0, 255), self.value_range)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"addition_factor": list(self.addition_factor),
                       "threshold_factor": list(self.threshold_factor),
                       "value_range": list(self.value_range)})
        return config
