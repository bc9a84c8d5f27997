"""`SeparableConv2D`: 2-d depthwise convolution followed by a pointwise (1x1) one.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.SeparableConv2D(4, 3)(np.ones((2, 6, 6, 3), "float32")).shape.as_list()
[2, 4, 4, 4]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.convolutional.base_depthwise_conv import BaseSeparableConv


class SeparableConv2D(BaseSeparableConv):
    """2-d separable convolution layer (Keras 3 arguments; see `BaseSeparableConv`)."""

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1,
                 depth_multiplier: int = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform",
                 pointwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, pointwise_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 depthwise_constraint: Any = None, pointwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(2, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs)
