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
    BaseImageLayer, factor_range, is_keras_symbolic,
)
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of
from ndflow.ops.math import clip_by_value


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
        if not training or is_keras_symbolic(x):
            return x
        x4, single = self._nhwc(x)
        n = shape_of(x4)[0]
        lo, hi = self.value_range
        flo, fhi = self._range
        d = self._sample(lambda rng: rng.uniform(flo, fhi, n) * (hi - lo), (n, 1, 1, 1),
                         npdt(x4))
        return self._back(clip_by_value(m.add(x4, d), lo, hi), single)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("data_format", None)
        config.update({"factor": self.factor, "value_range": self.value_range})
        return config
