"""`ReduceOp`: how values from the replicas are combined (`tf.distribute.ReduceOp`)."""

from __future__ import annotations

import enum
from typing import Any


class ReduceOp(enum.Enum):
    """``SUM`` or ``MEAN`` of the values from all replicas.

    >>> ReduceOp.from_string("mean")
    <ReduceOp.MEAN: 'MEAN'>
    """

    SUM = "SUM"
    MEAN = "MEAN"

    @staticmethod
    def from_string(s: str) -> ReduceOp:
        return ReduceOp[str(s).upper()]


def as_reduce_op(op: Any, caller: str) -> ReduceOp:
    if isinstance(op, ReduceOp):
        return op
    if isinstance(op, str) and op.upper() in ("SUM", "MEAN"):
        return ReduceOp[op.upper()]
    raise ValueError(f"{caller}: expected a reduce op (tf.distribute.ReduceOp.SUM or .MEAN, or "
                     f"'sum'/'mean'), got {op!r}")
