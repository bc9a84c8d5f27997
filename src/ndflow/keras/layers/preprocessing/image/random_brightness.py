"""`RandomBrightness`: when training, add a random offset to each image.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.RandomBrightness(0.2, seed=0)(np.ones((2, 4, 4, 3)), training=True).shape
TensorShape([2, 4, 4, 3])
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.preprocessing.image.base_image_layer import (
    BaseImageLayer, factor_range,
)


class RandomBrightness(BaseImageLayer):
    """Random brightness while training (Keras 3 arguments): add
    `delta * (value_range[1] - value_range[0])`, `delta` uniform in `factor`'s range, one per
    image, then clip to `value_range`.

    Args:
        factor: a float `f` in [0, 1] (deltas in [-f, f]) or a (lower, upper) pair in [-1, 1].
        value_range: the (min, max) of the pixel values.
        seed: int seed.
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.factor = factor if isinstance(factor, (int, float)) else tuple(factor)
        self._range = factor_range("RandomBrightness", "factor", factor, -1.0, 1.0)
        self.value_range = tuple(float(v) for v in value_range)

    def call(self, inputs: Any, training: Any = None) -> Tensor:
        x = self._tensor(inputs)
        if x._symbolic or not training:
            return x
        a, xp, single = self._nhwc(x)
        n = a.shape[0]
        lo, hi = self.value_range
        d = self.seed_generator.next_rng().uniform(self._range[0], self._range[1], n) * (hi - lo)
        out = xp.clip(a + xp.asarray(d.reshape(n, 1, 1, 1).astype(a.dtype)), lo, hi)
        return self._back(out, xp, single)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("data_format", None)
        config.update({"factor": self.factor, "value_range": self.value_range})
        return config
