"""`AlphaDropout`: dropout that keeps the mean and variance of SELU activations, by setting
dropped units to SELU's negative saturation value and applying an affine correction.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.AlphaDropout(0.2)(np.ones((2,), "float32")).numpy().tolist()  # inference
[1.0, 1.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.layer import Layer
from ndflow.keras.layers.regularization.dropout import check_rate, draw_noise, is_keras_symbolic
from ndflow.keras.utils.rng_utils import SeedGenerator
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of

_ALPHA = 1.6732632423543772848170429916717
_SCALE = 1.0507009873554804934193349852946


class AlphaDropout(Layer):
    """With `training=True`, each unit is kept with probability ``1 - rate``; dropped units
    are set to ``-alpha * scale`` (SELU's saturation) and the result is mapped by
    ``a * x + b`` so that zero-mean, unit-variance inputs keep those moments.

    Args:
        rate: drop probability in [0, 1].
        noise_shape: shape of the keep mask (None entries take the input's size).
        seed: int seed for reproducible masks.

    >>> AlphaDropout(0.1, seed=3).get_config()["seed"]
    3
    """

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rate = check_rate("AlphaDropout", rate)
        self.seed = seed
        self.noise_shape = noise_shape
        if self.rate > 0:
            self.seed_generator = SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        if not training or self.rate == 0 or is_keras_symbolic(inputs):
            return inputs
        dt = npdt(inputs)
        shape = tuple(shape_of(inputs))
        if self.noise_shape is not None:
            ns = tuple(self.noise_shape)
            if len(ns) != len(shape):
                raise ValueError(f"AlphaDropout layer '{self.name}': noise_shape {ns} must "
                                 f"have the rank of the inputs, got inputs of shape {shape}")
            shape = tuple(s if n is None else int(n) for n, s in zip(ns, shape))
        rate, gen = self.rate, self.seed_generator

        def draw() -> np.ndarray:
            u = gen.next_rng().random(shape, dtype=np.float64 if dt == np.float64
                                      else np.float32)
            return (u >= rate).astype(dt)

        kept = draw_noise(draw, shape, dt)
        alpha_p = -_ALPHA * _SCALE
        a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * rate
        x = m.add(m.multiply(inputs, kept), m.multiply(m.subtract(1.0, kept), alpha_p))
        return m.add(m.multiply(x, a), b)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed,
                       "noise_shape": None if self.noise_shape is None
                       else list(self.noise_shape)})
        return config
