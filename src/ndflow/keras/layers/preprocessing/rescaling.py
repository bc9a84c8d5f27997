"""`Rescaling`: `inputs * scale + offset` (e.g. pixels 0..255 to 0..1 with `scale=1/255`).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.Rescaling(1 / 255)(np.array([[0, 255]], "uint8")).numpy().tolist()
[[0.0, 1.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras.layers.layer import Layer
from ndflow.ops import math as m
from ndflow.ops._util import npdt


def _plain(v: Any) -> Any:
    if isinstance(v, Tensor):
        v = v.numpy()
    if isinstance(v, np.ndarray):
        return v.item() if v.ndim == 0 else v.tolist()
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return v


class Rescaling(Layer):
    """Multiply by `scale` and add `offset` (scalars, or arrays that broadcast against the
    inputs); integer inputs are cast to the layer's float dtype first.

    >>> Rescaling(2.0, offset=-1.0)([0.5]).numpy().tolist()
    [0.0]
    """

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scale = _plain(scale)
        self.offset = _plain(offset)
        self.supports_masking = True
        self.built = True

    def call(self, inputs: Any) -> Tensor:
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        dt = np.dtype(self.compute_dtype)
        if npdt(x) != dt:
            x = m.cast(x, dt)
        scale = np.asarray(self.scale, dt) if isinstance(self.scale, list) else self.scale
        offset = np.asarray(self.offset, dt) if isinstance(self.offset, list) else self.offset
        out = m.multiply(x, scale)
        if isinstance(offset, np.ndarray) or offset != 0:
            out = m.add(out, offset)
        return out

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"scale": self.scale, "offset": self.offset})
        return config
