"""`RandomShear`: shear images along x and/or y by random amounts.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.RandomShear(x_factor=0.3, seed=0)(np.ones((2, 8, 8, 3))).shape
TensorShape([2, 8, 8, 3])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.keras.layers.preprocessing.image.base_augmentation_layer import (
    BaseHostWarp, keras_factor,
)


def shear_matrices(sx: np.ndarray, sy: np.ndarray) -> np.ndarray:
    """(N, 8) maps: output pixel (x, y) reads the input at (x + sx y, sy x + y)."""
    out = np.zeros((len(sx), 8))
    out[:, 0] = out[:, 4] = 1.0
    out[:, 1], out[:, 3] = sx, sy
    return out


class RandomShear(BaseHostWarp):
    """Random shears while training (Keras 3 arguments): output pixel (x, y) reads the input
    at `(x + sx * y, y + sy * x)` (about the top-left corner, as in Keras), with `sx`, `sy`
    uniform in the factors' ranges and one random sign per image. Bounding boxes become the
    box around their sheared corners, clipped to the image.

    Args:
        x_factor, y_factor: a number `f` in [0, 1] (range (-f, f)) or a (lower, upper) pair
            (Keras wants it within [0, 1]; ndflow also takes [-1, 1], which Keras writes in
            its saved configs).
        interpolation: "bilinear" or "nearest".
        fill_mode: "reflect", "wrap", "constant" or "nearest"; fill_value for "constant".
        bounding_box_format, data_format, seed.
    """

    def __init__(self, x_factor: Any = 0.0, y_factor: Any = 0.0,
                 interpolation: str = "bilinear", fill_mode: str = "reflect",
                 fill_value: float = 0.0, data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(interpolation=interpolation, fill_mode=fill_mode,
                         fill_value=fill_value, data_format=data_format, seed=seed, **kwargs)
        self.x_factor = self._factor("x_factor", x_factor)
        self.y_factor = self._factor("y_factor", y_factor)
        # the config keeps the arguments, a symmetric range (-f, f) as the number f: Keras
        # refuses its own saved ranges (-f, f)
        self._args = {k: v if isinstance(v, (int, float)) else
                      (r[1] if r[0] == -r[1] else list(r))
                      for k, v, r in (("x_factor", x_factor, self.x_factor),
                                      ("y_factor", y_factor, self.y_factor))}

    @staticmethod
    def _factor(name: str, f: Any) -> tuple:
        if isinstance(f, (int, float)) and not isinstance(f, bool):
            if not 0 <= f <= 1:
                raise ValueError(f"RandomShear: expected {name} in [0, 1], got {name}={f!r}")
            return (-abs(float(f)), abs(float(f)))
        # pairs within [-1, 1]: Keras saves the range (-f, f) it made of a number f
        return keras_factor("RandomShear", name, f, (-1.0, 1.0))

    def draw(self, rng: np.random.Generator, n: int, h: int, w: int, c: int) -> dict:
        sign = np.where(rng.uniform(0, 1, n) > 0.5, -1.0, 1.0)
        sy = rng.uniform(self.y_factor[0], self.y_factor[1], n)
        sx = rng.uniform(self.x_factor[0], self.x_factor[1], n)
        return {"sx": sx * sign, "sy": sy * sign}

    def matrices(self, p: dict, n: int, h: int, w: int) -> np.ndarray:
        return shear_matrices(p["sx"], p["sy"])

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({**self._args, "interpolation": self.interpolation,
                       "fill_mode": self.fill_mode, "fill_value": self.fill_value})
        return config
