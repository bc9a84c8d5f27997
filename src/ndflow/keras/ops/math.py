"""`keras.ops.math`: logsumexp, top-k, segment reductions, erf, rsqrt and friends.

>>> from ndflow.keras import ops
>>> values, indices = ops.top_k([1.0, 3.0, 2.0], k=2)
>>> values.numpy().tolist(), indices.numpy().tolist()
([3.0, 2.0], [1, 2])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import Tensor
from ndflow.keras.ops._common import as_tensor, norm_axes, rank, static_value, to_float
from ndflow.ops import array as a_
from ndflow.ops import linalg as la_
from ndflow.ops import math as m
from ndflow.ops import reduce as r_
from ndflow.ops._util import npdt, shape_of


def logsumexp(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """`log(sum(exp(x)))` over `axis`, computed stably.

    >>> round(float(logsumexp([0.0, 0.0])), 4)
    0.6931
    """
    x = to_float(x)
    return r_.reduce_logsumexp(x, norm_axes("logsumexp", axis, rank(x)), keepdims)


def top_k(x: Any, k: int, sorted: bool = True) -> tuple:  # noqa: A002
    """The `k` largest entries of the last axis and their int32 indices."""
    x = as_tensor(x)
    res = a_.top_k(x, int(k), sorted=sorted)
    return res.values, res.indices


def in_top_k(targets: Any, predictions: Any, k: int) -> Tensor:
    """True where the target class is among the `k` highest predictions (ties with the
    k-th value count as in)."""
    p = to_float(predictions)
    t = as_tensor(targets)
    if npdt(t).kind not in "iu":
        t = m.cast(t, np.int32)
    target_score = a_.take_along_axis(p, a_.expand_dims(t, -1), -1)
    better = r_.reduce_sum(m.cast(m.greater(p, target_score), np.int32), -1)
    return m.logical_and(m.less(better, int(k)), m.is_finite(a_.squeeze(target_score, -1)))


def _segments(op: str, data: Any, segment_ids: Any, num_segments: Any) -> tuple:
    d = as_tensor(data)
    ids = as_tensor(segment_ids)
    if npdt(ids).kind not in "iu":
        raise fail(f"keras.ops.{op}", "integer segment ids", f"dtype {npdt(ids).name}")
    if rank(ids) != 1:
        raise fail(f"keras.ops.{op}", "1-D segment ids", f"shape {list(shape_of(ids))}")
    if num_segments is None:
        v = static_value(op, ids, "segment_ids (or pass num_segments)")
        num_segments = int(v.max()) + 1 if v.size else 0
    return d, ids, int(num_segments)


def segment_sum(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> Tensor:  # noqa: A002
    """Sum of the rows of `data` sharing a segment id; ids outside [0, num_segments) are
    dropped."""
    d, ids, n = _segments("segment_sum", data, segment_ids, num_segments)
    wdt = npdt(d) if npdt(d).kind != "b" else np.dtype(np.int32)
    oh = a_.one_hot(ids, n, dtype=wdt)  # [rows, n]
    return la_.tensordot(oh, m.cast(d, wdt), [[0], [0]])


def segment_max(data: Any, segment_ids: Any, num_segments: int | None = None,
                sorted: bool = False) -> Tensor:  # noqa: A002
    """Maximum of the rows of `data` sharing a segment id; empty segments hold the dtype's
    lowest value (as TensorFlow)."""
    d, ids, n = _segments("segment_max", data, segment_ids, num_segments)
    oh = a_.one_hot(ids, n, on_value=True, off_value=False, dtype=np.bool_)  # [rows, n]
    nd = rank(d)
    mask = a_.reshape(oh, [-1 if s is None else s for s in shape_of(oh)] + [1] * (nd - 1))
    de = a_.expand_dims(d, 1)  # [rows, 1, ...]
    dt = npdt(d)
    low = np.finfo(dt).min if dt.kind == "f" else np.iinfo(dt).min
    filled = m.where(mask, de, m.add(m.zeros_like_(de), as_tensor(low, dt)))
    return r_.reduce_max(filled, 0)


def extract_sequences(x: Any, sequence_length: int, sequence_stride: int) -> Tensor:
    """Frames of `sequence_length` samples every `sequence_stride` along the last axis:
    shape `(..., num_frames, sequence_length)`.

    >>> extract_sequences([1.0, 2.0, 3.0, 4.0, 5.0], 2, 2).numpy().tolist()
    [[1.0, 2.0], [3.0, 4.0]]
    """
    x = as_tensor(x)
    n = shape_of(x)[-1]
    length, stride = int(sequence_length), int(sequence_stride)
    if n is None or length <= 0 or stride <= 0 or length > n:
        raise fail("keras.ops.extract_sequences", "a known last axis at least sequence_length "
                   "long and positive length and stride",
                   f"shape {list(shape_of(x))}, length {length}, stride {stride}")
    frames = 1 + (n - length) // stride
    idx = np.arange(frames)[:, None] * stride + np.arange(length)[None, :]
    from ndflow.core.tensor import constant

    return a_.gather(x, constant(idx.astype(np.int32)), axis=rank(x) - 1)


def erf(x: Any) -> Tensor:
    """The error function."""
    return m.erf(to_float(x))


def rsqrt(x: Any) -> Tensor:
    """`1 / sqrt(x)`."""
    return m.rsqrt(to_float(x))


__all__ = ["erf", "extract_sequences", "in_top_k", "logsumexp", "rsqrt", "segment_max",
           "segment_sum", "top_k"]
