"""`RMSNormalization`: divide by the root mean square over `axis`, then scale (Zhang &
Sennrich, 2019).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> y = layers.RMSNormalization()(np.array([[3.0, 4.0]], "float32")).numpy()
>>> [round(float(v), 4) for v in y[0]]
[0.8485, 1.1314]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.layer import Layer
from ndflow.ops import math as m
from ndflow.ops._util import shape_of
from ndflow.ops.reduce import reduce_mean
from ndflow.ops.shape_ops import reshape


class RMSNormalization(Layer):
    """``x * rsqrt(mean(square(x), axis) + epsilon) * scale`` with a learned `scale`
    (initialised to ones; shape: the sizes of `axis`).

    Args:
        axis: int or list of ints (default -1). As in Keras, it is stored as a sorted list
            once the layer is built.
        epsilon: added to the mean square (default 1e-6).

    >>> layer = RMSNormalization()
    >>> layer.build((5, 20, 30, 10))
    >>> tuple(layer.scale.shape), layer.get_config()["axis"]
    ((10,), [-1])
    """

    def __init__(self, axis: Any = -1, epsilon: float = 1e-6, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(axis, (int, list, tuple)) or isinstance(axis, bool):
            raise ValueError(f"RMSNormalization: expected axis to be an int or a list of ints, "
                             f"got axis={axis!r}")
        self.axis = list(axis) if isinstance(axis, tuple) else axis
        self.epsilon = epsilon

    def build(self, input_shape: Any) -> None:
        shape = tuple(input_shape)
        axes = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -len(shape) <= a < len(shape):
                raise ValueError(f"RMSNormalization layer '{self.name}': axis {a} is out of "
                                 f"range for inputs of shape {shape}")
        self.axis = axes
        self._axes = tuple(a % len(shape) for a in axes)
        self._ndim = len(shape)
        self.scale = self.add_weight(name="scale", shape=tuple(shape[a] for a in axes),
                                     initializer="ones")
        self._bshape = [shape[i] if i in self._axes else 1 for i in range(len(shape))]
        self.built = True

    def call(self, x: Tensor) -> Tensor:
        if len(shape_of(x)) != self._ndim:
            raise ValueError(f"RMSNormalization layer '{self.name}': expected inputs of rank "
                             f"{self._ndim} (it was built for that), got shape "
                             f"{tuple(shape_of(x))}")
        ms = reduce_mean(m.square(x), axis=self._axes, keepdims=True)
        out = m.multiply(x, m.rsqrt(m.add(ms, self.epsilon)))
        return m.multiply(out, reshape(m.cast(self.scale, x.dtype), self._bshape))

    def compute_output_shape(self, input_shape: Any) -> Any:
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -len(input_shape) <= a < len(input_shape):
                raise ValueError(f"RMSNormalization layer '{self.name}': axis {a} is out of "
                                 f"bounds for input shape {tuple(input_shape)}")
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon})
        return config
