"""`RepeatVector`: repeat each input vector `n` times: `(batch, features)` ->
`(batch, n, features)`.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.RepeatVector(3)(np.zeros((2, 5), "float32")).shape
TensorShape([2, 3, 5])
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.ops.array import expand_dims
from ndflow.ops.shape_ops import broadcast_to


class RepeatVector(Layer):
    """Repeat a 2D input `n` times along a new axis 1.

    >>> RepeatVector(4).compute_output_shape((None, 7))
    (None, 4, 7)
    """

    def __init__(self, n: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise ValueError(f"RepeatVector: expected n to be a positive integer, got n={n!r}")
        self.n = n
        self.input_spec = InputSpec(ndim=2)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        b, f = tuple(inputs.shape)
        return broadcast_to(expand_dims(inputs, 1), (b, self.n, f))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self) -> dict:
        config = super().get_config()
        config["n"] = self.n
        return config
