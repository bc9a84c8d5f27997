"""`Flatten`: collapse every dimension but the batch into one.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.Flatten()(np.zeros((2, 3, 4), "float32")).shape
TensorShape([2, 12])
"""

from __future__ import annotations

import math
from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras import config as _config
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.ops.array import transpose
from ndflow.ops.shape_ops import reshape


class Flatten(Layer):
    """Flattens the inputs to `(batch, -1)`; `data_format="channels_first"` first moves the
    channel axis last, so the element order matches a channels_last model.

    >>> import numpy as np
    >>> Flatten()(np.zeros((5,), "float32")).shape
    TensorShape([5, 1])
    """

    def __init__(self, data_format: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.data_format = _config.standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        shape = tuple(inputs.shape)
        if len(shape) == 1:
            return reshape(inputs, (shape[0], 1))
        if self.data_format == "channels_first" and len(shape) > 2:
            inputs = transpose(inputs, (0,) + tuple(range(2, len(shape))) + (1,))
        return reshape(inputs, (shape[0], -1))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        rest = tuple(input_shape[1:])
        if not rest:
            return (input_shape[0], 1)
        n = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], n)

    def get_config(self) -> dict:
        config = super().get_config()
        config["data_format"] = self.data_format
        return config
