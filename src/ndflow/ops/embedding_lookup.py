"""`tf.nn.embedding_lookup`: rows of an embedding table (or of a table split into shards).

>>> import ndflow as tf
>>> table = tf.constant([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])
>>> tf.nn.embedding_lookup(table, [2, 0]).numpy().tolist()
[[2.0, 2.0], [0.0, 0.0]]
"""

from __future__ import annotations

from typing import Any

from ndflow.core.dispatch import fail
from ndflow.core.tensor import Tensor, convert_to_tensor


def embedding_lookup(params: Any, ids: Any, max_norm: float | None = None,
                     name: str | None = None) -> Tensor:
    """`params[ids]` along the first axis, differentiable with respect to `params`.

    `params` may be a list of shards that split the table by rows in order (TensorFlow's
    "div" strategy); `max_norm` clips each looked-up row to that L2 norm.
    """
    from ndflow.ops.array import concat, gather

    if isinstance(params, (list, tuple)):
        if not params:
            raise fail("embedding_lookup", "a non-empty list of parameter shards", "[]",
                       "pass the embedding table as a tensor or a list of its row shards")
        shards = [convert_to_tensor(p) for p in params]
        table = shards[0] if len(shards) == 1 else concat(shards, axis=0)
    else:
        table = params if isinstance(params, Tensor) else convert_to_tensor(params)
    ids = ids if isinstance(ids, Tensor) else convert_to_tensor(ids)
    if ids.dtype.name not in ("int32", "int64", "uint8", "int16", "int8"):
        raise fail("embedding_lookup", "integer ids", ids.dtype.name,
                   "cast the ids with tf.cast(ids, tf.int32)")
    if table.shape.rank is not None and table.shape.rank < 1:
        raise fail("embedding_lookup", "params of rank >= 1", "a scalar")
    rows = gather(table, ids)
    if max_norm is None:
        return rows
    from ndflow.ops import math as m
    from ndflow.ops.reduce import reduce_sum

    axes = list(range(len(ids.shape), len(rows.shape)))
    norm = m.sqrt(reduce_sum(m.square(rows), axis=axes, keepdims=True))
    scale = m.minimum(1.0, m.divide(float(max_norm), m.maximum(norm, 1e-12)))
    return rows * scale
