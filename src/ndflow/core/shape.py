"""`TensorShape`: a tuple of dimensions where an unknown dimension is None.

>>> from ndflow import TensorShape
>>> s = TensorShape([None, 3])
>>> s.rank, s.as_list(), s.is_fully_defined()
(2, [None, 3], False)
"""

from __future__ import annotations

import math
from collections.abc import Iterable


class TensorShape(tuple):
    """An immutable shape that compares equal to tuples and lists of the same dims."""

    def __new__(cls, dims: Iterable[int | None] | None = ()) -> TensorShape:
        if dims is None:
            dims = ()
        return super().__new__(cls, (None if d is None else int(d) for d in dims))

    @property
    def rank(self) -> int:
        return len(self)

    @property
    def ndims(self) -> int:
        return len(self)

    @property
    def dims(self) -> list[int | None]:
        return list(self)

    def as_list(self) -> list[int | None]:
        return list(self)

    def is_fully_defined(self) -> bool:
        return None not in self

    def num_elements(self) -> int | None:
        return math.prod(self) if self.is_fully_defined() else None

    def is_compatible_with(self, other: Iterable[int | None]) -> bool:
        other = tuple(other)
        return len(other) == len(self) and all(
            a is None or b is None or a == b for a, b in zip(self, other)
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (tuple, list)):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = tuple.__hash__

    def __getitem__(self, key):  # type: ignore[override]
        out = tuple.__getitem__(self, key)
        return TensorShape(out) if isinstance(key, slice) else out

    def __repr__(self) -> str:
        return f"TensorShape({list(self)})"

    def __str__(self) -> str:
        return "(" + ", ".join("None" if d is None else str(d) for d in self) + (
            ",)" if len(self) == 1 else ")"
        )
