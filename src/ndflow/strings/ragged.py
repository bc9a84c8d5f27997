"""`RaggedTensor`: rows of different lengths (what `tf.strings.split` returns for a batch).

Stored as TensorFlow does: a flat `values` array and `row_splits` (row i is
`values[row_splits[i]:row_splits[i + 1]]`).

>>> rt = RaggedTensor.from_row_splits([b"a", b"b", b"c"], [0, 2, 3])
>>> rt.to_list()
[[b'a', b'b'], [b'c']]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dtypes import as_dtype
from ndflow.core.shape import TensorShape
from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.errors import InvalidArgumentError


class RaggedTensor:
    """A batch of rows with varying lengths (one ragged dimension, rank 2)."""

    def __init__(self, values: np.ndarray, row_splits: np.ndarray) -> None:
        self._values = values
        self._splits = row_splits.astype(np.int64)

    @classmethod
    def from_row_splits(cls, values: Any, row_splits: Any, validate: bool = True) -> RaggedTensor:
        vals = convert_to_tensor(values).numpy()
        splits = np.asarray(row_splits, np.int64)
        if validate and (splits.ndim != 1 or splits.size == 0 or splits[0] != 0
                         or splits[-1] != len(vals) or np.any(np.diff(splits) < 0)):
            raise InvalidArgumentError(
                f"RaggedTensor.from_row_splits: expected non-decreasing row_splits starting at "
                f"0 and ending at len(values)={len(vals)}, got {splits.tolist()}")
        return cls(vals, splits)

    @classmethod
    def from_row_lengths(cls, values: Any, row_lengths: Any,
                         validate: bool = True) -> RaggedTensor:
        lengths = np.asarray(row_lengths, np.int64)
        return cls.from_row_splits(values, np.concatenate([[0], np.cumsum(lengths)]), validate)

    @classmethod
    def from_rows(cls, rows: list, dtype: Any = None) -> RaggedTensor:
        """Build from a list of 1-D arrays or lists (ndflow helper)."""
        lengths = [len(r) for r in rows]
        if dtype is not None and as_dtype(dtype).is_string or (
                dtype is None and any(len(r) and isinstance(r[0], (bytes, str)) for r in rows)):
            flat = np.empty(sum(lengths), object)
            flat[:] = [v for r in rows for v in r]
            values = convert_to_tensor(flat).numpy()
        else:
            npdt = None if dtype is None else as_dtype(dtype).as_numpy_dtype
            values = np.concatenate([np.asarray(r, npdt) for r in rows]) if rows else \
                np.zeros(0, npdt or np.float32)
        return cls(values, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))

    @property
    def values(self) -> Tensor:
        return Tensor(self._values)

    @property
    def flat_values(self) -> Tensor:
        return Tensor(self._values)

    @property
    def row_splits(self) -> Tensor:
        return Tensor(self._splits)

    @property
    def dtype(self) -> Any:
        return as_dtype(self._values.dtype)

    @property
    def shape(self) -> TensorShape:
        return TensorShape([len(self._splits) - 1, None])

    @property
    def ragged_rank(self) -> int:
        return 1

    def nrows(self) -> Tensor:
        return Tensor(np.asarray(len(self._splits) - 1, np.int64))

    def row_lengths(self) -> Tensor:
        return Tensor(np.diff(self._splits))

    def rows(self) -> list[np.ndarray]:
        """The rows as NumPy arrays (ndflow helper)."""
        s = self._splits
        return [self._values[s[i]:s[i + 1]] for i in range(len(s) - 1)]

    def to_list(self) -> list:
        return [r.tolist() for r in self.rows()]

    def numpy(self) -> np.ndarray:
        out = np.empty(len(self._splits) - 1, object)
        out[:] = self.rows()
        return out

    def to_tensor(self, default_value: Any = None, shape: Any = None) -> Tensor:
        """A dense tensor, rows padded with `default_value` (0 or b"") to the longest row, or
        padded/truncated to `shape`."""
        lengths = np.diff(self._splits)
        n = len(lengths)
        width = int(lengths.max()) if n else 0
        if shape is not None:
            shape = list(shape)
            if shape[0] is not None:
                n = int(shape[0])
            if shape[1] is not None:
                width = int(shape[1])
        if default_value is None:
            default_value = b"" if self._values.dtype.kind == "O" else 0
        out = np.empty((n, width), self._values.dtype)
        out[...] = default_value
        starts = self._splits[:-1]
        rid = np.repeat(np.arange(len(lengths)), lengths)
        cols = np.arange(len(self._values)) - np.repeat(starts, lengths)
        keep = (rid < n) & (cols < width)
        out[rid[keep], cols[keep]] = self._values[keep]
        return Tensor(out)

    def __len__(self) -> int:
        return len(self._splits) - 1

    def __iter__(self):
        return (Tensor(r) for r in self.rows())

    def __getitem__(self, i: int) -> Tensor:
        return Tensor(self.rows()[i])

    def __repr__(self) -> str:
        return f"<tf.RaggedTensor {self.to_list()!r:.200}>"
