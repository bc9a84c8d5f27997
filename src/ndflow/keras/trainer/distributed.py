"""What `fit` and `evaluate` do under a multi-worker strategy (`ndflow.distribute`).

Each worker takes its contiguous share of every global batch; the optimizer sums the workers'
gradients weighted by their share of the batch (so W workers take exactly the step one process
takes on the whole batch); weights (and a restored backup's position) come from worker 0 when
training starts; NumPy's global random state (the shuffle) is worker 0's at each epoch; metric
states are summed over the workers before epoch and evaluation logs are made; only worker 0
prints a progress bar.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from ndflow.distribute import _context
from ndflow.distribute.input_lib import DistributedDataset, shard_batch
from ndflow.keras.trainer.compile_utils import MeanTracker


def strategy_of(model: Any) -> Any:
    """The multi-replica strategy `model` trains under (the current one, else the one its
    weights were made in), or None."""
    s = _context.current()
    if s is None:
        for v in getattr(model, "variables", None) or ():
            s = getattr(v, "_distribute_strategy", None)
            break
    return s if s is not None and s.num_replicas_in_sync > 1 else None


def global_batches(data: Any) -> Any:
    """The dataset of global batches behind `strategy.experimental_distribute_dataset(data)`
    (fit splits each batch itself and knows each worker's exact share); anything else as is."""
    return data._dataset if isinstance(data, DistributedDataset) else data


class WorkerSync:
    """One `fit`/`evaluate` call's part in a multi-worker job."""

    def __init__(self, strategy: Any) -> None:
        self.strategy = strategy
        self.comm = strategy._comm
        self.rank, self.size = self.comm.rank, self.comm.size
        self._warned = False

    @classmethod
    def for_model(cls, model: Any) -> WorkerSync | None:
        s = strategy_of(model)
        return None if s is None else cls(s)

    @property
    def is_chief(self) -> bool:
        return self.rank == 0

    def start(self, model: Any, initial_epoch: int, skip: int) -> tuple[int, int]:
        """Worker 0's weights, optimizer state and resume position on every worker (after
        callbacks such as `BackupAndRestore` restored theirs)."""
        variables = list(model.variables)
        opt = getattr(model, "optimizer", None)
        if opt is not None and hasattr(opt, "build"):
            if not opt.built:  # as on a worker whose BackupAndRestore restored it
                opt.build(model.trainable_variables)
            seen = {id(v) for v in variables}
            variables += [v for v in opt.variables if id(v) not in seen]
        self.strategy._pending = []
        self.strategy._broadcast_variables(variables)
        pos = self.comm.bcast_(np.array([initial_epoch, skip], np.int64), 0)
        return int(pos[0]), int(pos[1])

    def epoch_begin(self) -> None:
        """Worker 0's NumPy global random state everywhere (the epoch's shuffle order)."""
        name, keys, pos, has_gauss, gauss = np.random.get_state()
        keys = self.comm.bcast_(np.ascontiguousarray(keys, np.uint32), 0)
        rest = self.comm.bcast_(np.array([pos, has_gauss, gauss], np.float64), 0)
        np.random.set_state((name, keys, int(rest[0]), int(rest[1]), float(rest[2])))

    def batches(self, batches: Iterable, data: Any, train: bool) -> Iterator:
        """This worker's part of each batch; for training, sets the worker's gradient weight
        (its share of the global batch)."""
        if getattr(data, "_ndflow_distributed", False):  # already one pipeline per worker
            if train:
                self.strategy._step_weight = 1.0 / self.size
            yield from batches
            return
        for batch in batches:
            local, rows, total = shard_batch(batch, self.rank, self.size)
            if total < self.size:
                if not self._warned:
                    warnings.warn(f"distributed fit: a batch of {total} samples cannot be split "
                                  f"between {self.size} workers; it is skipped", stacklevel=3)
                    self._warned = True
                continue
            if train:
                self.strategy._step_weight = rows / total
            yield local

    def any(self, flag: bool) -> bool:
        """True on every worker when `flag` is True on any (e.g. a callback stopped training
        on one worker: all stop at the same step instead of waiting for it)."""
        return bool(self.comm.allreduce_(np.array([int(bool(flag))], np.int64), "max")[0])

    def end(self) -> None:
        self.strategy._step_weight = None

    def reduce_metrics(self, metrics: list) -> None:
        """Sum every metric's state over the workers (in place: the results are global)."""
        trackers: list = []
        variables: list = []
        _collect(metrics, trackers, variables, set())
        parts = [np.array([t.total, t.count], np.float64) for t in trackers]
        parts += [np.asarray(v._value, np.float64).reshape(-1) for v in variables]
        if not parts:
            return
        flat = self.comm.allreduce_(np.concatenate(parts))
        start = 0
        for t in trackers:
            t.total, t.count = float(flat[start]), float(flat[start + 1])
            start += 2
        for v in variables:
            n = int(np.prod(v._value.shape))
            v.assign(flat[start:start + n].reshape(v._value.shape).astype(v._value.dtype))
            start += n


def _collect(metrics: list, trackers: list, variables: list, seen: set) -> None:
    for m in metrics:
        if id(m) in seen:  # a metric listed twice is summed once
            continue
        seen.add(id(m))
        if isinstance(m, MeanTracker):
            trackers.append(m)
        elif hasattr(m, "_metric_variables"):
            variables.extend(m.variables)
        elif isinstance(getattr(m, "metrics", None), list):
            _collect(m.metrics, trackers, variables, seen)
