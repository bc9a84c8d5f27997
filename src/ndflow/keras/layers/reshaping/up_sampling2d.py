"""`UpSampling2D` (and the N-d base used by UpSampling1D/3D): repeat rows and columns
("nearest"), or resize bilinearly.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.UpSampling2D(2)(np.arange(4.0).reshape(1, 2, 2, 1)).numpy()[0, :, :, 0].tolist()
[[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0], [2.0, 2.0, 3.0, 3.0], [2.0, 2.0, 3.0, 3.0]]
"""

from __future__ import annotations

from typing import Any

from ndflow.core import dispatch
from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras import config as _config
from ndflow.keras.layers.convolutional.conv_utils import standardize_tuple
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.ops.array import transpose
from ndflow.ops.image import resize
from ndflow.ops.shape_ops import broadcast_to, reshape


def repeat_spatial(x: Tensor, size: tuple, axes: tuple) -> Tensor:
    """Repeat each element `size[i]` times along `axes[i]` (one broadcast, one reshape)."""
    expanded, target, final = [], [], []
    for i, d in enumerate(tuple(x.shape)):
        expanded.append(d)
        target.append(d)
        if i in axes:
            k = size[axes.index(i)]
            expanded.append(1)
            target.append(k)
            final.append(d * k)
        else:
            final.append(d)
    return reshape(broadcast_to(reshape(x, expanded), target), final)


class BaseUpSampling(Layer):
    """Upsample the `rank` spatial dims by integer factors `size`."""

    def __init__(self, rank: int, size: Any, data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.rank = rank
        self.size = standardize_tuple(size, rank, "size", cls)
        self.data_format = _config.standardize_data_format(data_format)
        interpolation = str(interpolation).lower()
        ok = ("nearest", "bilinear") if rank == 2 else ("nearest",)
        if interpolation not in ok:
            raise ValueError(f"{cls}: expected interpolation in {ok}, got "
                             f"interpolation={interpolation!r}")
        self.interpolation = interpolation
        self.input_spec = InputSpec(ndim=rank + 2)
        self.built = True

    def _axes(self) -> tuple:
        return tuple(range(2, self.rank + 2)) if self.data_format == "channels_first" else \
            tuple(range(1, self.rank + 1))

    def call(self, inputs: Any) -> Tensor:
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        if self.interpolation == "bilinear":
            cf = self.data_format == "channels_first"
            if cf:
                x = transpose(x, (0, 2, 3, 1))
            h, w = x.shape[1], x.shape[2]
            y = resize(x, (h * self.size[0], w * self.size[1]), method="bilinear")
            return transpose(y, (0, 3, 1, 2)) if cf else y
        if x._symbolic and dispatch.trace_hook is None:  # a keras.Input graph: shape only
            from ndflow.core.tensor import SymbolicTensor

            return SymbolicTensor(self.compute_output_shape(tuple(x.shape)), x.dtype)
        return repeat_spatial(x, self.size, self._axes())

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = list(input_shape)
        for ax, k in zip(self._axes(), self.size):
            if shape[ax] is not None:
                shape[ax] *= k
        return tuple(shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["size"] = self.size[0] if self.rank == 1 else self.size
        if self.rank > 1:
            config["data_format"] = self.data_format
        if self.rank == 2:
            config["interpolation"] = self.interpolation
        return config


class UpSampling2D(BaseUpSampling):
    """`size`: int or `(rows, cols)`; `interpolation`: "nearest" or "bilinear" (TensorFlow's
    half-pixel resize)."""

    def __init__(self, size: Any = (2, 2), data_format: str | None = None,
                 interpolation: str = "nearest", **kwargs: Any) -> None:
        super().__init__(2, size, data_format, interpolation, **kwargs)
