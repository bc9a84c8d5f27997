"""`Permute`: reorder the non-batch dimensions (1-indexed, as in Keras).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.Permute((2, 1))(np.zeros((4, 10, 64), "float32")).shape
TensorShape([4, 64, 10])
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.ops.array import transpose


class Permute(Layer):
    """Permute the dimensions of each sample; `dims` is a permutation of `1..rank`.

    >>> Permute((2, 1)).compute_output_shape((None, 3, 5))
    (None, 5, 3)
    """

    def __init__(self, dims: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute: expected dims to be a permutation of 1..{len(self.dims)} "
                             f"(dimension 0 is the batch and stays), got dims={tuple(dims)}")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        return transpose(inputs, (0,) + self.dims)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def get_config(self) -> dict:
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config
