"""`Cropping2D` (and the N-d base used by Cropping1D/3D): drop rows/columns at the borders of
the spatial dims.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.Cropping2D(((1, 0), (2, 1)))(np.ones((2, 5, 6, 3), "float32")).shape
TensorShape([2, 4, 3, 3])
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras import config as _config
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.keras.layers.reshaping.zero_padding2d import standardize_pairs


class BaseCropping(Layer):
    """Crop the `rank` spatial dims; `cropping` as in `standardize_pairs`."""

    def __init__(self, rank: int, cropping: Any, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rank = rank
        self.cropping = standardize_pairs(cropping, rank, "cropping", type(self).__name__)
        self.data_format = _config.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=rank + 2)
        self.built = True

    def _spatial_axes(self) -> range:
        return range(2, self.rank + 2) if self.data_format == "channels_first" else \
            range(1, self.rank + 1)

    def _check(self, shape: tuple) -> None:
        for ax, (lo, hi) in zip(self._spatial_axes(), self.cropping):
            d = shape[ax]
            if d is not None and lo + hi >= d:
                raise ValueError(f"{type(self).__name__} layer '{self.name}': expected a "
                                 f"cropping smaller than the input, got cropping "
                                 f"{self.cropping} for input shape {tuple(shape)}")

    def call(self, inputs: Any) -> Tensor:
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        shape = tuple(x.shape)
        self._check(shape)
        key = [slice(None)] * len(shape)
        for ax, (lo, hi) in zip(self._spatial_axes(), self.cropping):
            key[ax] = slice(lo, shape[ax] - hi if shape[ax] is not None else (-hi or None))
        return x[tuple(key)]

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = list(input_shape)
        self._check(tuple(shape))
        for ax, (lo, hi) in zip(self._spatial_axes(), self.cropping):
            if shape[ax] is not None:
                shape[ax] -= lo + hi
        return tuple(shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["cropping"] = self.cropping[0] if self.rank == 1 else self.cropping
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class Cropping2D(BaseCropping):
    """`cropping`: an int, `(crop_h, crop_w)` or `((top, bottom), (left, right))`."""

    def __init__(self, cropping: Any = ((0, 0), (0, 0)), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(2, cropping, data_format, **kwargs)
