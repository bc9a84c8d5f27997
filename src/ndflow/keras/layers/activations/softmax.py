"""`Softmax` layer, with an optional mask (masked positions get probability 0).

>>> from ndflow.keras import layers
>>> layers.Softmax()([[0.0, 0.0]]).numpy().tolist()
[[0.5, 0.5]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras import activations
from ndflow.keras.layers.layer import Layer
from ndflow.ops import math as m
from ndflow.ops.reduce import reduce_logsumexp


class Softmax(Layer):
    """Softmax over `axis` (an int or a tuple of ints). With `mask` (True = keep), masked
    entries are pushed to a large negative logit before the softmax.

    >>> import numpy as np
    >>> Softmax()([[1.0, 1.0]], mask=np.array([[True, False]])).numpy().round(3).tolist()
    [[1.0, 0.0]]
    """

    def __init__(self, axis: Any = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = tuple(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Any, mask: Any = None) -> Tensor:
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        if mask is not None:
            mk = mask if isinstance(mask, Tensor) else convert_to_tensor(np.asarray(mask))
            big = -1e9 if x.dtype.name != "float16" else -3e4
            x = m.add(x, m.multiply(m.subtract(1.0, m.cast(mk, x.dtype)), big))
        if isinstance(self.axis, tuple):
            return m.exp(m.subtract(x, reduce_logsumexp(x, axis=self.axis, keepdims=True)))
        return activations.softmax(x, axis=self.axis)

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return mask

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = list(self.axis) if isinstance(self.axis, tuple) else self.axis
        return config
