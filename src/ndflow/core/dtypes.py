"""TensorFlow-style dtypes over NumPy dtypes.

>>> import ndflow as tf
>>> tf.float32.name, tf.as_dtype("int32").is_integer
('float32', True)
"""

from __future__ import annotations

from typing import Any

import numpy as np


_pybool = bool


class DType:
    """A tensor element type; compares equal to the matching NumPy dtype and name."""

    __slots__ = ("_np", "name")

    def __init__(self, np_dtype: np.dtype) -> None:
        self._np = np.dtype(np_dtype)
        kind = self._np.kind
        self.name = "bool" if kind == "b" else "string" if kind == "O" else self._np.name

    @property
    def as_numpy_dtype(self) -> type:
        return self._np.type

    @property
    def is_floating(self) -> bool:
        return self._np.kind == "f"

    @property
    def is_integer(self) -> bool:
        return self._np.kind in "iu"

    @property
    def is_unsigned(self) -> bool:
        return self._np.kind == "u"

    @property
    def is_bool(self) -> bool:
        return self._np.kind == "b"

    @property
    def is_complex(self) -> bool:
        return self._np.kind == "c"

    @property
    def size(self) -> int:
        return self._np.itemsize

    @property
    def is_string(self) -> bool:
        return self._np.kind == "O"

    @property
    def min(self) -> Any:
        if self.is_string:
            raise TypeError("string has no minimum")
        if self.is_bool:
            return False
        if self.is_complex:
            raise TypeError(f"{self.name} has no minimum (complex numbers are not ordered)")
        return np.finfo(self._np).min if self.is_floating else np.iinfo(self._np).min

    @property
    def max(self) -> Any:
        if self.is_string:
            raise TypeError("string has no maximum")
        if self.is_bool:
            return True
        if self.is_complex:
            raise TypeError(f"{self.name} has no maximum (complex numbers are not ordered)")
        return np.finfo(self._np).max if self.is_floating else np.iinfo(self._np).max

    def __eq__(self, other: object) -> bool:
        try:
            return self._np == as_dtype(other)._np
        except (TypeError, ValueError):
            return False

    def __hash__(self) -> int:
        return hash(self._np)

    def __repr__(self) -> str:
        return f"tf.{self.name}"

    __str__ = __repr__


float16 = half = DType(np.float16)
float32 = DType(np.float32)
float64 = double = DType(np.float64)
int8 = DType(np.int8)
int16 = DType(np.int16)
int32 = DType(np.int32)
int64 = DType(np.int64)
uint8 = DType(np.uint8)
uint16 = DType(np.uint16)
uint32 = DType(np.uint32)
uint64 = DType(np.uint64)
bool = DType(np.bool_)  # noqa: A001 - TensorFlow's public name
complex64 = DType(np.complex64)
complex128 = DType(np.complex128)
# Strings: NumPy object arrays of `bytes` (UTF-8), as TensorFlow's `.numpy()` returns them.
string = DType(np.object_)

_BY_NP: dict[np.dtype, DType] = {
    d._np: d
    for d in (float16, float32, float64, int8, int16, int32, int64, uint8, uint16,
              uint32, uint64, bool, complex64, complex128, string)
}
_BY_NAME: dict[str, DType] = {d.name: d for d in _BY_NP.values()}
_BY_NAME.update({"half": float16, "double": float64, "float": float32, "int": int32})


def as_dtype(value: Any) -> DType:
    """Convert a DType, NumPy dtype, Python type or name into a `DType`."""
    if type(value) is DType:
        return value
    if isinstance(value, str):
        try:
            return _BY_NAME[value]
        except KeyError:
            raise TypeError(
                f"as_dtype: unknown dtype name {value!r}; expected one of {sorted(_BY_NAME)}"
            ) from None
    if value is float:
        return float32
    if value is int:
        return int32
    if value is _pybool:
        return bool
    if value is str or value is bytes:
        return string
    try:
        npd = np.dtype(value)
        return string if npd.kind in "US" else _BY_NP[npd]
    except (KeyError, TypeError):
        raise TypeError(f"as_dtype: cannot interpret {value!r} as a dtype") from None


def np_dtype(value: Any) -> np.dtype:
    """The NumPy dtype for a dtype-like value (fast path for NumPy dtypes)."""
    if isinstance(value, np.dtype):
        return value
    return as_dtype(value)._np
