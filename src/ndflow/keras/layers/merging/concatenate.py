"""`Concatenate`: join a list of inputs along `axis`.

>>> import numpy as np
>>> from ndflow.keras import layers
>>> a, b = np.zeros((2, 3), "float32"), np.ones((2, 5), "float32")
>>> layers.Concatenate()([a, b]).shape
TensorShape([2, 8])
>>> layers.concatenate([a, b], axis=-1).shape
TensorShape([2, 8])
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import SymbolicTensor, Tensor
from ndflow.keras.layers.merging.base_merge import Merge, _fmt
from ndflow.ops import math as m
from ndflow.ops.array import concat, expand_dims
from ndflow.ops.creation import ones_like
from ndflow.ops.reduce import reduce_any
from ndflow.ops.shape_ops import broadcast_to


class Concatenate(Merge):
    """Concatenate inputs that share every dimension except `axis` (default the last).

    >>> Concatenate(axis=1).compute_output_shape([(None, 2, 3), (None, 4, 3)])
    (None, 6, 3)
    """

    _min_inputs = 1

    def __init__(self, axis: int = -1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.axis = int(axis)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shapes = self._check_list(input_shape)
        ranks = {len(s) for s in shapes}
        if len(ranks) != 1:
            raise ValueError(f"Concatenate layer '{self.name}': inputs must have the same rank, "
                             f"got shapes {_fmt(shapes)}")
        nd = ranks.pop()
        ax = self.axis % nd if -nd <= self.axis < nd else None
        if ax is None:
            raise ValueError(f"Concatenate layer '{self.name}': axis={self.axis} is out of range "
                             f"for inputs of rank {nd} (shapes {_fmt(shapes)})")
        out = list(shapes[0])
        for s in shapes[1:]:
            for i in range(nd):
                if i == ax:
                    out[i] = None if out[i] is None or s[i] is None else out[i] + s[i]
                elif out[i] is None:
                    out[i] = s[i]
                elif s[i] is not None and s[i] != out[i]:
                    raise ValueError(
                        f"Concatenate layer '{self.name}' requires inputs with matching shapes "
                        f"except for the concatenation axis {self.axis}, got shapes "
                        f"{_fmt(shapes)}")
        return tuple(out)

    def call(self, inputs: Any) -> Tensor:
        if not isinstance(inputs, (list, tuple)):
            self._check_list(tuple(inputs.shape))
        self.compute_output_shape([tuple(x.shape) for x in inputs])
        return concat(list(inputs), axis=self.axis)

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        x = args[0] if args else kwargs["inputs"]
        return SymbolicTensor(self.compute_output_shape([tuple(t.shape) for t in x]),
                              x[0].dtype)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None or all(mk is None for mk in mask):
            return None
        full = []
        for x, mk in zip(inputs, mask):
            if mk is None:
                mk = m.cast(ones_like(x), "bool")
            elif len(mk.shape) < len(x.shape):
                mk = broadcast_to(expand_dims(mk, -1), tuple(x.shape))
            full.append(mk)
        return reduce_any(concat(full, axis=self.axis), axis=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        config["axis"] = self.axis
        return config


def concatenate(inputs: list, axis: int = -1, **kwargs: Any) -> Tensor:
    """Functional form of `Concatenate`: `Concatenate(axis=axis, **kwargs)(inputs)`."""
    return Concatenate(axis=axis, **kwargs)(inputs)
