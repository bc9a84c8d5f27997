"""Weight regularizers: callables `reg(weight) -> scalar penalty` that `add_weight` attaches to
a weight; their penalties are summed into `layer.losses` and the training loss.

>>> import ndflow as tf
>>> from ndflow.keras import regularizers
>>> float(regularizers.L2(0.1)(tf.constant([1.0, 2.0])))
0.5
"""

from __future__ import annotations

import math
from typing import Any

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.ops import math as m
from ndflow.ops._util import shape_of
from ndflow.ops.linalg import matmul
from ndflow.ops.reduce import reduce_sum


def _factor(cls: str, name: str, value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{cls}: expected {name} to be a float, got {value!r}") from None
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{cls}: expected {name} to be a finite, non-negative float, got "
                         f"{name}={value!r}")
    return v


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


class Regularizer:
    """Base class: subclasses implement `__call__(x)` and `get_config()`.

    >>> class Sum(Regularizer):
    ...     def __call__(self, x):
    ...         return reduce_sum(x)
    >>> float(Sum()([1.0, 2.0]))
    3.0
    """

    def __call__(self, x: Any) -> Tensor:
        return m.multiply(reduce_sum(_t(x)), 0.0)

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """`l1 * sum(abs(x)) + l2 * sum(square(x))`.

    >>> import ndflow as tf
    >>> float(L1L2(l1=1.0, l2=1.0)(tf.constant([-1.0, 2.0])))
    8.0
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _factor(type(self).__name__, "l1", 0.0 if l1 is None else l1)
        self.l2 = _factor(type(self).__name__, "l2", 0.0 if l2 is None else l2)

    def __call__(self, x: Any) -> Tensor:
        x = _t(x)
        out = None
        if self.l1:
            out = m.multiply(reduce_sum(m.abs(x)), self.l1)
        if self.l2:
            p = m.multiply(reduce_sum(m.square(x)), self.l2)
            out = p if out is None else m.add(out, p)
        return out if out is not None else m.multiply(reduce_sum(x), 0.0)

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """`l1 * sum(abs(x))`.

    >>> float(L1(0.5)([-2.0, 2.0]))
    2.0
    """

    def __init__(self, l1: float = 0.01) -> None:
        self.l1 = _factor("L1", "l1", 0.01 if l1 is None else l1)

    def __call__(self, x: Any) -> Tensor:
        return m.multiply(reduce_sum(m.abs(_t(x))), self.l1)

    def get_config(self) -> dict:
        return {"l1": self.l1}


class L2(Regularizer):
    """`l2 * sum(square(x))` (no factor 1/2, as in Keras).

    >>> float(L2(0.5)([2.0]))
    2.0
    """

    def __init__(self, l2: float = 0.01) -> None:
        self.l2 = _factor("L2", "l2", 0.01 if l2 is None else l2)

    def __call__(self, x: Any) -> Tensor:
        return m.multiply(reduce_sum(m.square(_t(x))), self.l2)

    def get_config(self) -> dict:
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (`mode="rows"`) or columns of a 2D weight towards orthogonality:
    `factor * 0.5 * sum(|G - diag(G)|) / num_pairs`, with G the Gram matrix of the
    L2-normalised rows (columns).

    >>> import ndflow as tf
    >>> float(OrthogonalRegularizer(1.0)(tf.constant([[1.0, 0.0], [0.0, 1.0]])))
    0.0
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        self.factor = _factor("OrthogonalRegularizer", "factor", factor)
        if mode not in ("rows", "columns"):
            raise ValueError(f"OrthogonalRegularizer: expected mode 'rows' or 'columns', got "
                             f"mode={mode!r}")
        self.mode = mode

    def __call__(self, x: Any) -> Tensor:
        x = _t(x)
        shape = tuple(shape_of(x))
        if len(shape) != 2:
            raise ValueError(f"OrthogonalRegularizer: expected a 2D weight (rank 2), got shape "
                             f"{shape} (rank {len(shape)})")
        from ndflow.ops.linalg import l2_normalize

        if self.mode == "rows":
            v = l2_normalize(x, axis=1)
            gram = matmul(v, v, transpose_b=True)
            size = shape[0]
        else:
            v = l2_normalize(x, axis=0)
            gram = matmul(v, v, transpose_a=True)
            size = shape[1]
        if size < 2:
            return m.multiply(reduce_sum(x), 0.0)
        import numpy as np

        off = m.multiply(gram, 1.0 - np.eye(size, dtype=x.dtype.as_numpy_dtype))
        pairs = size * (size - 1.0) / 2.0
        return m.multiply(reduce_sum(m.abs(off)), self.factor * 0.5 / pairs)

    def get_config(self) -> dict:
        return {"factor": self.factor, "mode": self.mode}


l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer
