"""Regrouping elements: `window`, `rebatch`, `group_by_window`, `bucket_by_sequence_length`.

>>> import ndflow as tf
>>> ds = tf.data.Dataset.range(7).window(3, shift=2, drop_remainder=True)
>>> [[int(v) for v in w.as_numpy_iterator()] for w in ds]
[[0, 1, 2], [2, 3, 4], [4, 5, 6]]
"""

from __future__ import annotations

import collections
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ndflow.data import structure as st
from ndflow.data.dataset import (
    INFINITE, UNKNOWN, Dataset, IterContext, _fn_name, _positive, pad_stack, stack,
)
from ndflow.data.slices import ListDataset
from ndflow.data.parallel import close_iterator
from ndflow.errors import InvalidArgumentError


def window(src: Dataset, size: int, shift: int | None, stride: int,
           drop_remainder: bool) -> Dataset:
    size = _positive("Dataset.window", "size", size)
    shift = size if shift is None else _positive("Dataset.window", "shift", shift)
    stride = _positive("Dataset.window", "stride", stride)
    span = (size - 1) * stride + 1

    def make(ctx: IterContext) -> Iterator:
        it = src._iter(ctx)
        buf: collections.deque = collections.deque()  # elements from index `base` on
        base, start, ended = 0, 0, False
        try:
            while True:
                while not ended and base + len(buf) < start + span:
                    try:
                        el = next(it)
                    except StopIteration:
                        ended = True
                        break
                    if base + len(buf) < start:  # before this window: skip it
                        base += 1
                    else:
                        buf.append(el)
                while base < start and buf:
                    buf.popleft()
                    base += 1
                picked = list(itertools.islice(buf, 0, span, stride))
                if not picked or (drop_remainder and len(picked) < size):
                    return
                flat = [st.flatten(el) for el in picked]
                comps = [ListDataset([f[j] for f in flat]) for j in range(len(flat[0]))]
                yield st.pack(picked[0], comps)
                start += shift
        finally:
            close_iterator(it)

    c = src._cardinality
    if c < 0:
        card = c
    elif drop_remainder:
        card = max(0, (c - span) // shift + 1) if c >= span else 0
    else:
        card = -(-c // shift)
    return src._derive(make, card)


def rebatch(src: Dataset, batch_size: Any, drop_remainder: bool) -> Dataset:
    sizes = [int(b) for b in np.atleast_1d(st.to_numpy(batch_size)).reshape(-1)]
    if not sizes or min(sizes) < 0 or max(sizes) == 0:
        raise InvalidArgumentError(f"Dataset.rebatch: expected batch sizes >= 0 (not all 0), "
                                   f"got {sizes}")

    def make(ctx: IterContext) -> Iterator:
        pending: list = []  # flat component arrays whose first dimensions are rows to hand out
        rows = 0
        template = None
        it = src._iter(ctx)
        size_of = itertools.cycle(sizes)
        want = next(size_of)
        try:
            for el in it:
                flat = st.flatten(el)
                if any(np.ndim(a) == 0 for a in flat):
                    raise InvalidArgumentError(
                        "Dataset.rebatch: expected batched elements (a first dimension on every "
                        "component), got a scalar component; call batch() first")
                template = el
                pending.append(flat)
                rows += np.shape(flat[0])[0]
                while rows >= want:
                    yield st.pack(template, _cut(pending, want))
                    rows -= want
                    want = next(size_of)
            while rows > 0 and not drop_remainder:
                n = min(want, rows)
                yield st.pack(template, _cut(pending, n))
                rows -= n
                want = next(size_of)
        finally:
            close_iterator(it)

    return src._derive(make, UNKNOWN if src._cardinality != INFINITE else INFINITE)


def _cut(pending: list, n: int) -> list:
    """Take `n` rows off the front of the pending batches."""
    parts: list = []
    got = 0
    while got < n:
        flat = pending[0]
        k = min(n - got, np.shape(flat[0])[0])
        parts.append([a[:k] for a in flat])
        got += k
        if k == np.shape(flat[0])[0]:
            pending.pop(0)
        else:
            pending[0] = [a[k:] for a in flat]
    return [np.concatenate([p[j] for p in parts]) for j in range(len(parts[0]))]


def group_by_window(src: Dataset, key_func: Callable, reduce_func: Callable,
                    window_size: int | None, window_size_func: Callable | None) -> Dataset:
    stage = f"Dataset.group_by_window({_fn_name(key_func)})"
    if (window_size is None) == (window_size_func is None):
        raise InvalidArgumentError(f"{stage}: expected exactly one of window_size and "
                                   "window_size_func")
    size_for = (lambda k: int(window_size)) if window_size is not None else (
        lambda k: int(np.asarray(st.to_numpy(window_size_func(st.to_tensors(k))))))

    def reduce(key: np.ndarray, group: list, ctx: IterContext) -> Iterator:
        out = reduce_func(st.to_tensors(key), ListDataset(group))
        if not isinstance(out, Dataset):
            raise InvalidArgumentError(f"{stage}: expected reduce_func to return a Dataset, got "
                                       f"{type(out).__name__}")
        yield from out._iter(ctx)

    def make(ctx: IterContext) -> Iterator:
        groups: dict[int, list] = {}
        sizes: dict[int, int] = {}
        it = src._iter(ctx)
        try:
            for el in it:
                k = np.asarray(st.to_numpy(st.call_with_element(key_func, el)))
                if k.shape != () or k.dtype.kind not in "iu":
                    raise InvalidArgumentError(f"{stage}: expected key_func to return an int64 "
                                               f"scalar, got {k.dtype}{list(k.shape)}")
                key = int(k)
                if key not in groups:
                    groups[key] = []
                    sizes[key] = size_for(np.asarray(key, np.int64))
                    if sizes[key] <= 0:
                        raise InvalidArgumentError(f"{stage}: expected a window size > 0 for "
                                                   f"key {key}, got {sizes[key]}")
                groups[key].append(el)
                if len(groups[key]) == sizes[key]:
                    yield from reduce(np.asarray(key, np.int64), groups.pop(key), ctx)
            for key in sorted(groups):  # TF flushes what is left in key order
                yield from reduce(np.asarray(key, np.int64), groups.pop(key), ctx)
        finally:
            close_iterator(it)

    return src._derive(make, UNKNOWN)


def bucket_by_sequence_length(src: Dataset, element_length_func: Callable,
                              bucket_boundaries: list, bucket_batch_sizes: list,
                              padded_shapes: Any, padding_values: Any,
                              pad_to_bucket_boundary: bool, no_padding: bool,
                              drop_remainder: bool) -> Dataset:
    stage = "Dataset.bucket_by_sequence_length"
    bounds = [int(b) for b in bucket_boundaries]
    sizes = [int(b) for b in bucket_batch_sizes]
    if len(sizes) != len(bounds) + 1:
        raise InvalidArgumentError(f"{stage}: expected len(bucket_batch_sizes) == "
                                   f"len(bucket_boundaries) + 1, got {len(sizes)} and "
                                   f"{len(bounds)}")
    if bounds != sorted(bounds) or len(set(bounds)) != len(bounds):
        raise InvalidArgumentError(f"{stage}: expected strictly increasing bucket_boundaries, "
                                   f"got {bounds}")

    def key(*args: Any) -> np.ndarray:
        n = int(np.asarray(st.to_numpy(element_length_func(*args))))
        return np.asarray(int(np.searchsorted(bounds, n, side="right")), np.int64)

    def reduce(bucket: Any, group: Dataset) -> Dataset:
        b = int(np.asarray(st.to_numpy(bucket)))
        elements = list(group._iter(None))
        out: list = []
        for s in range(0, len(elements), sizes[b]):
            chunk = elements[s:s + sizes[b]]
            if drop_remainder and len(chunk) < sizes[b]:
                break
            if no_padding:
                out.append(stack(chunk, stage))
                continue
            shapes = padded_shapes
            if pad_to_bucket_boundary:
                if b == len(bounds):
                    raise InvalidArgumentError(
                        f"{stage}: pad_to_bucket_boundary=True needs every length below the "
                        f"last boundary {bounds[-1]}; an element fell in the last bucket")
                shapes = st.map_leaves(lambda a: [bounds[b] - 1] + [None] * (np.ndim(a) - 1)
                                       if np.ndim(a) else [], chunk[0])
            out.append(pad_stack(chunk, shapes, padding_values, stage))
        return ListDataset(out)

    return group_by_window(src, key, reduce, None, lambda k: sizes[int(k)])
