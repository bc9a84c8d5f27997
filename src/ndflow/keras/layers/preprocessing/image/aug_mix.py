"""`AugMix`: mix an image with several chains of random augmentations of it.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.AugMix(seed=0)(np.full((2, 8, 8, 3), 90.0)).shape
TensorShape([2, 8, 8, 3])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseAugmentationLayer, keras_factor,
)
from ndflow.keras.layers.preprocessing.image.rand_augment import OP_NAMES, augment_ops

_BASIC = ("random_shear", "random_translation", "random_rotation", "random_posterization",
          "solarization", "auto_contrast", "equalization")


class AugMix(BaseAugmentationLayer):
    """AugMix while training (Keras 3 arguments; Hendrycks et al. 2019): `num_chains` chains
    of up to `chain_depth` augmentations (each step picks one at random or none) are applied
    to the batch, mixed with Dirichlet(alpha) weights, and the mixture is blended with the
    original by `w ~ Beta(alpha, alpha)`: `w x + (1 - w) sum_k m_k chain_k(x)`, clipped to
    `value_range`. Segmentation masks are mixed the same way (the geometric steps move them);
    bounding boxes pass unchanged, as in Keras.

    Args:
        value_range: the (min, max) of the pixel values.
        num_chains, chain_depth: the number and the length of the chains.
        factor: strength, a number in [0, 1] (range (0, f)) or a pair.
        alpha: the Dirichlet and Beta concentration.
        all_ops: also use brightness, colour degeneration, contrast and sharpness.
        interpolation, seed, data_format.
    """

    _float_masks = True

    def __init__(self, value_range: Any = (0, 255), num_chains: int = 3, chain_depth: int = 3,
                 factor: Any = 0.3, alpha: float = 1.0, all_ops: bool = True,
                 interpolation: str = "bilinear", seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if int(num_chains) < 1 or int(chain_depth) < 1 or float(alpha) <= 0:
            raise ValueError(f"AugMix: expected num_chains >= 1, chain_depth >= 1 and alpha > 0, "
                             f"got num_chains={num_chains!r}, chain_depth={chain_depth!r}, "
                             f"alpha={alpha!r}")
        self.value_range = tuple(float(v) for v in value_range)
        self.num_chains, self.chain_depth = int(num_chains), int(chain_depth)
        self.factor = keras_factor("AugMix", "factor", factor, (0.0, 1.0))
        self.alpha = float(alpha)
        self.all_ops = bool(all_ops)
        self.interpolation = interpolation
        names = tuple(n for n in OP_NAMES if self.all_ops or n in _BASIC)
        self._ops = augment_ops(self.factor, self.value_range, interpolation, names)

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> dict:
        mix = rng.dirichlet([self.alpha] * self.num_chains)
        weight = rng.beta(self.alpha, self.alpha)
        chains = []
        for _ in range(self.num_chains):
            steps = []
            for _ in range(self.chain_depth):
                i = int(rng.integers(0, len(self._ops) + 1))
                if i < len(self._ops):  # the last choice is "no augmentation"
                    steps.append((i, self._ops[i].draw(rng, n, h, w, c)))
            chains.append(steps)
        return {"mix": mix, "weight": weight, "chains": chains}

    def _mixture(self, x: np.ndarray, p: dict, masks: bool) -> np.ndarray:
        acc = np.zeros(x.shape, np.float64)
        for m, steps in zip(p["mix"], p["chains"]):
            y = x
            for i, q in steps:
                op = self._ops[i]
                if not masks:
                    y = np.asarray(op.augment_images(y, q)).astype(x.dtype)
                elif op._geometric:
                    y = op.augment_masks(y, q)
            acc += m * y
        return p["weight"] * x + (1 - p["weight"]) * acc

    def augment_images(self, x: np.ndarray, p: dict) -> np.ndarray:
        return np.clip(self._mixture(x, p, False), *self.value_range).astype(x.dtype)

    def augment_masks(self, masks: np.ndarray, p: dict) -> np.ndarray:
        return self._mixture(masks.astype(np.float32), p, True).astype(np.float32)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"value_range": list(self.value_range), "num_chains": self.num_chains,
                       "chain_depth": self.chain_depth, "factor": list(self.factor),
                       "alpha": self.alpha, "all_ops": self.all_ops,
                       "interpolation": self.interpolation})
        return config
