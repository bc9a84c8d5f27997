"""`TensorShape`: a tuple of dimensions where an unknown dimension is None.

>>> from ndflow import TensorShape
>>> s = TensorShape([None, 3])
>>> s.rank, s.as_list(), s.is_fully_defined()
(2, [None, 3], False)
>>> TensorShape(None).rank is None  # unknown rank: compatible with every shape
True
"""

from __future__ import annotations

import math
from collections.abc import Iterable


class TensorShape(tuple):
    """An immutable shape that compares equal to tuples and lists of the same dims;
    ``TensorShape(None)`` is a shape of unknown rank (as in TensorFlow)."""

    _unknown_rank = False

    def __new__(cls, dims: Iterable[int | None] | None = ()) -> TensorShape:
        if dims is None:
            shape = super().__new__(cls, ())
            shape._unknown_rank = True
            return shape
        if isinstance(dims, TensorShape) and dims._unknown_rank:
            return TensorShape(None)
        return super().__new__(cls, (None if d is None else int(d) for d in dims))

    @property
    def rank(self) -> int | None:
        return None if self._unknown_rank else len(self)

    @property
    def ndims(self) -> int | None:
        return self.rank

    @property
    def dims(self) -> list[int | None] | None:
        return None if self._unknown_rank else list(self)

    def as_list(self) -> list[int | None]:
        if self._unknown_rank:
            raise ValueError("TensorShape.as_list() is not defined on a shape of unknown rank")
        return list(self)

    def is_fully_defined(self) -> bool:
        return not self._unknown_rank and None not in self

    def num_elements(self) -> int | None:
        return math.prod(self) if self.is_fully_defined() else None

    def is_compatible_with(self, other: Iterable[int | None] | None) -> bool:
        if self._unknown_rank or other is None or getattr(other, "_unknown_rank", False):
            return True
        other = tuple(other)
        return len(other) == len(self) and all(
            a is None or b is None or a == b for a, b in zip(self, other)
        )

    def concatenate(self, other: Iterable[int | None] | None) -> TensorShape:
        """This shape's dims followed by `other`'s (unknown rank if either is)."""
        other = as_shape(other)
        if self._unknown_rank or other._unknown_rank:
            return TensorShape(None)
        return TensorShape(tuple(self) + tuple(other))

    def merge_with(self, other: Iterable[int | None] | None) -> TensorShape:
        """The most specific shape compatible with both; ValueError if they are not.

        >>> TensorShape([None, 3]).merge_with([2, None])
        TensorShape([2, 3])
        """
        other = as_shape(other)
        if self._unknown_rank:
            return other
        if other._unknown_rank:
            return self
        self.assert_is_compatible_with(other)
        return TensorShape(b if a is None else a for a, b in zip(self, other))

    def assert_is_compatible_with(self, other: Iterable[int | None] | None) -> None:
        if not self.is_compatible_with(other):
            raise ValueError(f"Shapes {self} and {as_shape(other)} are incompatible")

    def assert_has_rank(self, rank: int) -> None:
        if self.rank not in (None, rank):
            raise ValueError(f"Shape {self} must have rank {rank}")

    def with_rank(self, rank: int) -> TensorShape:
        """This shape with the given rank (dims unknown if the rank was); ValueError for
        another rank."""
        if self._unknown_rank:
            return TensorShape([None] * rank)
        self.assert_has_rank(rank)
        return self

    def with_rank_at_least(self, rank: int) -> TensorShape:
        if self.rank is not None and self.rank < rank:
            raise ValueError(f"Shape {self} must have rank at least {rank}")
        return self

    def with_rank_at_most(self, rank: int) -> TensorShape:
        if self.rank is not None and self.rank > rank:
            raise ValueError(f"Shape {self} must have rank at most {rank}")
        return self

    def __add__(self, other: Iterable[int | None]) -> TensorShape:  # type: ignore[override]
        return self.concatenate(other)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (tuple, list)):
            if self._unknown_rank or getattr(other, "_unknown_rank", False):
                return self._unknown_rank and getattr(other, "_unknown_rank", False)
            return tuple(self) == tuple(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = tuple.__hash__

    def __getitem__(self, key):  # type: ignore[override]
        if self._unknown_rank:
            return TensorShape(None) if isinstance(key, slice) else None
        out = tuple.__getitem__(self, key)
        return TensorShape(out) if isinstance(key, slice) else out

    def __repr__(self) -> str:
        return "TensorShape(None)" if self._unknown_rank else f"TensorShape({list(self)})"

    def __str__(self) -> str:
        if self._unknown_rank:
            return "<unknown>"
        return "(" + ", ".join("None" if d is None else str(d) for d in self) + (
            ",)" if len(self) == 1 else ")"
        )


def as_shape(shape: Iterable[int | None] | None) -> TensorShape:
    """`shape` as a TensorShape (None: unknown rank)."""
    return shape if isinstance(shape, TensorShape) else TensorShape(shape)
