"""`map_in_processes`: a map for GIL-bound Python work, on a pool of worker processes.

Threads serve NumPy, file I/O and decoders (they release the GIL); pure-Python per-element
work (parsing text, loops over dicts) holds the GIL, and only processes run it in parallel.
The function must be picklable (defined at module level, or a NumPy ufunc) because workers are
started fresh ("spawn": safe with the pipeline's threads); it receives and returns NumPy arrays
(tuples are unpacked into arguments), like `tf.numpy_function`. Elements travel between
processes by pickling in memory; nothing is written to disk.

>>> import ndflow as tf, numpy as np
>>> ds = tf.data.Dataset.range(4).apply(tf.data.experimental.map_in_processes(np.square, 2))
>>> [int(v) for v in ds]
[0, 1, 4, 9]
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from ndflow.data import structure as st
from ndflow.data.dataset import Dataset, IterContext, _drop_or_raise, _fn_name
from ndflow.data.parallel import AUTOTUNE, parallel_map_iter
from ndflow.errors import InvalidArgumentError


def _apply(fn: Callable, el: Any) -> tuple:  # runs in a worker process
    try:
        return True, fn(*el) if isinstance(el, tuple) and not hasattr(el, "_fields") else fn(el)
    except Exception as e:  # handed back as a value, so one bad element ends nothing
        return False, e


def map_in_processes(map_func: Callable, num_parallel_calls: int | None = None,
                     deterministic: bool | None = None) -> Callable[[Dataset], Dataset]:
    """A transformation for `Dataset.apply`: `map_func` on `num_parallel_calls` processes
    (default: the CPU count)."""
    n = os.cpu_count() or 1 if num_parallel_calls in (None, AUTOTUNE) else int(
        num_parallel_calls)
    if n <= 0:
        raise InvalidArgumentError(f"map_in_processes: expected num_parallel_calls > 0, got "
                                   f"{num_parallel_calls}")
    stage = f"map_in_processes({_fn_name(map_func)})"

    def transform(src: Dataset) -> Dataset:
        def make(ctx: IterContext) -> Iterator:
            pool = ProcessPoolExecutor(n, mp_context=multiprocessing.get_context("spawn"))
            up = src._iter(ctx)

            def submit_one(el: Any) -> Any:
                return pool.submit(_apply, map_func, st.to_python_numpy(el))

            class _Submitter:  # parallel_map_iter's pool protocol: submit(call, el)
                @staticmethod
                def submit(call: Callable, el: Any) -> Any:
                    return submit_one(el)

                @staticmethod
                def shutdown(wait: bool = True) -> None:
                    pool.shutdown(wait=wait, cancel_futures=True)

            det = ctx.deterministic if deterministic is None else bool(deterministic)
            for ok, out in parallel_map_iter(up, None, n, det, n, None, _Submitter()):
                if not ok:
                    _drop_or_raise(ctx, stage, out)  # raises unless ignore_errors follows
                    continue
                yield st.element_numpy(out)

        return src._derive(make, src._cardinality)

    return transform
