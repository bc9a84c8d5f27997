"""`Reshape`: give each sample a new shape (the batch dimension is kept).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> layers.Reshape((3, -1))(np.zeros((2, 12), "float32")).shape
TensorShape([2, 3, 4])
"""

from __future__ import annotations

import math
from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.keras.layers.layer import Layer
from ndflow.ops.shape_ops import reshape


def _resolve(layer: str, input_shape: tuple, target: tuple) -> tuple:
    """`target` with its -1 filled in from the (per-sample) `input_shape` when known."""
    total = None if any(d is None for d in input_shape) else math.prod(input_shape)
    if target.count(-1) == 0:
        if total is not None and math.prod(target) != total:
            raise ValueError(
                f"Reshape layer '{layer}': the target shape {target} holds {math.prod(target)} "
                f"values per sample, but the inputs have shape {input_shape} "
                f"({total} values per sample).")
        return target
    known = math.prod(d for d in target if d != -1)
    if total is None:
        return tuple(None if d == -1 else d for d in target)
    if known == 0 or total % known:
        raise ValueError(
            f"Reshape layer '{layer}': cannot reshape inputs of shape {input_shape} "
            f"({total} values per sample) to {target}: {total} is not divisible by {known}.")
    return tuple(total // known if d == -1 else d for d in target)


class Reshape(Layer):
    """Reshape each sample to `target_shape` (a tuple without the batch dim; one entry may be
    -1 to infer it).

    >>> Reshape((2, 2)).compute_output_shape((None, 4))
    (None, 2, 2)
    """

    def __init__(self, target_shape: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        try:
            target = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            raise ValueError(f"Reshape: expected target_shape to be a tuple of ints, got "
                             f"{target_shape!r}") from None
        if target.count(-1) > 1 or any(d < -1 or d == 0 for d in target):
            raise ValueError(f"Reshape: expected positive dims and at most one -1 in "
                             f"target_shape, got {target}")
        self.target_shape = target
        self.built = True

    def call(self, inputs: Tensor) -> Tensor:
        shape = tuple(inputs.shape)
        out = _resolve(self.name, shape[1:], self.target_shape)
        return reshape(inputs, (shape[0],) + out)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (input_shape[0],) + _resolve(self.name, tuple(input_shape[1:]),
                                            self.target_shape)

    def get_config(self) -> dict:
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config
