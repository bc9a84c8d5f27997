"""Clipping by norm: `tf.clip_by_norm`, `tf.clip_by_global_norm` and `tf.linalg.global_norm`,
made of differentiable ops (they trace and differentiate like any op).

>>> import ndflow as tf
>>> clipped, norm = tf.clip_by_global_norm([tf.constant([3.0, 4.0]), None], 1.0)
>>> [round(float(v), 2) for v in clipped[0]], clipped[1], float(norm)
([0.6, 0.8], None, 5.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ndflow.core.dispatch import fail
from ndflow.core.tensor import Tensor, constant
from ndflow.ops import math as m
from ndflow.ops._util import npdt, t
from ndflow.ops.reduce import reduce_sum


def _tensor_list(where: str, t_list: Any) -> list:
    if isinstance(t_list, (Tensor, np.ndarray)) or not isinstance(t_list, Sequence):
        raise fail(where, "a list or tuple of tensors", type(t_list).__name__,
                   "Wrap a single tensor in a list, e.g. [grad].")
    return [None if x is None else t(x) for x in t_list]


def global_norm(t_list: Sequence, name: str | None = None) -> Tensor:
    """sqrt(sum of the squares of every element of every tensor); None entries are skipped."""
    tensors = [x for x in _tensor_list("global_norm", t_list) if x is not None]
    if not tensors:
        return constant(np.float32(0.0))
    squares = [reduce_sum(m.square(x)) for x in tensors]
    if any(npdt(s) != npdt(squares[0]) for s in squares):
        raise fail("global_norm", "tensors of one dtype",
                   ", ".join(sorted({npdt(s).name for s in squares})), "Cast them first.")
    return m.sqrt(m.add_n(squares))


def clip_by_global_norm(t_list: Sequence, clip_norm: Any, use_norm: Any = None,
                        name: str | None = None) -> tuple[list, Tensor]:
    """Scale every tensor by ``clip_norm / max(global_norm, clip_norm)``; returns (the scaled
    list, None entries kept, and the global norm). An infinite or NaN norm makes every value
    NaN, as in TensorFlow."""
    tensors = _tensor_list("clip_by_global_norm", t_list)
    norm = global_norm(tensors) if use_norm is None else t(use_norm)
    clip = m.cast(t(clip_norm), norm.dtype)
    # clip / max(norm, clip): TensorFlow's clip * min(1 / norm, 1 / clip) without dividing by
    # a zero norm; NaN when the norm is inf or NaN, as there
    scale = m.where(m.is_finite(norm), m.divide(clip, m.maximum(norm, clip)),
                    m.cast(t(np.nan), norm.dtype))
    clipped = [None if x is None else m.multiply(x, m.cast(scale, x.dtype)) for x in tensors]
    return clipped, norm


def clip_by_norm(t_: Any, clip_norm: Any, axes: Any = None, name: str | None = None) -> Tensor:
    """`t_` scaled so that its L2 norm (over `axes`, default all) is at most `clip_norm`;
    a zero norm leaves it unchanged, with a finite gradient."""
    x = t(t_)
    clip = m.cast(t(clip_norm), x.dtype)
    sq = reduce_sum(m.square(x), axes, keepdims=True)
    positive = m.greater(sq, 0.0)
    norm = m.where(positive, m.sqrt(m.where(positive, sq, m.ones_like_(sq))), sq)
    return m.divide(m.multiply(x, clip), m.maximum(norm, clip))


__all__ = ["clip_by_global_norm", "clip_by_norm", "global_norm"]
