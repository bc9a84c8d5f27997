"""`Conv1D`: 1-d convolution over channels_last inputs `(batch, steps, channels)`.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.Conv1D(4, 3)(np.ones((2, 10, 3), "float32")).shape.as_list()
[2, 8, 4]
"""

from __future__ import annotations

from typing import Any

from ndflow.keras.layers.convolutional.base_conv import BaseConv


class Conv1D(BaseConv):
    """1-d convolution layer (Keras 3 arguments and defaults; see `BaseConv`).

    Padding: "valid", "same" or "causal". The kernel has shape
    `kernel_size + (in_channels // groups, filters)`.
    """

    def __init__(self, filters: int, kernel_size: Any, strides: Any = 1, padding: str = "valid",
                 data_format: str | None = None, dilation_rate: Any = 1, groups: int = 1,
                 activation: Any = None, use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 bias_constraint: Any = None, **kwargs: Any) -> None:
        super().__init__(1, filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, **kwargs)
