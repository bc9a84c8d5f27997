"""The shared base of the adaptive pooling layers: pool each spatial axis into a fixed number
of windows, as PyTorch's adaptive pooling (and Keras 3) does. Window ``i`` of an axis of
length ``L`` pooled to ``n`` covers ``[floor(i * L / n), ceil((i + 1) * L / n))``.

Pooling is separable (a mean over a box is the mean of per-axis means; a max likewise), so
each spatial axis is pooled in turn by a gather of its windows and a reduction, with the
gradients of those ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.layer import Layer
from ndflow.ops import math as m
from ndflow.ops._util import npdt, shape_of
from ndflow.ops.array import gather
from ndflow.ops.reduce import reduce_max, reduce_sum


def adaptive_windows(length: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(indices (size, w), weights (size, w))``: the positions each output reads (short
    windows padded by repeating their last position) and, for averaging, ``1/len`` on real
    positions and 0 on the padding.

    >>> idx, w = adaptive_windows(5, 3)
    >>> idx.tolist()
    [[0, 1, 1], [1, 2, 3], [3, 4, 4]]
    """
    starts = (np.arange(size) * length) // size
    ends = -((-(np.arange(1, size + 1) * length)) // size)  # ceil division
    width = int((ends - starts).max())
    offs = np.arange(width)
    idx = np.minimum(starts[:, None] + offs[None, :], ends[:, None] - 1)
    valid = offs[None, :] < (ends - starts)[:, None]
    weights = valid / (ends - starts)[:, None]
    return idx.astype(np.int64), weights


def adaptive_pool(x: Tensor, output_size: tuple, mode: str, data_format: str) -> Tensor:
    """Adaptive average (`mode="average"`) or max pooling of the spatial axes of `x`."""
    shape = tuple(shape_of(x))
    nsp = len(output_size)
    first = 1 if data_format == "channels_last" else 2
    for k in range(nsp):
        axis = first + k
        length, size = shape[axis], int(output_size[k])
        idx, w = adaptive_windows(int(length), size)
        g = gather(x, idx, axis=axis)  # (..., size, width, ...)
        if mode == "max":
            x = reduce_max(g, axis=axis + 1)
        else:
            wshape = [1] * (len(shape) + 1)
            wshape[axis], wshape[axis + 1] = w.shape
            x = reduce_sum(m.multiply(g, w.reshape(wshape).astype(npdt(x))), axis=axis + 1)
    return x


class BaseAdaptivePooling(Layer):
    """Adaptive pooling to a fixed spatial `output_size` (`_ndims` spatial axes)."""

    _ndims = 1
    _mode = "average"

    def __init__(self, output_size: Any, data_format: str | None = None,
                 **kwargs: Any) -> None:
        cls = type(self).__name__
        n = self._ndims
        if isinstance(output_size, (int, np.integer)) and not isinstance(output_size, bool):
            output_size = (int(output_size),) * n
        elif isinstance(output_size, (tuple, list)):
            if len(output_size) != n:
                raise ValueError(f"{cls}: for {n}D inputs, output_size must be an int or a "
                                 f"tuple of {n} ints, got output_size={output_size!r}")
            output_size = tuple(output_size)
        else:
            raise TypeError(f"{cls}: output_size must be an int or a tuple of {n} ints, got "
                            f"{output_size!r} of type {type(output_size).__name__}")
        if not all(isinstance(s, (int, np.integer)) and s > 0 for s in output_size):
            raise ValueError(f"{cls}: output_size must hold positive ints, got "
                             f"output_size={output_size!r}")
        super().__init__(**kwargs)
        from ndflow.keras import config

        self.output_size = tuple(int(s) for s in output_size)
        self.data_format = data_format or config.image_data_format()
        if self.data_format not in ("channels_first", "channels_last"):
            raise ValueError(f"{cls}: invalid data_format {self.data_format!r}; expected "
                             "'channels_first' or 'channels_last'")

    def _check(self, shape: tuple) -> None:
        if len(shape) != self._ndims + 2:
            raise ValueError(f"{type(self).__name__} layer '{self.name}': expected inputs of "
                             f"rank {self._ndims + 2} (batch, {self._ndims} spatial axes, "
                             f"channels), got shape {shape}")

    def call(self, inputs: Tensor) -> Tensor:
        shape = tuple(shape_of(inputs))
        self._check(shape)
        first = 1 if self.data_format == "channels_last" else 2
        if any(shape[first + k] is None for k in range(self._ndims)):
            raise ValueError(f"{type(self).__name__} layer '{self.name}': the spatial axes "
                             f"must have known sizes, got input shape {shape}")
        return adaptive_pool(inputs, self.output_size, self._mode, self.data_format)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = tuple(input_shape)
        self._check(shape)
        if self.data_format == "channels_last":
            return (shape[0], *self.output_size, shape[-1])
        return (shape[0], shape[1], *self.output_size)

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"output_size": self.output_size, "data_format": self.data_format})
        return config
