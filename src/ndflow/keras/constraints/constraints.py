"""Weight constraints: callables `c(w) -> w'` that optimizers apply to a weight after each
update (`add_weight(constraint=...)`).

>>> import ndflow as tf
>>> from ndflow.keras import constraints
>>> constraints.NonNeg()(tf.constant([-1.0, 2.0])).numpy().tolist()
[0.0, 2.0]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.ops import math as m
from ndflow.ops.reduce import reduce_sum


def _eps() -> float:
    from ndflow.keras import config

    return config.epsilon()


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else convert_to_tensor(x)


def _norms(w: Tensor, axis: Any) -> Tensor:
    return m.sqrt(reduce_sum(m.square(w), axis=axis, keepdims=True))


class Constraint:
    """Base class: subclasses implement `__call__(w)` returning the projected weight.

    >>> Constraint()(1.0)
    1.0
    """

    def __call__(self, w: Any) -> Any:
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Constraint:
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Scale the slices along `axis` whose L2 norm exceeds `max_value` back to it.

    For a Dense kernel (in, out), `axis=0` constrains each unit's incoming weights.

    >>> MaxNorm(1.0)([[3.0], [4.0]]).numpy().ravel().astype(float).round(4).tolist()
    [0.6, 0.8]
    """

    def __init__(self, max_value: float = 2, axis: Any = 0) -> None:
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w: Any) -> Tensor:
        w = _t(w)
        norms = _norms(w, self.axis)
        desired = m.minimum(norms, float(self.max_value))
        return m.multiply(w, m.divide(desired, m.add(norms, _eps())))

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Zero the negative entries.

    >>> NonNeg()([-1.0, 1.0]).numpy().tolist()
    [0.0, 1.0]
    """

    def __call__(self, w: Any) -> Tensor:
        w = _t(w)
        return m.maximum(w, 0.0)


class UnitNorm(Constraint):
    """Scale each slice along `axis` to unit L2 norm.

    >>> UnitNorm()([[3.0], [4.0]]).numpy().ravel().astype(float).round(4).tolist()
    [0.6, 0.8]
    """

    def __init__(self, axis: Any = 0) -> None:
        self.axis = axis

    def __call__(self, w: Any) -> Tensor:
        w = _t(w)
        return m.divide(w, m.add(_norms(w, self.axis), _eps()))

    def get_config(self) -> dict:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Move the L2 norm of each slice along `axis` into `[min_value, max_value]`, a fraction
    `rate` of the way (rate 1.0 = enforce exactly).

    >>> MinMaxNorm(2.0, 3.0)([[0.3], [0.4]]).numpy().ravel().astype(float).round(4).tolist()
    [1.2, 1.6]
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: Any = 0) -> None:
        if min_value > max_value:
            raise ValueError(f"MinMaxNorm: expected min_value <= max_value, got "
                             f"min_value={min_value}, max_value={max_value}")
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w: Any) -> Tensor:
        w = _t(w)
        norms = _norms(w, self.axis)
        clipped = m.maximum(m.minimum(norms, float(self.max_value)), float(self.min_value))
        desired = m.add(m.multiply(clipped, float(self.rate)),
                        m.multiply(norms, 1.0 - float(self.rate)))
        return m.multiply(w, m.divide(desired, m.add(norms, _eps())))

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


max_norm = MaxNorm
non_neg = NonNeg
unit_norm = UnitNorm
min_max_norm = MinMaxNorm
