"""`BasePooling`: max or average pooling over 1, 2 or 3 spatial dims.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.MaxPooling2D()(np.ones((2, 5, 5, 3), "float32")).shape
TensorShape([2, 2, 2, 3])
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.errors import InvalidArgumentError
from ndflow.keras import config as _config
from ndflow.keras.layers.convolutional.conv_utils import (
    conv_output_shape, layer_error, standardize_padding, standardize_tuple,
)
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.ops import math as m
from ndflow.ops._util import npdt
from ndflow.ops.pooling import pool


class BasePooling(Layer):
    """Abstract pooling layer.

    Args:
        pool_size: int or tuple of `rank` ints, the window size.
        strides: int, tuple, or None (= pool_size).
        padding: "valid" or "same" (windows at the border see only the real inputs; average
            pooling divides by their number).
        data_format: "channels_last" (default) or "channels_first".
    """

    _kind = "max"

    def __init__(self, pool_size: Any, strides: Any, pool_dimensions: int, pool_mode: str = "max",
                 padding: str = "valid", data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        cls = type(self).__name__
        self.pool_size = standardize_tuple(pool_size, pool_dimensions, "pool_size", cls)
        self.strides = self.pool_size if strides is None else standardize_tuple(
            strides, pool_dimensions, "strides", cls)
        self.pool_mode = pool_mode
        self.padding = standardize_padding(padding, cls)
        self.data_format = _config.standardize_data_format(data_format)
        self.rank = pool_dimensions
        self.input_spec = InputSpec(ndim=pool_dimensions + 2)
        self._pool_args = ("max" if pool_mode == "max" else "avg", self.pool_size,
                           self.strides, self.padding.upper(),
                           self.data_format == "channels_first")
        self.built = True

    def call(self, inputs: Any) -> Tensor:
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        if npdt(x).kind != "f":
            x = m.cast(x, self.compute_dtype)
        try:
            return pool(x, *self._pool_args)
        except InvalidArgumentError as e:
            raise layer_error(self, e) from None

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return conv_output_shape(tuple(input_shape), None, self.pool_size, self.strides,
                                 self.padding, self.data_format, (1,) * self.rank)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"pool_size": self.pool_size, "padding": self.padding,
                       "strides": self.strides, "data_format": self.data_format})
        return config
