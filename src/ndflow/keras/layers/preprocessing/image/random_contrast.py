"""`RandomContrast`: when training, scale each image's deviation from its per-channel mean by
a random factor.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.RandomContrast(0.5, seed=0)(np.ones((2, 4, 4, 3)), training=True).shape
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
from ndflow.ops.reduce import reduce_mean


class RandomContrast(BaseImageLayer):
    """Random contrast while training (Keras 3 arguments):
    `clip((x - mean) * f + mean, value_range)` with `f` uniform in
    `[1 - lower, 1 + upper]`, one `f` per image.

    Args:
        factor: a float `f` in [0, 1] (factors in [1 - f, 1 + f]) or a (lower, upper) pair.
        value_range: the (min, max) of the pixel values, e.g. (0, 255) or (0, 1).
        seed: int seed.
    """

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self.factor = factor if isinstance(factor, (int, float)) else tuple(factor)
        if isinstance(factor, (int, float)):
            lo, hi = factor_range("RandomContrast", "factor", factor, -1.0, 1.0)
            self._range = (1 + lo, 1 + hi)
        else:
            lo, hi = (float(v) for v in factor)
            if not 0 <= lo <= 1 or hi < 0:
                raise ValueError(f"RandomContrast: expected factor lower in [0, 1] and upper >= "
                                 f"0, got factor={factor!r}")
            self._range = (1 - lo, 1 + hi)
        self.value_range = tuple(float(v) for v in value_range)

    def call(self, inputs: Any, training: Any = None) -> Tensor:
        x = self._tensor(inputs)
        if not training or is_keras_symbolic(x):
            return x
        x4, single = self._nhwc(x)
        n = shape_of(x4)[0]
        lo, hi = self._range
        f = self._sample(lambda rng: rng.uniform(lo, hi, n), (n, 1, 1, 1), npdt(x4))
        mean = reduce_mean(x4, axis=(1, 2), keepdims=True)
        out = m.add(m.multiply(m.subtract(x4, mean), f), mean)
        out = clip_by_value(out, self.value_range[0], self.value_range[1])
        return self._back(out, single)

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("data_format", None)
        config.update({"factor": self.factor, "value_range": self.value_range})
        return config
