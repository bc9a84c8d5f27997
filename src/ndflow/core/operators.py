"""Python operators on tensors, mapped to ops (installed once at import)."""

from __future__ import annotations

from typing import Any

from ndflow.core.tensor import Tensor
from ndflow.ops import array, linalg
from ndflow.ops import math as m


def _r(fn: Any) -> Any:
    def rop(self: Tensor, other: Any) -> Tensor:
        return fn(other, self)
    return rop


def _eq(self: Tensor, other: Any) -> Any:
    if other is None:
        return False
    try:
        return m.equal(self, other)
    except (TypeError, ValueError):
        return False


def _ne(self: Tensor, other: Any) -> Any:
    if other is None:
        return True
    try:
        return m.not_equal(self, other)
    except (TypeError, ValueError):
        return True


def _invert(self: Tensor) -> Tensor:
    return m.logical_not(self)


def _and(x: Any, y: Any) -> Tensor:
    return m.logical_and(x, y)


def _or(x: Any, y: Any) -> Tensor:
    return m.logical_or(x, y)


def _xor(x: Any, y: Any) -> Tensor:
    return m.logical_xor(x, y)


def _matmul(x: Any, y: Any) -> Tensor:
    return linalg.matmul(x, y)


def install() -> None:
    T = Tensor
    T.__add__ = m.add
    T.__radd__ = _r(m.add)
    T.__sub__ = m.subtract
    T.__rsub__ = _r(m.subtract)
    T.__mul__ = m.multiply
    T.__rmul__ = _r(m.multiply)
    T.__truediv__ = m.divide
    T.__rtruediv__ = _r(m.divide)
    T.__floordiv__ = m.floordiv
    T.__rfloordiv__ = _r(m.floordiv)
    T.__mod__ = m.floormod
    T.__rmod__ = _r(m.floormod)
    T.__pow__ = m.pow
    T.__rpow__ = _r(m.pow)
    T.__matmul__ = _matmul
    T.__rmatmul__ = _r(_matmul)
    T.__neg__ = m.negative
    T.__pos__ = lambda s: s
    T.__abs__ = m.abs
    T.__invert__ = _invert
    T.__and__ = _and
    T.__rand__ = _r(_and)
    T.__or__ = _or
    T.__ror__ = _r(_or)
    T.__xor__ = _xor
    T.__rxor__ = _r(_xor)
    T.__lt__ = m.less
    T.__le__ = m.less_equal
    T.__gt__ = m.greater
    T.__ge__ = m.greater_equal
    T.__eq__ = _eq
    T.__ne__ = _ne
    T.__getitem__ = array.getitem
