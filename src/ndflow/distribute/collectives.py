"""Collectives on tensors between the workers of an MPI job: `allreduce`, `broadcast`,
`allgather`, for custom loops; and the bucketed all-reduce that averages gradients.

They use the communicator of this process's `MultiWorkerMirroredStrategy` (``MPI.COMM_WORLD``
when none was made). Inside `ndflow.function` they run on every call of the compiled function.
They are not differentiable (reduce gradients, not values you differentiate through).

>>> import ndflow as tf
>>> s = tf.distribute.allreduce(tf.constant([1.0, 2.0]))  # doctest: +SKIP
>>> # under `mpirun -n 2`: [2.0, 4.0] on both workers
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ndflow.core import dispatch
from ndflow.core.tensor import Tensor, convert_to_tensor
from ndflow.distribute import _context
from ndflow.distribute.reduce_op import ReduceOp, as_reduce_op

_world: Any = None

DEFAULT_BUCKET_BYTES = 25 * 2**20  # as PyTorch DDP's default bucket


def communicator() -> Any:
    """The communicator collectives use: the worker strategy's, else a duplicate of
    ``MPI.COMM_WORLD`` made once."""
    global _world
    if _context.worker is not None:
        return _context.worker._comm
    if _world is None:
        from ndflow.distribute.mpi import Communicator

        _world = Communicator.world()
    return _world


def _host(fn: Any, value: Any, example: np.ndarray, **kwargs: Any) -> Any:
    """Run ``fn(value, **kwargs)`` now, or record it to run on every call of the traced
    function when `value` is a traced tensor."""
    if dispatch.trace_hook is not None and getattr(value, "_traced", False):
        from ndflow.graph.trace import host_call

        return host_call(fn, (value,), kwargs, example=example)
    return fn(value, **kwargs)


def _array(value: Any, caller: str) -> np.ndarray:
    t = value if isinstance(value, Tensor) else convert_to_tensor(value)
    if t._symbolic:
        raise TypeError(f"{caller}: expected a tensor with a value, got a symbolic tensor "
                        "(a Keras Input); call it on data, or inside ndflow.function")
    a = np.asarray(t._value)
    return a if a.flags.c_contiguous else a.copy()  # (ascontiguousarray makes 0-d 1-d)


def _static(value: Any) -> tuple:
    shape = tuple(value.shape)
    if any(d is None for d in shape):
        raise ValueError("ndflow.distribute collectives inside ndflow.function need static "
                         f"shapes; got {shape}")
    return shape


def _allreduce_now(value: Any, op: str = "SUM") -> Tensor:
    arr = _array(value, "allreduce").copy()
    comm = communicator()
    if arr.dtype == np.bool_:
        raise TypeError("allreduce: expected a numeric tensor, got bool")
    comm.allreduce_(arr, "sum")
    if op == "MEAN":
        arr = arr / arr.dtype.type(comm.size) if arr.dtype.kind in "fc" else arr // comm.size
    return Tensor(np.asarray(arr))


def allreduce(value: Any, reduce_op: ReduceOp | str = ReduceOp.SUM) -> Tensor:
    """Sum (or mean) of `value` over all workers; every worker gets the result.

    Args:
        value: a tensor with the same shape and dtype on every worker.
        reduce_op: `ReduceOp.SUM` (default) or `ReduceOp.MEAN`.
    """
    op = as_reduce_op(reduce_op, "allreduce").value
    if dispatch.trace_hook is not None and getattr(value, "_traced", False):
        return _host(_allreduce_now, value, np.zeros(_static(value), value._value.dtype), op=op)
    return _allreduce_now(value, op=op)


def _broadcast_now(value: Any, root: int = 0) -> Tensor:
    comm = communicator()
    if not 0 <= root < comm.size:
        raise ValueError(f"broadcast: root {root} is not a worker (there are {comm.size})")
    return Tensor(comm.bcast_(_array(value, "broadcast").copy(), root))


def broadcast(value: Any, root: int = 0) -> Tensor:
    """`root`'s `value` on every worker (same shape and dtype everywhere)."""
    if dispatch.trace_hook is not None and getattr(value, "_traced", False):
        return _host(_broadcast_now, value, np.zeros(_static(value), value._value.dtype),
                     root=int(root))
    return _broadcast_now(value, root=int(root))


def _allgather_now(value: Any, axis: int = 0) -> Tensor:
    arr = _array(value, "allgather")
    if arr.ndim == 0:
        arr = arr.reshape(1)
        axis = 0
    ax = axis % arr.ndim
    parts = communicator().allgather(np.moveaxis(arr, ax, 0))
    out = np.moveaxis(np.concatenate(parts, 0), 0, ax)
    return Tensor(out if out.flags.c_contiguous else out.copy())


def allgather(value: Any, axis: int = 0) -> Tensor:
    """The workers' values concatenated along `axis`, in worker order (their sizes along
    `axis` may differ; a scalar counts as one element)."""
    if dispatch.trace_hook is not None and getattr(value, "_traced", False):
        shape = list(_static(value)) or [1]
        shape[axis % len(shape)] *= communicator().size
        return _host(_allgather_now, value, np.zeros(shape, value._value.dtype), axis=int(axis))
    return _allgather_now(value, axis=int(axis))


class BucketedAllReduce:
    """Sums lists of arrays over the workers in few messages: arrays are packed, in order and
    by dtype, into buffers of at most `bucket_bytes` (an array larger than that goes alone), and
    each buffer is one all-reduce. With ``bucket_bytes=0`` every array is its own all-reduce.
    Buffers are kept between calls: the returned arrays are valid until the next call.

    (Blocking all-reduces: Open MPI's non-blocking ones were 20-30x slower for 1.6 MB over TCP
    here, more than any overlap of packing could win.)
    """

    def __init__(self, comm: Any, bucket_bytes: int = DEFAULT_BUCKET_BYTES) -> None:
        self.comm = comm
        self.bucket_bytes = int(bucket_bytes)
        self._plans: dict = {}
        self.last_num_buckets = 0

    def _plan(self, arrays: list) -> list:
        key = tuple((a.shape, a.dtype.str) for a in arrays)
        plan = self._plans.get(key)
        if plan is not None:
            return plan
        plan = []
        open_: dict = {}  # dtype -> bucket being filled
        for i, a in enumerate(arrays):
            nbytes = a.size * a.dtype.itemsize
            b = open_.get(a.dtype.str)
            if b is not None and b["bytes"] + nbytes <= self.bucket_bytes:
                b["items"].append((i, b["size"], a.size, a.shape))
                b["size"] += a.size
                b["bytes"] += nbytes
                continue
            b = {"dtype": a.dtype, "items": [(i, 0, a.size, a.shape)], "size": a.size,
                 "bytes": nbytes}
            plan.append(b)
            open_[a.dtype.str] = b
        for b in plan:
            b["buffer"] = np.empty(b["size"], b["dtype"])
        self._plans[key] = plan
        return plan

    def __call__(self, arrays: list, scale: float | None = None) -> list:
        """Sum of ``scale * array`` over the workers, for each array."""
        arrays = [np.asarray(a) for a in arrays]
        plan = self._plan(arrays)
        self.last_num_buckets = len(plan)
        out: list = [None] * len(arrays)
        for b in plan:
            buf = b["buffer"]
            for i, start, n, shape in b["items"]:
                dst = buf[start:start + n]
                src = arrays[i].reshape(-1)
                if scale is None:
                    np.copyto(dst, src)
                else:
                    np.multiply(src, buf.dtype.type(scale), out=dst)
                out[i] = dst.reshape(shape)
            self.comm.allreduce_(buf)
        return out


def reduce_value(value: Any, reduce_op: Any, axis: Any, num_workers: int, caller: str) -> Any:
    """`Strategy.reduce` on one replica's value: reduce along `axis` here, then over the
    workers (``num_workers`` > 1)."""
    from ndflow.ops import math as m
    from ndflow.ops import reduce as r

    op = as_reduce_op(reduce_op, caller)
    value = value if isinstance(value, Tensor) else convert_to_tensor(value)
    if axis is None:
        if num_workers == 1:
            return value
        return allreduce(value, op)
    if op is ReduceOp.SUM:
        local = r.reduce_sum(value, axis=axis)
        return local if num_workers == 1 else allreduce(local, ReduceOp.SUM)
    if num_workers == 1:
        return r.reduce_mean(value, axis=axis)
    # the mean over all the workers' elements along `axis` (their counts may differ)
    total = allreduce(r.reduce_sum(value, axis=axis), ReduceOp.SUM)
    shape = value.shape
    axes = [axis] if isinstance(axis, int) else list(axis)
    count = 1
    for a in axes:
        count *= int(shape[a])
    counts = allreduce(convert_to_tensor(np.asarray(count, np.float64)), ReduceOp.SUM)
    return m.divide(total, m.cast(counts, total.dtype))
