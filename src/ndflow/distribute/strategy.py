"""Distribution strategies with TensorFlow's names: `OneDeviceStrategy`, `MirroredStrategy`
(one replica per process here) and `MultiWorkerMirroredStrategy` (one process per worker,
started by ``mpirun -n N`` or ``srun --mpi=pmix``, talking over MPI).

Code written for ``tf.distribute`` runs unchanged::

    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    with strategy.scope():
        model = make_model()          # weights: rank 0's, broadcast when the scope ends
        model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=64)    # 64 = the global batch; each worker takes its share

>>> import ndflow as tf
>>> strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
>>> with strategy.scope():
...     v = tf.Variable(1.0)
>>> float(strategy.run(lambda: v * 2)), strategy.num_replicas_in_sync
(2.0, 1)
"""

from __future__ import annotations

import contextlib
import sys
import traceback
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ndflow.core import variable as _variable
from ndflow.distribute import _context
from ndflow.distribute.collectives import DEFAULT_BUCKET_BYTES, BucketedAllReduce, reduce_value
from ndflow.distribute.input_lib import (
    DistributedDataset, DistributedDatasetsFromFunction, InputContext,
)
from ndflow.distribute.reduce_op import ReduceOp
from ndflow.util import nest


class ReplicaContext:
    """The context inside `Strategy.run`: which replica this is and `all_reduce` over all."""

    def __init__(self, strategy: Strategy, replica_id_in_sync_group: int = 0) -> None:
        self._strategy = strategy
        self._replica_id = int(replica_id_in_sync_group)

    @property
    def strategy(self) -> Strategy:
        return self._strategy

    @property
    def num_replicas_in_sync(self) -> int:
        return self._strategy.num_replicas_in_sync

    @property
    def replica_id_in_sync_group(self) -> int:
        return self._replica_id

    def all_reduce(self, reduce_op: ReduceOp | str, value: Any) -> Any:
        """`value` (a tensor or a nest of them) reduced over all replicas."""
        n = self._strategy.num_replicas_in_sync
        return nest.map_structure(
            lambda v: reduce_value(v, reduce_op, None, n, "ReplicaContext.all_reduce"), value)


class Strategy:
    """Base of the strategies: a scope for variables, `run` for a step on each replica,
    `reduce` for results, and datasets split between the replicas."""

    _rank = 0

    def __init__(self) -> None:
        self._pending: list = []  # weak references to variables made in scope, not yet synced
        self._cluster_resolver: Any = None

    # --- replicas -------------------------------------------------------------------------
    @property
    def num_replicas_in_sync(self) -> int:
        return 1

    @property
    def cluster_resolver(self) -> Any:
        return self._cluster_resolver

    @contextlib.contextmanager
    def _device_scope(self) -> Iterator[None]:
        yield

    @contextlib.contextmanager
    def scope(self) -> Iterator[Strategy]:
        """Variables created inside are this strategy's (mirrored on every replica)."""
        hook = self._on_variable_created
        _context.stack.append(self)
        _variable.creation_hooks.append(hook)
        ok = False
        try:
            with self._device_scope():
                yield self
            ok = True
        finally:
            _variable.creation_hooks.remove(hook)
            _context.stack.pop()
            if ok:  # never a collective on an error path: the other workers may not be here
                self._sync_pending()

    def _on_variable_created(self, v: Any) -> None:
        v._distribute_strategy = self  # fit finds the strategy a model was made under
        if self.num_replicas_in_sync > 1:
            self._pending.append(weakref.ref(v))

    def _sync_pending(self) -> None:
        if self._pending:
            alive = [v for v in (r() for r in self._pending) if v is not None]
            self._pending = []
            self._broadcast_variables(alive)

    def _broadcast_variables(self, variables: list) -> None:
        """Give every replica the first one's values (nothing to do with one replica)."""

    def _aggregate_gradients(self, grads: list) -> list:
        """Gradient arrays summed over the replicas (as is with one replica)."""
        return grads

    def run(self, fn: Callable, args: tuple = (), kwargs: dict | None = None,
            options: Any = None) -> Any:
        """Run ``fn(*args, **kwargs)`` on each replica (here: this process's one replica);
        returns its result (use `reduce` to combine the replicas' results)."""
        if not callable(fn):
            raise TypeError(f"Strategy.run: expected a callable, got {type(fn).__name__}")
        self._sync_pending()
        _context.running.append(ReplicaContext(self, self._rank))
        _context.stack.append(self)
        try:
            with self._device_scope():
                return fn(*args, **(kwargs or {}))
        finally:
            _context.stack.pop()
            _context.running.pop()

    def reduce(self, reduce_op: ReduceOp | str, value: Any, axis: Any = None) -> Any:
        """Combine the replicas' values (a tensor or a nest): ``SUM`` or ``MEAN``; with
        `axis`, also over that axis of each value (e.g. per-example losses)."""
        n = self.num_replicas_in_sync
        return nest.map_structure(
            lambda v: reduce_value(v, reduce_op, axis, n, "Strategy.reduce"), value)

    def gather(self, value: Any, axis: int) -> Any:
        """The replicas' values concatenated along `axis`."""
        return value

    def experimental_local_results(self, value: Any) -> tuple:
        """The values of this process's replicas, as a tuple."""
        return (value,)

    # --- input ----------------------------------------------------------------------------
    def _input_context(self) -> InputContext:
        n = self.num_replicas_in_sync
        return InputContext(n, self._rank, n)

    def experimental_distribute_dataset(self, dataset: Any, options: Any = None) -> Any:
        """Split each global batch of `dataset` between the replicas."""
        return DistributedDataset(dataset, self._rank, self.num_replicas_in_sync)

    def distribute_datasets_from_function(self, dataset_fn: Callable, options: Any = None
                                          ) -> Any:
        """Each worker's dataset made by ``dataset_fn(InputContext)``."""
        return DistributedDatasetsFromFunction(dataset_fn, self._input_context())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} num_replicas_in_sync={self.num_replicas_in_sync}>"


class OneDeviceStrategy(Strategy):
    """Everything on one device (``"/cpu:0"``, ``"/gpu:0"``).

    Args:
        device: the device name.
    """

    def __init__(self, device: str) -> None:
        super().__init__()
        from ndflow.backend.devices import device as _dev

        with _dev(device):  # a clear error now for an unknown device
            pass
        self._device = device

    @contextlib.contextmanager
    def _device_scope(self) -> Iterator[None]:
        from ndflow.backend.devices import device as _dev

        with _dev(self._device):
            yield


class MirroredStrategy(OneDeviceStrategy):
    """Synchronous training on one machine's devices. Here one process drives one device, so
    this is one replica (the first GPU, else the CPU); for several GPUs or machines, start
    one process per device and use `MultiWorkerMirroredStrategy`.

    Args:
        devices: None (the default device) or a list of one device name.
    """

    def __init__(self, devices: list | None = None, cross_device_ops: Any = None) -> None:
        from ndflow.backend.devices import list_physical_devices

        if devices is None:
            devices = ["/gpu:0"] if list_physical_devices("GPU") else ["/cpu:0"]
        devices = [devices] if isinstance(devices, str) else list(devices)
        if len(devices) != 1:
            raise ValueError(
                f"MirroredStrategy: got {len(devices)} devices {devices}; one ndflow process "
                "drives one device. Start one process per device (mpirun -n N) and use "
                "tf.distribute.MultiWorkerMirroredStrategy()")
        super().__init__(devices[0])
        self.extended_devices = tuple(devices)


class MultiWorkerMirroredStrategy(Strategy):
    """Synchronous data-parallel training over MPI, one process (one replica) per worker.

    Start the script with ``mpirun -n N python -m ndflow.distribute train.py`` (or plain
    ``python train.py`` under mpirun; ``srun --mpi=pmix`` under Slurm). Variables made in
    `scope` take worker 0's values; `fit` splits each global batch between the workers,
    averages gradients with a bucketed all-reduce, sums metrics across workers, and writes
    files (checkpoints, backups, logs) on worker 0 only.

    Args:
        cluster_resolver: a `ClusterResolver` (default: `MPIClusterResolver`); its task id
            and worker count must agree with MPI's.
        communication_options: `tf.distribute.experimental.CommunicationOptions`;
            ``bytes_per_pack`` sets the all-reduce bucket size (0: 25 MiB).
    """

    def __init__(self, cluster_resolver: Any = None, communication_options: Any = None
                 ) -> None:
        super().__init__()
        from ndflow.distribute.cluster_resolver import MPIClusterResolver
        from ndflow.distribute.mpi import Communicator

        if _context.worker is not None:
            comm = _context.worker._comm  # one communicator per process
        else:
            comm = Communicator.world()
        if cluster_resolver is None:
            cluster_resolver = MPIClusterResolver(comm.comm)
        if (cluster_resolver.task_id, cluster_resolver.num_workers) != (comm.rank, comm.size):
            raise ValueError(
                f"MultiWorkerMirroredStrategy: the cluster resolver says worker "
                f"{cluster_resolver.task_id} of {cluster_resolver.num_workers}, MPI says "
                f"{comm.rank} of {comm.size}; launch one MPI process per worker "
                "(srun --mpi=pmix, or mpirun -n N)")
        self._cluster_resolver = cluster_resolver
        self._comm = comm
        self._rank = comm.rank
        pack = getattr(communication_options, "bytes_per_pack", 0) or DEFAULT_BUCKET_BYTES
        self._allreduce = BucketedAllReduce(comm, pack)
        self._step_weight: float | None = None  # set by fit: this worker's share of the batch
        _context.worker = self
        if comm.size > 1:
            _abort_on_uncaught_exception(comm)

    @property
    def num_replicas_in_sync(self) -> int:
        return self._comm.size

    def _broadcast_variables(self, variables: list) -> None:
        if self._comm.size == 1:
            return
        sizes = [int(np.prod(v._value.shape)) for v in variables]
        mine = np.array([len(variables), sum(sizes)], np.int64)
        chief = self._comm.bcast_(mine.copy(), 0)
        if (chief != mine).any():
            raise ValueError(
                f"MultiWorkerMirroredStrategy: worker {self._rank} has {mine[0]} variables "
                f"({mine[1]} values) to take from worker 0, which has {chief[0]} ({chief[1]}); "
                "every worker must build the same model (inside strategy.scope())")
        groups: dict = {}
        for v in variables:
            groups.setdefault(np.asarray(v._value).dtype.str, []).append(v)
        for vs in groups.values():
            flat = np.concatenate([np.asarray(v._value).reshape(-1) for v in vs])
            self._comm.bcast_(flat, 0)
            start = 0
            for v in vs:
                n = int(np.prod(v._value.shape))
                part = flat[start:start + n].reshape(v._value.shape)
                if type(v._value) is np.ndarray:
                    np.copyto(v._value, part)
                else:
                    v.assign(part)
                start += n

    def _aggregate_gradients(self, grads: list) -> list:
        if self._comm.size == 1:
            return grads
        self._sync_pending()
        return self._allreduce(grads, self._step_weight)

    def gather(self, value: Any, axis: int) -> Any:
        from ndflow.distribute.collectives import allgather

        return nest.map_structure(lambda v: allgather(v, axis), value)


def _abort_on_uncaught_exception(comm: Any) -> None:
    """An error on one worker ends the whole job (the others would wait in their next
    all-reduce forever): print it, then abort the MPI job."""
    previous = sys.excepthook
    if getattr(previous, "_ndflow_mpi", False):
        return

    def hook(kind: Any, value: Any, tb: Any) -> None:
        try:
            previous(kind, value, tb)
        except Exception:  # pragma: no cover - a broken hook must not stop the abort
            traceback.print_exception(kind, value, tb)
        sys.stderr.write(f"ndflow.distribute: worker {comm.rank} of {comm.size} stopped on "
                         f"{kind.__name__}; aborting the job\n")
        sys.stderr.flush()
        comm.comm.Abort(1)

    hook._ndflow_mpi = True  # type: ignore[attr-defined]
    sys.excepthook = hook


class _DefaultStrategy(Strategy):
    """The strategy in use when none was entered: one replica, no distribution."""


_DEFAULT = _DefaultStrategy()


def get_strategy() -> Strategy:
    """The current strategy (the innermost `scope()`), else the default one-replica one."""
    return _context.current() or _DEFAULT


def has_strategy() -> bool:
    """True inside a strategy's `scope()` (or `run`)."""
    return _context.current() is not None


def in_cross_replica_context() -> bool:
    """True inside a `scope()` but not inside `run`."""
    return bool(_context.stack) and not _context.running


def get_replica_context() -> ReplicaContext | None:
    """Inside `run`: its `ReplicaContext`; inside a `scope()` only: None; elsewhere the
    default one-replica context."""
    if _context.running:
        return _context.running[-1]
    if _context.stack:
        return None
    return ReplicaContext(_DEFAULT, 0)
