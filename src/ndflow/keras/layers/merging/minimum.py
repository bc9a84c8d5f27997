"""`Minimum`: Element-wise minimum of a list of inputs.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> a, b = np.array([[1.0, 4.0]], "float32"), np.array([[3.0, 2.0]], "float32")
>>> layers.Minimum()([a, b]).numpy().tolist()
[[1.0, 2.0]]
>>> layers.minimum([a, b]).numpy().tolist()
[[1.0, 2.0]]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.merging.base_merge import Merge
from ndflow.ops import math as m


class Minimum(Merge):
    """Element-wise minimum of a list of inputs.

    Takes a list of tensors of the same shape (or shapes that broadcast) and returns one
    tensor of that shape.
    """

    def _merge_function(self, inputs: list) -> Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = m.minimum(out, x)
        return out


def minimum(inputs: list, **kwargs: Any) -> Tensor:
    """Functional form of `Minimum`: `Minimum(**kwargs)(inputs)`."""
    return Minimum(**kwargs)(inputs)
