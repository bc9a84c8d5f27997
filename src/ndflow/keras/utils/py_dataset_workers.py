"""Parallel batch loading for `PyDataset`: with ``workers > 1`` batches are fetched by a pool
of threads, with ``use_multiprocessing=True`` (and ``workers > 0``) by worker processes; at
most ``max_queue_size`` batches are in flight, and batches come out in order, so training
sees exactly the batches of the sequential loop.

>>> from ndflow.keras.utils.py_dataset_workers import ordered_batches
>>> list(ordered_batches([10, 20, 30], [2, 0, 1], workers=2, use_multiprocessing=False))
[30, 10, 20]
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

_WORKER_DATA: Any = None  # the dataset, in each worker process


def _init_worker(data: Any) -> None:
    global _WORKER_DATA
    _WORKER_DATA = data


def _get_in_worker(index: int) -> Any:
    return _WORKER_DATA[index]


def uses_workers(data: Any) -> bool:
    """Whether `data` asks for parallel loading (Keras's rule)."""
    workers = int(getattr(data, "workers", 1) or 0)
    multi = bool(getattr(data, "use_multiprocessing", False))
    return workers > 1 or (workers > 0 and multi)


def ordered_batches(data: Any, indices: Iterable[int], workers: int,
                    use_multiprocessing: bool, max_queue_size: int = 10) -> Iterator[Any]:
    """``data[i]`` for each i of `indices`, in order, loaded by a pool of `workers` threads
    (or processes) with at most `max_queue_size` loads outstanding."""
    workers = max(int(workers), 1)
    depth = max(int(max_queue_size), workers, 1)
    if use_multiprocessing:
        ctx = multiprocessing.get_context("fork" if "fork" in
                                          multiprocessing.get_all_start_methods() else None)
        pool: cf.Executor = cf.ProcessPoolExecutor(workers, mp_context=ctx,
                                                   initializer=_init_worker, initargs=(data,))
        get: Any = _get_in_worker
    else:
        pool = cf.ThreadPoolExecutor(workers, thread_name_prefix="ndflow-pydataset")
        get = data.__getitem__
    pending: deque = deque()
    it = iter(indices)
    try:
        for i in it:
            pending.append(pool.submit(get, int(i)))
            if len(pending) >= depth:
                break
        while pending:
            batch = pending.popleft().result()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.submit(get, int(nxt)))
            yield batch
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
