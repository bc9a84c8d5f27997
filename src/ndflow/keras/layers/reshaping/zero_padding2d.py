"""`ZeroPadding2D` (and the N-d base used by ZeroPadding1D/3D): add rows/columns of zeros at
the borders of the spatial dims.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.ZeroPadding2D(((1, 2), (0, 1)))(np.ones((2, 3, 3, 4), "float32")).shape
TensorShape([2, 6, 4, 4])
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.keras import config as _config
from ndflow.keras.layers.layer import InputSpec, Layer
from ndflow.ops.array import pad


def standardize_pairs(value: Any, rank: int, name: str, layer: str) -> tuple:
    """An int, `rank` ints, or `rank` (before, after) pairs -> `rank` pairs of ints >= 0."""
    def bad() -> ValueError:
        return ValueError(f"{layer}: expected {name} to be an int, a tuple of {rank} ints or a "
                          f"tuple of {rank} (before, after) pairs of non-negative ints, got "
                          f"{name}={value!r}")

    if isinstance(value, int) and not isinstance(value, bool):
        pairs: tuple = ((value, value),) * rank
    else:
        try:
            items = list(value)
        except TypeError:
            raise bad() from None
        if rank == 1 and len(items) == 2 and all(isinstance(v, int) for v in items):
            pairs = ((int(items[0]), int(items[1])),)
        elif len(items) != rank:
            raise bad()
        else:
            out = []
            for v in items:
                if isinstance(v, int) and not isinstance(v, bool):
                    out.append((v, v))
                else:
                    pr = tuple(int(i) for i in v)
                    if len(pr) != 2:
                        raise bad()
                    out.append(pr)
            pairs = tuple(out)
    if any(v < 0 for pr in pairs for v in pr):
        raise bad()
    return pairs


class BaseZeroPadding(Layer):
    """Zero-pad the `rank` spatial dims; `padding` as in `standardize_pairs`."""

    def __init__(self, rank: int, padding: Any, data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rank = rank
        self.padding = standardize_pairs(padding, rank, "padding", type(self).__name__)
        self.data_format = _config.standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=rank + 2)
        self.built = True

    def _all_pairs(self) -> list:
        pairs = [[0, 0]] + [list(p) for p in self.padding]
        if self.data_format == "channels_first":
            return [[0, 0], [0, 0]] + pairs[1:]
        return pairs + [[0, 0]]

    def call(self, inputs: Any) -> Tensor:
        x = inputs if isinstance(inputs, Tensor) else convert_to_tensor(inputs)
        return pad(x, self._all_pairs())

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(None if d is None else d + lo + hi
                     for d, (lo, hi) in zip(input_shape, self._all_pairs()))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"padding": self.padding[0] if self.rank == 1 else self.padding,
                       "data_format": self.data_format})
        return config


class ZeroPadding2D(BaseZeroPadding):
    """Zero-padding of images: `padding` is an int, `(pad_h, pad_w)` or
    `((top, bottom), (left, right))` (Keras 3 arguments)."""

    def __init__(self, padding: Any = (1, 1), data_format: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(2, padding, data_format, **kwargs)
