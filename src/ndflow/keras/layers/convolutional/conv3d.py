"""`Conv3D`: 3-d convolution over channels_last inputs
`(batch, depth, height, width, channels)`.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.Conv3D(4, 3)(np.ones((2, 5, 5, 5, 3), "float32")).shape.as_list()
[2, 3, 3, 3, 4]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.convolutional.base_conv import BaseConv


class Conv3D(BaseConv):
    """3-d convolution layer (Keras 3 arguments and defaults; see `BaseConv`).

    Padding: "valid" or "same". The kernel has shape
    `kernel_size + (in_channels // groups, filters)`.
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1,
                 activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(3, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)
