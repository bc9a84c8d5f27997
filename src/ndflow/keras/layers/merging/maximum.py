"""`Maximum`: Element-wise maximum of a list of inputs.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> a, b = np.array([[1.0, 4.0]], "float32"), np.array([[3.0, 2.0]], "float32")
>>> layers.Maximum()([a, b]).numpy().tolist()
[[3.0, 4.0]]
>>> layers.maximum([a, b]).numpy().tolist()
[[3.0, 4.0]]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.merging.base_merge import Merge
from ndflow.ops import math as m


class Maximum(Merge):
    """Element-wise maximum of a list of inputs.

    Takes a list of tensors of the same shape (or shapes that broadcast) and returns one
    tensor of that shape.
    """

    def _merge_function(self, inputs: list) -> Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = m.maximum(out, x)
        return out


def maximum(inputs: list, **kwargs: Any) -> Tensor:
    """Functional form of `Maximum`: `Maximum(**kwargs)(inputs)`."""
    return Maximum(**kwargs)(inputs)
