"""`SpatialDropout1D/2D/3D`: dropout of whole feature maps (one mask value per example and
channel), for convolutional features whose neighbours are strongly correlated.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> y = layers.SpatialDropout2D(0.5, seed=1)(np.ones((2, 3, 3, 4), "float32"), training=True)
>>> all(len(set(y.numpy()[b, :, :, c].ravel().tolist())) == 1 for b in range(2) for c in range(4))
True
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras import config as _config
from ndflow.keras.layers.layer import InputSpec
from ndflow.keras.layers.regularization.dropout import Dropout


class BaseSpatialDropout(Dropout):
    """Dropout whose mask is shared over the spatial dims."""

    rank = 1

    def __init__(self, rate: float, seed: int | None = None, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)
        self.data_format = _config.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self.rank + 2)

    def call(self, inputs: Tensor, training: Any = None) -> Tensor:
        shape = tuple(inputs.shape)
        if len(shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} layer '{self.name}': expected inputs of "
                             f"rank {self.rank + 2}, got shape {shape}")
        if self.data_format == "channels_first":
            self.noise_shape = (shape[0], shape[1]) + (1,) * self.rank
        else:
            self.noise_shape = (shape[0],) + (1,) * self.rank + (shape[-1],)
        try:
            return super().call(inputs, training=training)
        finally:
            self.noise_shape = None

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("noise_shape", None)
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(BaseSpatialDropout):
    """Drops whole channels of `(batch, steps, channels)` inputs (Keras 3 arguments)."""

    rank = 1

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, **kwargs)


class SpatialDropout2D(BaseSpatialDropout):
    """Drops whole feature maps of images (Keras 3 arguments)."""

    rank = 2

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, data_format=data_format, **kwargs)


class SpatialDropout3D(BaseSpatialDropout):
    """Drops whole feature volumes of `(batch, d1, d2, d3, channels)` inputs."""

    rank = 3

    def __init__(self, rate: float, data_format: str | None = None, seed: int | None = None,
                 **kwargs: Any) -> None:
        super().__init__(rate, seed=seed, data_format=data_format, **kwargs)
