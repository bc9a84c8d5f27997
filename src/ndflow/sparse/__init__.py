"""`tf.sparse`: the `SparseTensor` value that `tf.io.VarLenFeature` parsing returns.

>>> import ndflow as tf
>>> st = tf.sparse.SparseTensor(indices=[[0, 1], [2, 0]], values=[5, 7], dense_shape=[3, 2])
>>> tf.sparse.to_dense(st).numpy().tolist()
[[0, 5], [0, 0], [7, 0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.errors import InvalidArgumentError


def _host(x: Any, dtype: Any = None) -> Any:
    if isinstance(x, Tensor):
        return x.numpy()
    a = np.asarray(x, dtype=dtype)
    return a


def _out(a: np.ndarray) -> Any:
    return a if a.dtype.kind == "O" else Tensor(a)


class SparseTensor:
    """Values at `indices` (int64 [N, rank]) of a tensor of shape `dense_shape`; string values
    stay a NumPy object array (the core has no string tensors)."""

    def __init__(self, indices: Any, values: Any, dense_shape: Any) -> None:
        self._indices = np.asarray(_host(indices), np.int64).reshape(-1, len(_host(dense_shape)))
        v = _host(values)
        if isinstance(values, (list, tuple)) and any(isinstance(e, (bytes, str)) for e in values):
            v = np.empty(len(values), dtype=object)
            v[:] = [e.encode() if isinstance(e, str) else e for e in values]
        self._values = v.reshape(-1)
        self._dense_shape = np.asarray(_host(dense_shape), np.int64).reshape(-1)
        if self._indices.shape[0] != self._values.shape[0]:
            raise InvalidArgumentError(
                f"SparseTensor: expected as many indices as values, got "
                f"{self._indices.shape[0]} and {self._values.shape[0]}")

    @property
    def indices(self) -> Tensor:
        return Tensor(self._indices)

    @property
    def values(self) -> Any:
        return _out(self._values)

    @property
    def dense_shape(self) -> Tensor:
        return Tensor(self._dense_shape)

    @property
    def shape(self) -> tuple:
        return tuple(int(d) for d in self._dense_shape)

    @property
    def dtype(self) -> Any:
        return self._values.dtype

    def __repr__(self) -> str:
        return (f"SparseTensor(indices={self._indices.tolist()}, values={self._values.tolist()}, "
                f"dense_shape={self._dense_shape.tolist()})")


def to_dense(sp_input: SparseTensor, default_value: Any = None,
             validate_indices: bool = True, name: str | None = None) -> Any:
    """The dense tensor of a SparseTensor (missing entries: `default_value`, else 0 or b"")."""
    if not isinstance(sp_input, SparseTensor):
        raise InvalidArgumentError(f"sparse.to_dense: expected a SparseTensor, got "
                                   f"{type(sp_input).__name__}")
    v = sp_input._values
    if default_value is None:
        default_value = b"" if v.dtype.kind == "O" else 0
    out = np.full(tuple(sp_input._dense_shape), _host(default_value), dtype=v.dtype)
    if len(v):
        out[tuple(sp_input._indices.T)] = v
    return _out(out)


__all__ = ["SparseTensor", "to_dense"]
