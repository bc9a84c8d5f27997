"""`DepthwiseConv2D`: 2-d depthwise convolution.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.DepthwiseConv2D(3, depth_multiplier=2)(np.ones((2, 6, 6, 3), "float32")).shape.as_list()
[2, 4, 4, 6]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.convolutional.base_depthwise_conv import BaseDepthwiseConv


class DepthwiseConv2D(BaseDepthwiseConv):
    """2-d depthwise convolution layer (Keras 3 arguments; see `BaseDepthwiseConv`)."""

    def __init__(self, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 depth_multiplier: int = 1, data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 depthwise_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 depthwise_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, depthwise_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(2, kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint, **kwargs)
