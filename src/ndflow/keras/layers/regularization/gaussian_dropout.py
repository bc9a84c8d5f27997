"""`GaussianDropout`: multiply the inputs by `N(1, rate / (1 - rate))` noise during training.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.GaussianDropout(0.3)(np.ones((2,), "float32")).numpy().tolist()  # inference
[1.0, 1.0]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.regularization.dropout import check_rate, draw_noise, is_keras_symbolic
from ndflow.keras.utils.rng_utils import SeedGenerator
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of


class GaussianDropout(Layer):
    """Multiplicative 1-centred Gaussian noise with stddev `sqrt(rate / (1 - rate))`, active
    only when `training=True`.

    >>> GaussianDropout(0.5).get_config()["rate"]
    0.5
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = check_rate("GaussianDropout", rate, upper_inclusive=False)
        self.seed = seed
        self.seed_generator = SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if not training or self.rate == 0 or is_keras_symbolic(inputs):
            return inputs
        dt = npdt(inputs)
        shape = tuple(shape_of(inputs))
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        gen = self.seed_generator

        def draw() -> np.ndarray:
            noise = gen.next_rng().standard_normal(
                shape, dtype=np.float64 if dt == np.float64 else np.float32)
            return (noise * stddev + 1.0).astype(dt, copy=False)

        return m.multiply(inputs, draw_noise(draw, shape, dt))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
