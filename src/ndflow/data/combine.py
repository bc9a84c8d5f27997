"""Datasets made of datasets: `interleave`, `flat_map`, `sample_from_datasets`,
`choose_from_datasets`.

>>> import ndflow as tf
>>> ds = tf.data.Dataset.range(1, 4).interleave(
...     lambda x: tf.data.Dataset.from_tensors(x).repeat(2), cycle_length=2)
>>> [int(v) for v in ds]
[1, 2, 1, 2, 3, 3]
"""

from __future__ import annotations

import collections
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ndflow.data import structure as st
from ndflow.data.dataset import (
    INFINITE, UNKNOWN, Dataset, IterContext, RngSource, _drop_or_raise, _Dropped, _fn_name,
)
from ndflow.data.parallel import AUTOTUNE, END, Producer, close_iterator
from ndflow.errors import InvalidArgumentError


def _open(map_func: Callable, el: Any, ctx: IterContext, stage: str) -> Any:
    """The dataset `map_func` makes for one input element (or _Dropped under ignore_errors)."""
    try:
        ds = st.call_with_element(map_func, el)
        if not isinstance(ds, Dataset):
            raise InvalidArgumentError(f"expected map_func to return a Dataset, got "
                                       f"{type(ds).__name__}")
        return ds
    except Exception as e:
        return _drop_or_raise(ctx, stage, e)


def interleave(src: Dataset, map_func: Callable, cycle_length: Any, block_length: Any,
               num_parallel_calls: Any, deterministic: Any,
               stage: str | None = None) -> Dataset:
    stage = stage or f"Dataset.interleave({_fn_name(map_func)})"
    cycle = AUTOTUNE if cycle_length is None else int(cycle_length)
    if cycle == AUTOTUNE:
        cycle = os.cpu_count() or 1
    block = 1 if block_length is None else int(block_length)
    if cycle <= 0 or block <= 0:
        raise InvalidArgumentError(f"{stage}: expected cycle_length > 0 and block_length > 0, "
                                   f"got {cycle_length} and {block_length}")
    parallel = num_parallel_calls is not None and int(num_parallel_calls) not in (0, 1)
    if parallel and int(num_parallel_calls) < AUTOTUNE:
        raise InvalidArgumentError(f"{stage}: expected num_parallel_calls > 0 or AUTOTUNE, got "
                                   f"{num_parallel_calls}")

    def make(ctx: IterContext) -> Iterator:
        if not parallel:
            return _interleave_seq(src._iter(ctx), map_func, cycle, block, ctx, stage)
        det = ctx.deterministic if deterministic is None else bool(deterministic)
        return _interleave_par(src._iter(ctx), map_func, cycle, block, ctx, stage, det)

    return src._derive(make, UNKNOWN)


def _interleave_seq(inputs: Iterator, map_func: Callable, cycle: int, block: int,
                    ctx: IterContext, stage: str) -> Iterator:
    # TF's InterleaveDataset: a slot that runs dry is left empty and the cycle moves on; an
    # empty slot is refilled from the input when the cycle comes back to it.
    slots: list = [None] * cycle
    idx, taken, n_open, end_of_input = 0, 0, 0, False
    try:
        while not end_of_input or n_open:
            it = slots[idx]
            if it is not None:
                try:
                    el = next(it)
                except StopIteration:
                    slots[idx] = None
                    n_open -= 1
                    idx, taken = (idx + 1) % cycle, 0
                    continue
                yield el
                taken += 1
                if taken == block:
                    idx, taken = (idx + 1) % cycle, 0
            elif not end_of_input:
                try:
                    el = next(inputs)
                except StopIteration:
                    end_of_input = True
                    continue
                ds = _open(map_func, el, ctx, stage)
                if not isinstance(ds, _Dropped):
                    slots[idx] = ds._iter(ctx)
                    n_open += 1
            else:
                idx, taken = (idx + 1) % cycle, 0
    finally:
        for it in slots:
            close_iterator(it)
        close_iterator(inputs)


class _FailedOpen:
    """A read-ahead input whose `map_func` raised: the error waits for its turn."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def stop(self) -> None:
        return


def _interleave_par(inputs: Iterator, map_func: Callable, cycle: int, block: int,
                    ctx: IterContext, stage: str, deterministic: bool) -> Iterator:
    """Each open slot's dataset is read ahead by its own thread, and so are the next
    `cycle` inputs (the ones that will refill slots as they run dry, TF's prefetched input
    elements), so a new slot starts with elements ready. Deterministic: the sequential order
    exactly (an error of a read-ahead input surfaces at its turn). Otherwise a slot with
    nothing ready is passed over for one that has."""
    cond = threading.Condition()
    slots: list = [None] * cycle
    future: collections.deque = collections.deque()  # opened ahead, in input order
    idx, taken, n_open, end_of_input = 0, 0, 0, False

    def take(p: Producer) -> Any:
        item, _ = p.get()
        return item

    def open_next() -> Any:
        """The producer of the next input's dataset (None at the end of the input)."""
        nonlocal end_of_input
        while not end_of_input:
            try:
                el = next(inputs)
            except StopIteration:
                end_of_input = True
                return None
            try:
                ds = _open(map_func, el, ctx, stage)
            except Exception as e:
                return _FailedOpen(e)
            if not isinstance(ds, _Dropped):
                return Producer(lambda d=ds: d._iter(ctx), max(2, block),
                                "ndflow.data.interleave", cond)
        return None

    try:
        while not end_of_input or n_open or future:
            p = slots[idx]
            if p is not None:
                if not deterministic and not p.buffer.ready():
                    ready = [i for i, q in enumerate(slots) if q is not None and q.buffer.ready()]
                    if ready:
                        idx, taken = ready[0], 0
                        continue
                    if (future or not end_of_input) and None in slots:
                        idx, taken = slots.index(None), 0  # open another input meanwhile
                        continue
                    with cond:
                        cond.wait_for(lambda: any(q is not None and q.buffer.ready()
                                                  for q in slots))
                    continue
                item = take(p)
                if item is END:
                    p.stop()
                    slots[idx] = None
                    n_open -= 1
                    idx, taken = (idx + 1) % cycle, 0
                    continue
                yield item
                taken += 1
                if taken == block:
                    idx, taken = (idx + 1) % cycle, 0
            elif future or not end_of_input:
                q = future.popleft() if future else open_next()
                while len(future) < cycle and not end_of_input:
                    ahead = open_next()
                    if ahead is not None:
                        future.append(ahead)
                if isinstance(q, _FailedOpen):
                    raise q.exc
                if q is not None:
                    slots[idx] = q
                    n_open += 1
            else:
                idx, taken = (idx + 1) % cycle, 0
    finally:
        for p in slots:
            if p is not None:
                p.stop()
        for p in future:
            p.stop()
        close_iterator(inputs)


def _check_datasets(stage: str, datasets: Any) -> list:
    datasets = list(datasets)
    if not datasets:
        raise InvalidArgumentError(f"{stage}: expected a non-empty list of datasets, got []")
    for i, d in enumerate(datasets):
        if not isinstance(d, Dataset):
            raise InvalidArgumentError(f"{stage}: expected datasets, got "
                                       f"{type(d).__name__} at position {i}")
    return datasets


def sample_from_datasets(datasets: Any, weights: Any, seed: int | None,
                         stop_on_empty_dataset: bool,
                         rerandomize_each_iteration: bool | None) -> Dataset:
    stage = "Dataset.sample_from_datasets"
    datasets = _check_datasets(stage, datasets)
    if weights is None:
        w = np.full(len(datasets), 1.0 / len(datasets))
    else:
        w = np.asarray(st.to_numpy(weights), dtype=np.float64).reshape(-1)
        if w.shape[0] != len(datasets) or (w < 0).any() or w.sum() <= 0:
            raise InvalidArgumentError(
                f"{stage}: expected {len(datasets)} non-negative weights with a positive sum, "
                f"got {w.tolist()}")
    rngs = RngSource(seed, rerandomize_each_iteration is not False)

    def make(ctx: IterContext) -> Iterator:
        rng = rngs.next()
        its = [d._iter(ctx) for d in datasets]
        live = w.copy()
        try:
            while live.sum() > 0:
                i = int(rng.choice(len(its), p=live / live.sum()))
                try:
                    yield next(its[i])
                except StopIteration:
                    if stop_on_empty_dataset:
                        return
                    live[i] = 0.0
        finally:
            for it in its:
                close_iterator(it)

    cards = [d._cardinality for d in datasets]
    card = INFINITE if all(c == INFINITE for c in cards) else UNKNOWN
    return Dataset(make, card, tuple(datasets))


def choose_from_datasets(datasets: Any, choice_dataset: Dataset,
                         stop_on_empty_dataset: bool) -> Dataset:
    stage = "Dataset.choose_from_datasets"
    datasets = _check_datasets(stage, datasets)
    if not isinstance(choice_dataset, Dataset):
        raise InvalidArgumentError(f"{stage}: expected choice_dataset to be a Dataset of int64 "
                                   f"scalars, got {type(choice_dataset).__name__}")

    def make(ctx: IterContext) -> Iterator:
        its = [d._iter(ctx) for d in datasets]
        done = [False] * len(its)
        choices = choice_dataset._iter(ctx)
        try:
            for c in choices:
                c = np.asarray(c)
                if c.shape != () or c.dtype.kind not in "iu" or not 0 <= int(c) < len(its):
                    raise InvalidArgumentError(
                        f"{stage}: expected choices to be int64 scalars in [0, {len(its)}), "
                        f"got {c.dtype}{list(c.shape)} value {c.tolist()}")
                i = int(c)
                if done[i]:
                    continue
                try:
                    yield next(its[i])
                except StopIteration:
                    if stop_on_empty_dataset:
                        return
                    done[i] = True
                    if all(done):
                        return
        finally:
            for it in its:
                close_iterator(it)
            close_iterator(choices)

    return Dataset(make, UNKNOWN, tuple(datasets) + (choice_dataset,))
