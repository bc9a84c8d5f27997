"""`tf.nn.compute_average_loss` and `tf.nn.scale_regularization_loss`: losses scaled so that
gradients *summed* over the replicas (what optimizers do under a strategy) are the gradients of
the global mean.

>>> import ndflow as tf
>>> float(tf.nn.compute_average_loss(tf.constant([1.0, 2.0, 3.0]), global_batch_size=6))
1.0
"""

from __future__ import annotations

from typing import Any

from ndflow.distribute import _context


def _num_replicas() -> int:
    if _context.running:
        return _context.running[-1].num_replicas_in_sync
    s = _context.current()
    return 1 if s is None else s.num_replicas_in_sync


def compute_average_loss(per_example_loss: Any, sample_weight: Any = None,
                         global_batch_size: int | None = None) -> Any:
    """Sum of the (weighted) per-example losses divided by the global batch size (by default
    this replica's batch size times the number of replicas in sync)."""
    from ndflow.core.tensor import convert_to_tensor
    from ndflow.ops import math as m
    from ndflow.ops import reduce as r

    loss = convert_to_tensor(per_example_loss)
    if sample_weight is not None:
        loss = m.multiply(loss, m.cast(convert_to_tensor(sample_weight), loss.dtype))
    if global_batch_size is None:
        shape = loss.shape
        if not len(shape) or shape[0] is None:
            raise ValueError("compute_average_loss: per_example_loss needs a known batch "
                             f"dimension to infer the global batch size, got shape {shape}; "
                             "pass global_batch_size")
        global_batch_size = int(shape[0]) * _num_replicas()
    if int(global_batch_size) <= 0:
        raise ValueError(f"compute_average_loss: global_batch_size must be positive, got "
                         f"{global_batch_size}")
    total = r.reduce_sum(loss)
    return m.divide(total, m.cast(convert_to_tensor(float(global_batch_size)), total.dtype))


def scale_regularization_loss(regularization_loss: Any) -> Any:
    """The sum of `regularization_loss` divided by the number of replicas in sync."""
    from ndflow.core.tensor import convert_to_tensor
    from ndflow.ops import math as m
    from ndflow.ops import reduce as r

    total = r.reduce_sum(convert_to_tensor(regularization_loss))
    return m.divide(total, m.cast(convert_to_tensor(float(_num_replicas())), total.dtype))
