"""Background work for `tf.data`: parallel `map`, `prefetch`, and AUTOTUNE.

Threads, not processes: NumPy kernels, file reads, `time.sleep` and image decoders release the
GIL, so a thread pool overlaps them with training. Pure-Python `map` functions hold the GIL;
for those `map(..., num_parallel_calls=N)` cannot beat one core, and
`ds.apply(ndflow.data.experimental.map_in_processes(fn, N))` (a process pool) is the tool.

AUTOTUNE sizes from what it measures: a stage starts small and grows by one (thread or buffer
slot) each time its consumer finds nothing ready while every slot is busy (for a parallel map:
and nothing finishes within 2 ms), up to a cap
(`options.autotune.cpu_budget` / `options.threading.private_threadpool_size`, else
`max(8, 2 * os.cpu_count())` threads and 64 prefetch slots).
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

AUTOTUNE = -1
_MAX_PREFETCH = 64
_JOIN_TIMEOUT_S = 30.0
_GROW_AFTER_S = 0.002


def default_max_threads() -> int:
    return max(8, 2 * (os.cpu_count() or 1))


def close_iterator(it: Any) -> None:
    """Finish a generator now (its `finally` blocks close files and stop threads)."""
    close = getattr(it, "close", None)
    if close is not None:
        close()


class _End:
    pass


class _Failure:
    def __init__(self, exc: BaseException) -> None:
        self.exc = exc


END = _End()


class BoundedBuffer:
    """A FIFO with a capacity; `close()` wakes every waiter and makes `put` return False."""

    def __init__(self, capacity: int, cond: threading.Condition | None = None) -> None:
        self.capacity = max(1, int(capacity))
        self._q: collections.deque = collections.deque()
        self._cond = cond or threading.Condition()
        self.closed = False
        self.waits = 0  # how often a consumer found it empty (what AUTOTUNE measures)
        self.waiting = 0

    def put(self, item: Any) -> bool:
        with self._cond:
            while len(self._q) >= self.capacity and not self.closed:
                self._cond.wait()
            if self.closed:
                return False
            self._q.append(item)
            self._cond.notify_all()
            return True

    def ready(self) -> bool:
        return bool(self._q)

    def get(self) -> tuple[Any, bool]:
        """The next item, and whether the caller had to wait for it."""
        with self._cond:
            waited = False
            while not self._q:
                if not waited:
                    waited = True
                    self.waits += 1
                self.waiting += 1
                self._cond.wait()
                self.waiting -= 1
            item = self._q.popleft()
            self._cond.notify_all()
            return item, waited

    def grow(self, cap: int) -> None:
        with self._cond:
            if self.capacity < cap:
                self.capacity += 1
                self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._q.clear()
            self._cond.notify_all()


class Producer:
    """A daemon thread that iterates `make()` into a bounded buffer until done or closed."""

    def __init__(self, make: Callable[[], Iterator], capacity: int, name: str,
                 cond: threading.Condition | None = None) -> None:
        self.buffer = BoundedBuffer(capacity, cond)
        self.done = False
        self._make = make
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        it = None
        try:
            it = self._make()
            for el in it:
                if not self.buffer.put(el):
                    return
            self.buffer.put(END)
        except BaseException as e:  # handed to the consumer, which re-raises it
            self.buffer.put(_Failure(e))
        finally:
            try:
                close_iterator(it)
            finally:
                self.done = True

    def get(self) -> tuple[Any, bool]:
        """(element or END, waited); re-raises the producer's error in the consumer."""
        item, waited = self.buffer.get()
        if isinstance(item, _Failure):
            raise item.exc
        return item, waited

    def stop(self) -> None:
        self.buffer.close()
        if self._thread is not threading.current_thread():
            self._thread.join(_JOIN_TIMEOUT_S)


def prefetch_iter(make_upstream: Callable[[], Iterator], buffer_size: int,
                  observe: Callable[[Producer], None] | None = None) -> Iterator:
    """Elements of `make_upstream()`, produced ahead by a background thread (`observe` sees
    the producer: tests watch its buffer)."""
    autotune = buffer_size == AUTOTUNE
    producer = Producer(make_upstream, 1 if autotune else buffer_size, "ndflow.data.prefetch")
    if observe is not None:
        observe(producer)
    try:
        while True:
            item, waited = producer.get()
            if item is END:
                return
            if autotune and waited:
                producer.buffer.grow(_MAX_PREFETCH)
            yield item
    finally:
        producer.stop()


def parallel_map_iter(upstream: Iterator, call: Callable[[Any], Any], num_parallel_calls: int,
                      deterministic: bool, max_threads: int, skip: type | None = None,
                      pool: Any = None) -> Iterator:
    """`call` applied to each upstream element on a thread pool.

    Deterministic: outputs in input order. Otherwise the earliest finished output comes first.
    Elements whose result is the `skip` marker type are dropped (ignore_errors).
    """
    autotune = num_parallel_calls == AUTOTUNE
    cap = max_threads if autotune else int(num_parallel_calls)
    width = min(2, cap) if autotune else cap
    if pool is None:
        pool = ThreadPoolExecutor(max_workers=cap, thread_name_prefix="ndflow.data.map")
    pending: collections.deque[Future] = collections.deque()
    exhausted = False
    try:
        while True:
            while not exhausted and len(pending) < width:
                try:
                    el = next(upstream)
                except StopIteration:
                    exhausted = True
                    break
                pending.append(pool.submit(call, el))
            if not pending:
                return
            if deterministic:
                fut = pending[0]
            else:
                fut = next((f for f in pending if f.done()), None)
            if fut is None or not fut.done():
                watched = [fut] if deterministic else list(pending)
                if autotune and width < cap and len(pending) >= width:
                    # the consumer waits while every slot is busy: one more slot if the wait
                    # lasts longer than a short grace period
                    if not wait(watched, _GROW_AFTER_S, FIRST_COMPLETED).done:
                        width += 1
                        continue
                else:
                    wait(watched, return_when=FIRST_COMPLETED)
                if not deterministic:
                    fut = next(f for f in pending if f.done())
            pending.remove(fut)
            out = fut.result()
            if skip is not None and isinstance(out, skip):
                continue
            yield out
    finally:
        for f in pending:
            f.cancel()
        pool.shutdown(wait=True)
        close_iterator(upstream)
