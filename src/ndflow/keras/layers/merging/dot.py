"""`Dot`: batched dot product of two inputs along given axes (cosine similarity with
`normalize=True`).

>>> import numpy as np
>>> from ndflow.keras import layers
>>> a = np.arange(10, dtype="float32").reshape(1, 5, 2)
>>> b = np.arange(10, 20, dtype="float32").reshape(1, 2, 5)
>>> layers.Dot(axes=(1, 2))([a, b]).numpy().tolist()
[[[260.0, 360.0], [320.0, 445.0]]]
"""

from __future__ import annotations

import string
from typing import Any

from ndflow.core.tensor import SymbolicTensor, Tensor
from ndflow.keras.layers.merging.base_merge import Merge, _fmt
from ndflow.ops.array import expand_dims
from ndflow.ops.linalg import einsum, l2_normalize


class Dot(Merge):
    """Dot product between samples of two tensors along `axes` (an int, or one axis per
    input; the batch axis 0 cannot be used). Output: the remaining axes of the first input
    then of the second, or `(batch, 1)` when nothing remains.

    >>> Dot(axes=1).compute_output_shape([(None, 4), (None, 4)])
    (None, 1)
    """

    _min_inputs = 2
    _max_inputs = 2

    def __init__(self, axes: Any, normalize: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(axes, int):
            axes = (axes, axes)
        axes = tuple(int(a) for a in axes)
        if len(axes) != 2:
            raise ValueError(f"Dot: expected axes to be an int or a pair of ints, got {axes}")
        self.axes = axes
        self.normalize = bool(normalize)
        self.supports_masking = True

    def _axes(self, shapes: list) -> tuple:
        a, b = shapes
        ax = []
        for ai, s in zip(self.axes, (a, b)):
            k = ai % len(s) if -len(s) <= ai < len(s) else None
            if k is None or k == 0:
                raise ValueError(f"Dot layer '{self.name}': axes={self.axes} are invalid for "
                                 f"inputs of shapes {_fmt(shapes)} (axis 0 is the batch)")
            ax.append(k)
        da, db = a[ax[0]], b[ax[1]]
        if da is not None and db is not None and da != db:
            raise ValueError(f"Dot layer '{self.name}': the dot axes must have the same size, "
                             f"got shapes {_fmt(shapes)} with axes {self.axes} (sizes {da} and "
                             f"{db})")
        return ax[0], ax[1]

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shapes = self._check_list(input_shape)
        a, b = shapes
        ka, kb = self._axes(shapes)
        out = [a[0]] + [d for i, d in enumerate(a) if i not in (0, ka)] + [
            d for i, d in enumerate(b) if i not in (0, kb)]
        if len(out) == 1:
            out.append(1)
        return tuple(out)

    def _merge_function(self, inputs: list) -> Tensor:
        x, y = inputs
        ka, kb = self._axes([tuple(x.shape), tuple(y.shape)])
        if self.normalize:
            x = l2_normalize(x, axis=ka)
            y = l2_normalize(y, axis=kb)
        letters = iter(string.ascii_lowercase[2:])
        sa = ["b"] + [next(letters) for _ in range(len(x.shape) - 1)]
        sb = ["b"] + [next(letters) for _ in range(len(y.shape) - 1)]
        sb[kb] = sa[ka]
        out = "b" + "".join(c for i, c in enumerate(sa) if i not in (0, ka)) + "".join(
            c for i, c in enumerate(sb) if i not in (0, kb))
        r = einsum(f"{''.join(sa)},{''.join(sb)}->{out}", x, y)
        if len(r.shape) == 1:
            r = expand_dims(r, 1)
        return r

    def call(self, inputs: Any) -> Tensor:
        xs = list(inputs) if isinstance(inputs, (list, tuple)) else inputs
        self._check_list([tuple(x.shape) for x in xs] if isinstance(xs, list) else
                         tuple(xs.shape))
        return self._merge_function(xs)

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        x = args[0] if args else kwargs["inputs"]
        return SymbolicTensor(self.compute_output_shape([tuple(t.shape) for t in x]),
                              x[0].dtype)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        return None

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"axes": list(self.axes), "normalize": self.normalize})
        return config


def dot(inputs: list, axes: Any = -1, normalize: bool = False, **kwargs: Any) -> Tensor:
    """Functional form of `Dot`: `Dot(axes, normalize, **kwargs)(inputs)`."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)
