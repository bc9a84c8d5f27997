"""`Subtract`: Subtract two inputs: `inputs[0] - inputs[1]`.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> a, b = np.array([[1.0, 4.0]], "float32"), np.array([[3.0, 2.0]], "float32")
>>> layers.Subtract()([a, b]).numpy().tolist()
[[-2.0, 2.0]]
>>> layers.subtract([a, b]).numpy().tolist()
[[-2.0, 2.0]]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.merging.base_merge import Merge
from ndflow.ops import math as m


class Subtract(Merge):
    """Subtract two inputs: `inputs[0] - inputs[1]`.

    Takes a list of tensors of the same shape (or shapes that broadcast) and returns one
    tensor of that shape.
    """

    _min_inputs = 2
    _max_inputs = 2

    def _merge_function(self, inputs: list) -> Tensor:
        return m.subtract(inputs[0], inputs[1])


def subtract(inputs: list, **kwargs: Any) -> Tensor:
    """Functional form of `Subtract`: `Subtract(**kwargs)(inputs)`."""
    return Subtract(**kwargs)(inputs)
