"""Auto-sharding a dataset between workers, following `options.experimental_distribute`.

A distribution strategy with `num_workers` processes calls `auto_shard(ds, num_workers, index)`
on each worker (TF's semantics): OFF keeps every element on every worker; FILE gives each worker
every `num_workers`-th input file of the pipeline's file readers (TFRecordDataset,
TextLineDataset, FixedLengthRecordDataset); DATA keeps every `num_workers`-th element; AUTO is
FILE when the pipeline reads files, else DATA; HINT is DATA (ndflow has no shard hints).

>>> import ndflow as tf
>>> from ndflow.data.distribute import auto_shard
>>> [int(x) for x in auto_shard(tf.data.Dataset.range(6), 2, 1)]
[1, 3, 5]
"""

from __future__ import annotations

from ndflow.data.dataset import UNKNOWN, Dataset
from ndflow.data.options import AutoShardPolicy
from ndflow.errors import InvalidArgumentError


def _file_sources(ds: Dataset, seen: set | None = None) -> list:
    from ndflow.data.readers import _FileDataset

    seen = set() if seen is None else seen
    if id(ds) in seen:
        return []
    seen.add(id(ds))
    found = [ds] if isinstance(ds, _FileDataset) else []
    for d in ds._inputs:
        found += _file_sources(d, seen)
    return found


def auto_shard(ds: Dataset, num_workers: int, index: int) -> Dataset:
    """This worker's share of `ds` under the pipeline's auto-shard policy."""
    num_workers, index = int(num_workers), int(index)
    if num_workers <= 0 or not 0 <= index < num_workers:
        raise InvalidArgumentError(f"auto_shard: expected num_workers > 0 and 0 <= index < "
                                   f"num_workers, got {num_workers} and {index}")
    policy = ds.options().experimental_distribute.policy
    if policy == AutoShardPolicy.OFF or num_workers == 1:
        return ds
    files = _file_sources(ds)
    if policy == AutoShardPolicy.FILE or (policy == AutoShardPolicy.AUTO and files):
        if not files:
            raise InvalidArgumentError(
                "auto_shard: expected a pipeline that reads files for AutoShardPolicy.FILE, "
                "got none; use AutoShardPolicy.DATA")
        src = ds
        return ds._derive(lambda ctx: src._iter(ctx.sharding_files(num_workers, index)),
                          UNKNOWN)
    return ds.shard(num_workers, index)


__all__ = ["auto_shard"]
