"""`GaussianNoise`: add zero-mean normal noise of standard deviation `stddev` during training.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.GaussianNoise(0.1)(np.zeros((2,), "float32")).numpy().tolist()  # inference
[0.0, 0.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.regularization.dropout import draw_noise, is_keras_symbolic
from ndflow.keras.utils.rng_utils import SeedGenerator
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of


class GaussianNoise(Layer):
    """Add `N(0, stddev**2)` noise to the inputs when `training=True` (a regularizer).

    >>> GaussianNoise(0.5, seed=1).get_config()["stddev"]
    0.5
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0 <= float(stddev):
            raise ValueError(f"GaussianNoise: expected stddev >= 0, got stddev={stddev!r}")
        self.stddev = float(stddev)
        self.seed = seed
        self.seed_generator = SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if not training or self.stddev == 0 or is_keras_symbolic(inputs):
            return inputs
        dt = npdt(inputs)
        shape = tuple(shape_of(inputs))
        stddev, gen = self.stddev, self.seed_generator

        def draw() -> np.ndarray:
            noise = gen.next_rng().standard_normal(
                shape, dtype=np.float64 if dt == np.float64 else np.float32)
            return (noise * stddev).astype(dt, copy=False)

        return m.add(inputs, draw_noise(draw, shape, dt))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config
