"""`Conv3DTranspose`: 3-d transposed convolution ("deconvolution").

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layer = layers.Conv3DTranspose(4, 3, strides=2, padding="same")
>>> layer(np.ones((2, 3, 3, 3, 3), "float32")).shape.as_list()
[2, 6, 6, 6, 4]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.convolutional.base_conv_transpose import BaseConvTranspose


class Conv3DTranspose(BaseConvTranspose):
    """3-d transposed convolution layer (Keras 3 arguments; see `BaseConvTranspose`).

    The kernel has shape `kernel_size + (filters, in_channels)`.
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 output_padding: Any = None, data_format: str | None = None,
                 dilation_rate: Any = 1, activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(3, filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, activation, use_bias, kernel_initializer,
                         bias_initializer, kernel_regularizer, bias_regularizer,
                         activity_regularizer, kernel_constraint, bias_constraint, **kwargs)
