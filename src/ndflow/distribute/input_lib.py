"""Input for distributed training: `InputContext` and the datasets strategies hand out.

TensorFlow's ``global_batch_size`` semantics: a dataset given to
`Strategy.experimental_distribute_dataset` (or to `fit` under a multi-worker strategy) yields
global batches; each worker takes its contiguous share of every batch (sizes differ by at most
one), so W workers see together exactly the samples one process would. With
`Strategy.distribute_datasets_from_function` the function builds each worker's own pipeline
(shard it with ``context.input_pipeline_id`` and batch with
``context.get_per_replica_batch_size(global_batch_size)``).

>>> shard_bounds(10, rank=1, size=4)
(3, 6)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.util import nest


class InputContext:
    """Where one input pipeline sits among the workers (`tf.distribute.InputContext`).

    >>> ctx = InputContext(num_input_pipelines=2, input_pipeline_id=1, num_replicas_in_sync=2)
    >>> ctx.get_per_replica_batch_size(64)
    32
    """

    def __init__(self, num_input_pipelines: int = 1, input_pipeline_id: int = 0,
                 num_replicas_in_sync: int = 1) -> None:
        self._num_input_pipelines = int(num_input_pipelines)
        self._input_pipeline_id = int(input_pipeline_id)
        self._num_replicas_in_sync = int(num_replicas_in_sync)

    @property
    def num_input_pipelines(self) -> int:
        return self._num_input_pipelines

    @property
    def input_pipeline_id(self) -> int:
        return self._input_pipeline_id

    @property
    def num_replicas_in_sync(self) -> int:
        return self._num_replicas_in_sync

    def get_per_replica_batch_size(self, global_batch_size: int) -> int:
        """``global_batch_size // num_replicas_in_sync``; it must divide evenly."""
        if global_batch_size % self._num_replicas_in_sync:
            raise ValueError(f"get_per_replica_batch_size: the global batch size "
                             f"({global_batch_size}) is not divisible by num_replicas_in_sync "
                             f"({self._num_replicas_in_sync})")
        return global_batch_size // self._num_replicas_in_sync

    def __repr__(self) -> str:
        return (f"InputContext(num_input_pipelines={self._num_input_pipelines}, "
                f"input_pipeline_id={self._input_pipeline_id}, "
                f"num_replicas_in_sync={self._num_replicas_in_sync})")


def shard_bounds(n: int, rank: int, size: int) -> tuple[int, int]:
    """The rows ``[lo, hi)`` of an ``n``-row batch that worker `rank` of `size` takes."""
    base, extra = divmod(int(n), int(size))
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


def batch_rows(batch: Any) -> int | None:
    """The batch dimension of the first array in `batch` (None if it has none)."""
    for leaf in nest.flatten(batch):
        shape = getattr(leaf, "shape", None)
        if shape is not None and len(shape) and shape[0] is not None:
            return int(shape[0])
    return None


def shard_batch(batch: Any, rank: int, size: int) -> tuple[Any, int, int]:
    """This worker's rows of a global batch: ``(local_batch, local_rows, global_rows)``."""
    n = batch_rows(batch)
    if n is None:
        return batch, 1, size
    lo, hi = shard_bounds(n, rank, size)

    def take(leaf: Any) -> Any:
        if isinstance(leaf, Tensor):
            v = leaf._value
            return Tensor(v[lo:hi]) if v.ndim and v.shape[0] == n else leaf
        if isinstance(leaf, np.ndarray) and leaf.ndim and leaf.shape[0] == n:
            return leaf[lo:hi]
        return leaf

    return nest.map_structure(take, batch), hi - lo, n


class DistributedDataset:
    """What `experimental_distribute_dataset` returns: iterating it yields this worker's
    share of each global batch of `dataset` (one replica per worker: plain tensors)."""

    _ndflow_distributed = True

    def __init__(self, dataset: Any, rank: int, size: int) -> None:
        self._dataset = dataset
        self._rank = rank
        self._size = size

    def __iter__(self) -> Iterator:
        for batch in self._dataset:
            if self._size == 1:
                yield batch
                continue
            local, rows, _ = shard_batch(batch, self._rank, self._size)
            if rows:
                yield local

    def __repr__(self) -> str:
        return f"<DistributedDataset worker {self._rank} of {self._size}>"


class DistributedDatasetsFromFunction:
    """What `distribute_datasets_from_function` returns: this worker's own dataset, made by
    ``dataset_fn(InputContext)``."""

    _ndflow_distributed = True

    def __init__(self, dataset_fn: Callable, context: InputContext) -> None:
        if not callable(dataset_fn):
            raise TypeError(f"distribute_datasets_from_function: expected a function "
                            f"dataset_fn(input_context), got {type(dataset_fn).__name__}")
        self.input_context = context
        self._dataset = dataset_fn(context)

    def __iter__(self) -> Iterator:
        return iter(self._dataset)

    def __repr__(self) -> str:
        return f"<DistributedDatasetsFromFunction {self.input_context!r}>"
