"""`tf.unique` and `tf.unique_with_counts`: the distinct values of a 1-D tensor in order of
first appearance, and for every element the index of its value among them. The result's
length depends on the values, so these run eagerly (inside `ndflow.function` they are a clear
error: graphs have known shapes).

>>> import ndflow as tf
>>> y, idx = tf.unique([1, 1, 2, 4, 4, 4, 7, 8, 8])
>>> y.numpy().tolist(), idx.numpy().tolist()
([1, 2, 4, 7, 8], [0, 0, 1, 2, 2, 2, 3, 4, 4])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ndflow.core import dtypes as _dt
from ndflow.core.dispatch import fail
from ndflow.core.tensor import Tensor, constant
from ndflow.ops._util import has_no_value, t


class Unique(NamedTuple):
    y: Tensor
    idx: Tensor


class UniqueWithCounts(NamedTuple):
    y: Tensor
    idx: Tensor
    count: Tensor


def _first_appearance(op: str, x: Any, out_idx: Any) -> tuple:
    x = t(x)
    if has_no_value(x):
        raise fail(op, "a tensor with values (the result's length depends on them)",
                   "a traced tensor", f"Call tf.{op} outside ndflow.function, e.g. in data "
                   "preparation.")
    v = np.asarray(x._value)
    if v.ndim != 1:
        raise fail(op, "a 1-D tensor", f"shape {list(v.shape)}", "Flatten it with tf.reshape.")
    idx_dtype = _dt.as_dtype(out_idx)._np
    if idx_dtype not in (np.int32, np.int64):
        raise fail(op, "out_idx int32 or int64", str(idx_dtype))
    values, first, inverse, counts = np.unique(v, return_index=True, return_inverse=True,
                                               return_counts=True)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return (constant(values[order]), constant(rank[inverse.reshape(-1)].astype(idx_dtype)),
            constant(counts[order].astype(idx_dtype)))


def unique(x: Any, out_idx: Any = "int32", name: str | None = None) -> Unique:
    """(y, idx): the distinct values in order of first appearance, and ``x == y[idx]``."""
    y, idx, _ = _first_appearance("unique", x, out_idx)
    return Unique(y, idx)


def unique_with_counts(x: Any, out_idx: Any = "int32", name: str | None = None
                       ) -> UniqueWithCounts:
    """`unique` plus how many times each distinct value occurs."""
    return UniqueWithCounts(*_first_appearance("unique_with_counts", x, out_idx))


__all__ = ["unique", "unique_with_counts"]
