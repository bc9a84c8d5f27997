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
    T.__add__ = lambda s, o: m.add(s, o)
    T.__radd__ = _r(m.add)
    T.__sub__ = lambda s, o: m.subtract(s, o)
    T.__rsub__ = _r(m.subtract)
    T.__mul__ = lambda s, o: m.multiply(s, o)
    T.__rmul__ = _r(m.multiply)
    T.__truediv__ = lambda s, o: m.divide(s, o)
    T.__rtruediv__ = _r(m.divide)
    T.__floordiv__ = lambda s, o: m.floordiv(s, o)
    T.__rfloordiv__ = _r(m.floordiv)
    T.__mod__ = lambda s, o: m.floormod(s, o)
    T.__rmod__ = _r(m.floormod)
    T.__pow__ = lambda s, o: m.pow(s, o)
    T.__rpow__ = _r(m.pow)
    T.__matmul__ = _matmul
    T.__rmatmul__ = _r(_matmul)
    T.__neg__ = lambda s: m.negative(s)
    T.__pos__ = lambda s: s
    T.__abs__ = lambda s: m.abs(s)
    T.__invert__ = _invert
    T.__and__ = _and
    T.__rand__ = _r(_and)
    T.__or__ = _or
    T.__ror__ = _r(_or)
    T.__xor__ = _xor
    T.__rxor__ = _r(_xor)
    T.__lt__ = lambda s, o: m.less(s, o)
    T.__le__ = lambda s, o: m.less_equal(s, o)
    T.__gt__ = lambda s, o: m.greater(s, o)
    T.__ge__ = lambda s, o: m.greater_equal(s, o)
    T.__eq__ = _eq
    T.__ne__ = _ne
    T.__getitem__ = array.getitem
