"""`BaseGlobalPooling`: max or mean over all spatial dims (a reduction, one op).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.GlobalAveragePooling2D()(np.ones((2, 5, 5, 3), "float32")).shape
TensorShape([2, 3])
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras import config as _config
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.ops import math as m
from ndflow.ops._util import npdt
from ndflow.ops.reduce import reduce_max, reduce_mean, reduce_sum


class BaseGlobalPooling(Layer):
    """Abstract global pooling.

    Args:
        data_format: "channels_last" (default) or "channels_first".
        keepdims: keep the spatial dims with size 1.
    """

    def __init__(self, pool_dimensions: int, pool_mode: str, data_format: str | None = None,
                 keepdims: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _config.standardize_data_format(data_format)
        self.keepdims = bool(keepdims)
        self.pool_mode = pool_mode
        self.rank = pool_dimensions
        self.input_spec = InputSpec(ndim=pool_dimensions + 2)
        self.built = True

    def _axes(self) -> tuple:
        if self.data_format == "channels_first":
            return tuple(range(2, self.rank + 2))
        return tuple(range(1, self.rank + 1))

    def call(self, inputs: Any, mask: Any = None) -> Tensor:
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        if npdt(x).kind != "f":
            x = m.cast(x, self.compute_dtype)
        axes = self._axes()
        if self.pool_mode == "max":
            return reduce_max(x, axis=axes, keepdims=self.keepdims)
        if mask is not None and self.rank == 1:
            # masked mean over the steps (GlobalAveragePooling1D with an Embedding mask)
            mk = m.cast(convert_to_tensor(mask), npdt(x))
            from ndflow.ops.array import expand_dims

            mk = expand_dims(mk, 1 if self.data_format == "channels_first" else -1)
            total = reduce_sum(m.multiply(x, mk), axis=axes, keepdims=self.keepdims)
            count = reduce_sum(mk, axis=axes, keepdims=self.keepdims)
            return m.divide(total, m.maximum(count, 1e-7))
        return reduce_mean(x, axis=axes, keepdims=self.keepdims)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = list(input_shape)
        axes = self._axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(shape))
        return tuple(d for i, d in enumerate(shape) if i not in axes)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config
