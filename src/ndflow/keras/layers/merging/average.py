"""`Average`: Average a list of inputs, element-wise.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> a, b = np.array([[1.0, 4.0]], "float32"), np.array([[3.0, 2.0]], "float32")
>>> layers.Average()([a, b]).numpy().tolist()
[[2.0, 3.0]]
>>> layers.average([a, b]).numpy().tolist()
[[2.0, 3.0]]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.merging.base_merge import Merge
from ndflow.ops import math as m


class Average(Merge):
    """Average a list of inputs, element-wise.

    Takes a list of tensors of the same shape (or shapes that broadcast) and returns one
    tensor of that shape.
    """

    def _merge_function(self, inputs: list) -> Tensor:
        out = inputs[0]
        for x in inputs[1:]:
            out = m.add(out, x)
        return m.divide(out, float(len(inputs)))


def average(inputs: list, **kwargs: Any) -> Tensor:
    """Functional form of `Average`: `Average(**kwargs)(inputs)`."""
    return Average(**kwargs)(inputs)
