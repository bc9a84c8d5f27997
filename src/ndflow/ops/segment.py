"""Segment reductions (`tf.math.segment_sum` ... and `unsorted_segment_*`): rows of `data`
that share an id in `segment_ids` are reduced together, built from ndflow ops (one-hot masks),
so they differentiate and trace.

Empty segments follow TensorFlow: 0 for sorted `segment_*` (sum, mean, max, min) and 1 for
`segment_prod`; for `unsorted_segment_*`, 0 for sum and mean, 1 for prod, and the dtype's
lowest (max) or highest (min) value.

>>> segment_sum([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], [0, 0, 1]).numpy().tolist()
[[4.0, 6.0], [5.0, 6.0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import Tensor
from ndflow.ops import array as a_
from ndflow.ops import math as m
from ndflow.ops import reduce as r_
from ndflow.ops._util import npdt, shape_of, t


def _prepare(op: str, data: Any, segment_ids: Any, num_segments: Any) -> tuple:
    d, ids = t(data), t(segment_ids)
    if npdt(ids).kind not in "iu":
        raise fail(f"math.{op}", "integer segment ids", f"dtype {npdt(ids).name}")
    if len(shape_of(ids)) != 1 or shape_of(ids)[0] != shape_of(d)[0]:
        raise fail(f"math.{op}", "1-D segment ids, one per row of data",
                   f"ids {list(shape_of(ids))} for data {list(shape_of(d))}")
    if num_segments is None:
        if ids._symbolic:
            raise fail(f"math.{op}", "concrete segment ids (their maximum sets the count)",
                       "a symbolic tensor", "Use unsorted_segment_* with num_segments.")
        v = np.asarray(ids.numpy())
        num_segments = int(v.max()) + 1 if v.size else 0
    elif isinstance(num_segments, Tensor):
        num_segments = int(num_segments.numpy())
    return d, ids, int(num_segments)


def _mask(ids: Tensor, n: int, nd: int) -> Tensor:
    from ndflow.ops.shape_ops import reshape

    oh = a_.one_hot(ids, n, on_value=True, off_value=False, dtype=np.bool_)  # [rows, n]
    return reshape(oh, [-1, n] + [1] * (nd - 1))


def _masked(d: Tensor, ids: Tensor, n: int, fill: Any) -> tuple:
    nd = len(shape_of(d))
    mask = _mask(ids, n, nd)
    de = a_.expand_dims(d, 1)
    filled = m.where(mask, de, m.add(m.zeros_like_(de), np.asarray(fill, npdt(d))))
    count = r_.reduce_sum(m.cast(mask, npdt(d) if npdt(d).kind == "f" else np.int32), 0)
    return filled, count


def _sum(d: Tensor, ids: Tensor, n: int) -> Tensor:
    from ndflow.ops.linalg import tensordot

    oh = a_.one_hot(ids, n, dtype=npdt(d))
    return tensordot(oh, d, [[0], [0]])


def _lowest(dt: np.dtype) -> Any:
    return np.finfo(dt).min if dt.kind == "f" else np.iinfo(dt).min


def _highest(dt: np.dtype) -> Any:
    return np.finfo(dt).max if dt.kind == "f" else np.iinfo(dt).max


def unsorted_segment_sum(data: Any, segment_ids: Any, num_segments: Any,
                         name: str | None = None) -> Tensor:
    """Sum per segment; ids outside [0, num_segments) are dropped."""
    d, ids, n = _prepare("unsorted_segment_sum", data, segment_ids, num_segments)
    return _sum(d, ids, n)


def unsorted_segment_mean(data: Any, segment_ids: Any, num_segments: Any,
                          name: str | None = None) -> Tensor:
    """Mean per segment (0 for empty segments)."""
    d, ids, n = _prepare("unsorted_segment_mean", data, segment_ids, num_segments)
    total = _sum(d, ids, n)
    _, count = _masked(d, ids, n, 0)
    return m.divide(total, m.maximum(m.cast(count, npdt(total)), 1))


def unsorted_segment_prod(data: Any, segment_ids: Any, num_segments: Any,
                          name: str | None = None) -> Tensor:
    """Product per segment (1 for empty segments)."""
    d, ids, n = _prepare("unsorted_segment_prod", data, segment_ids, num_segments)
    return r_.reduce_prod(_masked(d, ids, n, 1)[0], 0)


def unsorted_segment_max(data: Any, segment_ids: Any, num_segments: Any,
                         name: str | None = None) -> Tensor:
    """Maximum per segment (the dtype's lowest value for empty segments)."""
    d, ids, n = _prepare("unsorted_segment_max", data, segment_ids, num_segments)
    return r_.reduce_max(_masked(d, ids, n, _lowest(npdt(d)))[0], 0)


def unsorted_segment_min(data: Any, segment_ids: Any, num_segments: Any,
                         name: str | None = None) -> Tensor:
    """Minimum per segment (the dtype's highest value for empty segments)."""
    d, ids, n = _prepare("unsorted_segment_min", data, segment_ids, num_segments)
    return r_.reduce_min(_masked(d, ids, n, _highest(npdt(d)))[0], 0)


def _sorted_extreme(op: str, data: Any, segment_ids: Any, reduce: Any, fill: Any) -> Tensor:
    d, ids, n = _prepare(op, data, segment_ids, None)
    filled, count = _masked(d, ids, n, fill(npdt(d)))
    out = reduce(filled, 0)
    empty = m.equal(count, m.zeros_like_(count))
    return m.where(empty, m.zeros_like_(out), out)


def segment_sum(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    """Sum per segment of sorted ids (as many segments as the largest id + 1)."""
    d, ids, n = _prepare("segment_sum", data, segment_ids, None)
    return _sum(d, ids, n)


def segment_mean(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    """Mean per segment of sorted ids."""
    return unsorted_segment_mean(data, segment_ids, None)


def segment_prod(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    """Product per segment of sorted ids."""
    return unsorted_segment_prod(data, segment_ids, None)


def segment_max(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    """Maximum per segment of sorted ids (0 for empty segments)."""
    return _sorted_extreme("segment_max", data, segment_ids, r_.reduce_max, _lowest)


def segment_min(data: Any, segment_ids: Any, name: str | None = None) -> Tensor:
    """Minimum per segment of sorted ids (0 for empty segments)."""
    return _sorted_extreme("segment_min", data, segment_ids, r_.reduce_min, _highest)


__all__ = ["segment_max", "segment_mean", "segment_min", "segment_prod", "segment_sum",
           "unsorted_segment_max", "unsorted_segment_mean", "unsorted_segment_min",
           "unsorted_segment_prod", "unsorted_segment_sum"]
