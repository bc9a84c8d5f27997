"""`ndflow.data.Dataset`: input pipelines with TensorFlow's `tf.data` API.

A dataset is a re-iterable description of a stream of elements (nested structures of tensors).
Elements travel through the pipeline as NumPy arrays and come out as tensors (string leaves come
out as NumPy bytes). Slicing arrays (`from_tensor_slices`) followed by `shuffle`/`batch` takes a
vectorised fast path. `map(num_parallel_calls=...)`, `interleave(num_parallel_calls=...)` and
`prefetch` run on background threads; abandoning an iterator stops them and closes files.

>>> import ndflow as tf
>>> ds = tf.data.Dataset.from_tensor_slices(([1, 2, 3, 4], [0, 1, 0, 1])).batch(2)
>>> [x.numpy().tolist() for x, y in ds]
[[1, 2], [3, 4]]
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ndflow.core.tensor import Tensor
from ndflow.data import structure as st
from ndflow.data.batching import batched_card, pad_stack, stack
from ndflow.data.context import (  # noqa: F401  (re-exported for the other stage modules)
    INFINITE, UNKNOWN, IterContext, RngSource, _combine_card, _drop_or_raise, _Dropped,
    _fn_name, _positive,
)
from ndflow.data.options import Options
from ndflow.data.parallel import AUTOTUNE, close_iterator, parallel_map_iter, prefetch_iter
from ndflow.errors import InvalidArgumentError


class Dataset:
    """A re-iterable stream of elements. Build one with a `from_*` constructor or `range`."""

    def __init__(self, make_iter: Callable[[IterContext], Iterator], cardinality: int = UNKNOWN,
                 inputs: tuple = ()) -> None:
        self._make_iter = make_iter  # ctx -> iterator of elements as nested NumPy arrays
        self._cardinality = int(cardinality)
        self._inputs = tuple(inputs)
        self._own_options: Options | None = None

    def _derive(self, make_iter: Callable[[IterContext], Iterator], cardinality: int,
                extra_inputs: tuple = ()) -> Dataset:
        return Dataset(make_iter, cardinality, (self,) + tuple(extra_inputs))

    def _iter(self, ctx: IterContext) -> Iterator:
        return iter(self._make_iter(ctx))

    def _context(self) -> IterContext:
        return IterContext(self.options())

    # --- constructors --------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors: Any, name: str | None = None) -> Dataset:
        """One element per index of the first dimension of every component."""
        flat = [st.to_numpy(t) for t in st.flatten(tensors)]
        if not flat:
            raise InvalidArgumentError("Dataset.from_tensor_slices: expected at least one "
                                       "component, got an empty structure")
        n = None
        for i, a in enumerate(flat):
            if a.ndim == 0:
                raise InvalidArgumentError(
                    f"Dataset.from_tensor_slices: component {i} is a scalar; every component "
                    "needs a first dimension to slice")
            if n is None:
                n = a.shape[0]
            elif a.shape[0] != n:
                raise InvalidArgumentError(
                    f"Dataset.from_tensor_slices: expected all components to have the same "
                    f"first dimension, got {n} and {a.shape[0]} (component {i})")
        from ndflow.data.slices import SlicesDataset

        return SlicesDataset(tensors, flat, np.arange(n))

    @staticmethod
    def from_tensors(tensors: Any, name: str | None = None) -> Dataset:
        """A dataset with a single element."""
        element = st.element_numpy(tensors)
        return Dataset(lambda ctx: iter([element]), 1)

    @staticmethod
    def range(*args: int, dtype: Any = np.int64, name: str | None = None) -> Dataset:
        """`range(stop)`, `range(start, stop[, step])` as int64 scalars."""
        from ndflow.core.dtypes import as_dtype

        np_dtype = as_dtype(dtype).as_numpy_dtype
        r = range(*[int(a) for a in args])
        return Dataset(lambda ctx: (np.asarray(i, dtype=np_dtype) for i in r), len(r))

    @staticmethod
    def counter(start: int = 0, step: int = 1, dtype: Any = np.int64,
                name: str | None = None) -> Dataset:
        """`start, start + step, ...` forever."""
        from ndflow.core.dtypes import as_dtype

        np_dtype = as_dtype(dtype).as_numpy_dtype
        return Dataset(lambda ctx: (np.asarray(i, np_dtype) for i in
                                    itertools.count(start, step)), INFINITE)

    @staticmethod
    def random(seed: int | None = None, rerandomize_each_iteration: bool | None = None,
               name: str | None = None) -> Dataset:
        """Uniform random int64 scalars forever (seeded: the same stream each iteration unless
        `rerandomize_each_iteration=True`)."""
        rngs = RngSource(seed, bool(rerandomize_each_iteration))

        def make(ctx: IterContext) -> Iterator:
            rng = rngs.next()
            while True:
                for v in rng.integers(0, 2**63 - 1, size=256, dtype=np.int64):
                    yield np.asarray(v)

        return Dataset(make, INFINITE)

    @staticmethod
    def from_generator(generator: Callable, output_types: Any = None, output_shapes: Any = None,
                       args: Any = None, output_signature: Any = None,
                       name: str | None = None) -> Dataset:
        """Elements produced by calling `generator(*args)` afresh for each iteration; with
        `output_signature` (or types/shapes) each element is checked and cast."""
        from ndflow.data.generator import from_generator

        return from_generator(generator, output_types, output_shapes, args, output_signature)

    @staticmethod
    def zip(*datasets: Any, name: str | None = None) -> Dataset:
        """Elements are tuples (or the given structure) of the datasets' elements."""
        structure = datasets[0] if len(datasets) == 1 and not isinstance(datasets[0], Dataset) \
            else tuple(datasets)
        flat = st.flatten(structure)
        for i, d in enumerate(flat):
            if not isinstance(d, Dataset):
                raise InvalidArgumentError(
                    f"Dataset.zip: expected a (nested) structure of datasets, got "
                    f"{type(d).__name__} at position {i}; wrap arrays with "
                    "Dataset.from_tensor_slices first")

        def make(ctx: IterContext) -> Iterator:
            its = [d._iter(ctx) for d in flat]
            try:
                for els in zip(*its):
                    yield st.pack(structure, list(els))
            finally:
                for it in its:
                    close_iterator(it)

        return Dataset(make, _combine_card([d._cardinality for d in flat]), tuple(flat))

    @staticmethod
    def sample_from_datasets(datasets: list, weights: Any = None, seed: int | None = None,
                             stop_on_empty_dataset: bool = False,
                             rerandomize_each_iteration: bool | None = None) -> Dataset:
        """Each element comes from a dataset drawn at random with `weights`."""
        from ndflow.data.combine import sample_from_datasets

        return sample_from_datasets(datasets, weights, seed, stop_on_empty_dataset,
                                    rerandomize_each_iteration)

    @staticmethod
    def choose_from_datasets(datasets: list, choice_dataset: Dataset,
                             stop_on_empty_dataset: bool = True) -> Dataset:
        """Element i comes from `datasets[choice_i]` (choices: int64 scalars)."""
        from ndflow.data.combine import choose_from_datasets

        return choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset)

    @staticmethod
    def list_files(file_pattern: Any, shuffle: bool | None = None, seed: int | None = None,
                   name: str | None = None) -> Dataset:
        """File names matching glob pattern(s), shuffled unless `shuffle=False` (then sorted)."""
        from ndflow.data.readers import list_files

        return list_files(file_pattern, shuffle, seed)

    @staticmethod
    def load(path: str, element_spec: Any = None, compression: str | None = None,
             reader_func: Callable | None = None) -> Dataset:
        """A dataset written by `Dataset.save(path)`."""
        from ndflow.data.persist import load

        return load(path, compression)

    # --- iteration ------------------------------------------------------------------------------
    def __iter__(self) -> Iterator:
        it = self._iter(self._context())
        try:
            for el in it:
                yield st.to_tensors(el)
        finally:
            close_iterator(it)

    def as_numpy_iterator(self) -> Iterator:
        """Elements as NumPy arrays (scalar strings as `bytes`)."""
        it = self._iter(self._context())
        try:
            for el in it:
                yield st.to_python_numpy(el)
        finally:
            close_iterator(it)

    def get_single_element(self, name: str | None = None) -> Any:
        """The one element of a one-element dataset."""
        els = list(itertools.islice(self._iter(self._context()), 2))
        if len(els) != 1:
            raise InvalidArgumentError(
                f"Dataset.get_single_element: expected a dataset with exactly one element, "
                f"got {'none' if not els else 'more than one'}")
        return st.to_tensors(els[0])

    def cardinality(self) -> Tensor:
        """Number of elements; INFINITE (-1) or UNKNOWN (-2) when not known statically."""
        return Tensor(np.asarray(self._cardinality, np.int64))

    def __len__(self) -> int:
        if self._cardinality == INFINITE:
            raise TypeError("The dataset is infinite.")
        if self._cardinality == UNKNOWN:
            raise TypeError("The dataset length is unknown.")
        return self._cardinality

    def __bool__(self) -> bool:
        return True

    @property
    def element_spec(self) -> Any:
        from ndflow.graph.trace import TensorSpec

        it = self._iter(self._context())
        try:
            first = next(it)
        finally:
            close_iterator(it)

        def spec(a: Any) -> Any:
            if isinstance(a, Dataset):
                return a
            a = np.asarray(a)
            return TensorSpec(a.shape, "string" if a.dtype.kind == "O" else a.dtype)

        return st.map_leaves(spec, first)

    def options(self) -> Options:
        """The merged options of this pipeline (inputs first, later `with_options` win)."""
        out = Options()
        for d in self._inputs:
            out = out.merge(d.options())
        if self._own_options is not None:
            out = out.merge(self._own_options)
        return out

    def with_options(self, options: Options, name: str | None = None) -> Dataset:
        if not isinstance(options, Options):
            raise InvalidArgumentError(f"Dataset.with_options: expected tf.data.Options, got "
                                       f"{type(options).__name__}")
        src = self
        ds = self._derive(lambda ctx: src._iter(ctx), self._cardinality)
        ds._own_options = options
        return ds

    # --- element-wise transformations ----------------------------------------------------------
    def map(self, map_func: Callable, num_parallel_calls: Any = None, deterministic: Any = None,
            name: str | None = None) -> Dataset:
        """Apply `map_func` to each element (tuples are unpacked into arguments, as in TF).

        With `num_parallel_calls` (an int or `tf.data.AUTOTUNE`) calls run on a thread pool;
        outputs keep input order unless `deterministic=False` (or options say so).
        """
        stage = f"Dataset.map({_fn_name(map_func)})"
        src = self
        n = None if num_parallel_calls is None else int(num_parallel_calls)
        if n is not None and n != AUTOTUNE and n <= 0:
            raise InvalidArgumentError(f"Dataset.map: expected num_parallel_calls > 0 or "
                                       f"tf.data.AUTOTUNE, got {num_parallel_calls}")

        def make(ctx: IterContext) -> Iterator:
            def call(el: Any) -> Any:
                try:
                    return st.element_numpy(st.call_with_element(map_func, el))
                except Exception as e:
                    return _drop_or_raise(ctx, stage, e)

            up = src._iter(ctx)
            if n is None or n == 1:
                return _sequential(up, call)
            det = ctx.deterministic if deterministic is None else bool(deterministic)
            width = n if n != AUTOTUNE or ctx.options.autotune.enabled else os.cpu_count() or 1
            return parallel_map_iter(up, call, width, det, ctx.max_threads, _Dropped)

        return self._derive(make, self._cardinality)

    def filter(self, predicate: Callable, name: str | None = None) -> Dataset:
        """Keep the elements for which `predicate` returns True (a bool scalar)."""
        stage = f"Dataset.filter({_fn_name(predicate)})"
        src = self

        def make(ctx: IterContext) -> Iterator:
            it = src._iter(ctx)
            try:
                for el in it:
                    try:
                        r = np.asarray(st.to_numpy(st.call_with_element(predicate, el)))
                        if r.shape != () or r.dtype != np.bool_:
                            raise InvalidArgumentError(
                                f"expected the predicate to return a scalar bool, got "
                                f"dtype {r.dtype} shape {r.shape}")
                        keep = bool(r)
                    except Exception as e:
                        _drop_or_raise(ctx, stage, e)
                        continue
                    if keep:
                        yield el
            finally:
                close_iterator(it)

        return self._derive(make, UNKNOWN)

    def ignore_errors(self, log_warning: bool = False, name: str | None = None) -> Dataset:
        """Drop elements whose production raised an error in a stage upstream (map, filter,
        parse, decode) instead of stopping the iteration."""
        src = self
        return self._derive(lambda ctx: src._iter(ctx.dropping_errors(log_warning)), UNKNOWN)

    def scan(self, initial_state: Any, scan_func: Callable, name: str | None = None) -> Dataset:
        """Carry a state: `scan_func(state, element) -> (new_state, output)`."""
        stage = f"Dataset.scan({_fn_name(scan_func)})"
        src = self
        init = st.element_numpy(initial_state)

        def make(ctx: IterContext) -> Iterator:
            state = init
            it = src._iter(ctx)
            try:
                for el in it:
                    try:
                        args = st.to_tensors(el)
                        args = args if isinstance(args, tuple) else (args,)
                        res = scan_func(st.to_tensors(state), *args)
                        if not isinstance(res, tuple) or len(res) != 2:
                            raise InvalidArgumentError(
                                "expected scan_func to return (new_state, output), got "
                                + type(res).__name__)
                        new_state = st.element_numpy(res[0])
                        if st.signature(new_state) != st.signature(state):
                            raise InvalidArgumentError(
                                f"the new state's structure {_describe(new_state)} differs "
                                f"from the initial state's {_describe(state)}")
                        state = new_state
                        out = st.element_numpy(res[1])
                    except Exception as e:
                        raise st.stage_error(stage, e) from e
                    yield out
            finally:
                close_iterator(it)

        return self._derive(make, self._cardinality)

    def unique(self, name: str | None = None) -> Dataset:
        """Drop repeats of scalar int or string elements (first occurrence kept)."""
        src = self

        def make(ctx: IterContext) -> Iterator:
            seen: set = set()
            for el in src._iter(ctx):
                a = np.asarray(el, dtype=object if isinstance(el, bytes) else None) \
                    if not isinstance(el, (dict, tuple)) else None
                if a is None or a.ndim != 0 or a.dtype.kind not in "iuO":
                    raise InvalidArgumentError(
                        "Dataset.unique: expected scalar int or string elements, got "
                        f"{_describe(el)}")
                key = a.item()
                if key not in seen:
                    seen.add(key)
                    yield el

        return self._derive(make, UNKNOWN)

    def enumerate(self, start: int = 0, name: str | None = None) -> Dataset:
        src = self
        return self._derive(lambda ctx: ((np.asarray(i, np.int64), el) for i, el in
                                         enumerate(src._iter(ctx), start)), self._cardinality)

    def take_while(self, predicate: Callable, name: str | None = None) -> Dataset:
        src = self

        def make(ctx: IterContext) -> Iterator:
            for el in src._iter(ctx):
                if not bool(np.asarray(st.to_numpy(st.call_with_element(predicate, el)))):
                    return
                yield el

        return self._derive(make, UNKNOWN)

    # --- batching -------------------------------------------------------------------------------
    def batch(self, batch_size: int, drop_remainder: bool = False,
              num_parallel_calls: Any = None, deterministic: Any = None,
              name: str | None = None) -> Dataset:
        """Stack consecutive elements into batches of `batch_size` (the last may be smaller).

        With `num_parallel_calls` (an int or `tf.data.AUTOTUNE`), elements are read in order
        and several batches are stacked at once on a thread pool (as TF copies them in
        parallel); batches keep their order unless `deterministic=False`.
        """
        batch_size = _positive("Dataset.batch", "batch_size", batch_size)
        src = self
        n = None if num_parallel_calls is None else int(num_parallel_calls)
        if n is not None and n != AUTOTUNE and n <= 0:
            raise InvalidArgumentError(f"Dataset.batch: expected num_parallel_calls > 0 or "
                                       f"tf.data.AUTOTUNE, got {num_parallel_calls}")

        def make(ctx: IterContext) -> Iterator:
            it = src._iter(ctx)

            def chunks() -> Iterator:
                try:
                    while True:
                        chunk = list(itertools.islice(it, batch_size))
                        if not chunk or (drop_remainder and len(chunk) < batch_size):
                            return
                        yield chunk
                finally:
                    close_iterator(it)

            def stack_chunk(chunk: list) -> Any:
                return stack(chunk, "Dataset.batch")

            if n is None or n == 1:
                return _sequential(chunks(), stack_chunk)
            det = ctx.deterministic if deterministic is None else bool(deterministic)
            width = n if n != AUTOTUNE or ctx.options.autotune.enabled else os.cpu_count() or 1
            return parallel_map_iter(chunks(), stack_chunk, width, det, ctx.max_threads)

        return self._derive(make, batched_card(self._cardinality, batch_size, drop_remainder))

    def unbatch(self, name: str | None = None) -> Dataset:
        """Split each element along its first dimension."""
        src = self

        def make(ctx: IterContext) -> Iterator:
            for el in src._iter(ctx):
                flat = st.flatten(el)
                n = {np.shape(a)[0] if np.ndim(a) else None for a in flat}
                if None in n or len(n) != 1:
                    raise InvalidArgumentError(
                        f"Dataset.unbatch: expected every component to have the same first "
                        f"dimension, got shapes {[np.shape(a) for a in flat]}")
                for i in range(n.pop()):
                    yield st.pack(el, [a[i] for a in flat])

        return self._derive(make, UNKNOWN)

    def padded_batch(self, batch_size: int, padded_shapes: Any = None, padding_values: Any = None,
                     drop_remainder: bool = False, name: str | None = None) -> Dataset:
        """Batch elements of different shapes, padding each component (to `padded_shapes`, or
        to the largest in the batch where a dimension is None/-1)."""
        batch_size = _positive("Dataset.padded_batch", "batch_size", batch_size)
        src = self

        def make(ctx: IterContext) -> Iterator:
            it = src._iter(ctx)
            while True:
                chunk = list(itertools.islice(it, batch_size))
                if not chunk or (drop_remainder and len(chunk) < batch_size):
                    return
                yield pad_stack(chunk, padded_shapes, padding_values, "Dataset.padded_batch")

        return self._derive(make, batched_card(self._cardinality, batch_size, drop_remainder))

    def rebatch(self, batch_size: Any, drop_remainder: bool = False,
                name: str | None = None) -> Dataset:
        """Re-slice a batched stream into batches of `batch_size` (an int, or a list of sizes
        used in turn)."""
        from ndflow.data.grouping import rebatch

        return rebatch(self, batch_size, drop_remainder)

    def window(self, size: int, shift: int | None = None, stride: int = 1,
               drop_remainder: bool = False, name: str | None = None) -> Dataset:
        """Elements become windows: nested structures of datasets of `size` elements."""
        from ndflow.data.grouping import window

        return window(self, size, shift, stride, drop_remainder)

    def group_by_window(self, key_func: Callable, reduce_func: Callable,
                        window_size: int | None = None, window_size_func: Callable | None = None,
                        name: str | None = None) -> Dataset:
        """Group elements by `key_func` into windows reduced by `reduce_func(key, window_ds)`."""
        from ndflow.data.grouping import group_by_window

        return group_by_window(self, key_func, reduce_func, window_size, window_size_func)

    def bucket_by_sequence_length(self, element_length_func: Callable, bucket_boundaries: list,
                                  bucket_batch_sizes: list, padded_shapes: Any = None,
                                  padding_values: Any = None,
                                  pad_to_bucket_boundary: bool = False, no_padding: bool = False,
                                  drop_remainder: bool = False, name: str | None = None
                                  ) -> Dataset:
        """Batch sequences of similar length together (padding within each bucket)."""
        from ndflow.data.grouping import bucket_by_sequence_length

        return bucket_by_sequence_length(self, element_length_func, bucket_boundaries,
                                         bucket_batch_sizes, padded_shapes, padding_values,
                                         pad_to_bucket_boundary, no_padding, drop_remainder)

    # --- order, size -------------------------------------------------------------------------
    def shuffle(self, buffer_size: int, seed: int | None = None,
                reshuffle_each_iteration: bool = True, name: str | None = None) -> Dataset:
        """Shuffle with a buffer of `buffer_size` elements (TF's semantics)."""
        buffer_size = _positive("Dataset.shuffle", "buffer_size", buffer_size)
        src = self
        rngs = RngSource(seed, reshuffle_each_iteration)

        def make(ctx: IterContext) -> Iterator:
            rng = rngs.next()
            buf: list = []
            for el in src._iter(ctx):
                if len(buf) < buffer_size:
                    buf.append(el)
                    continue
                i = int(rng.integers(len(buf)))
                yield buf[i]
                buf[i] = el
            rng.shuffle(buf)
            yield from buf

        return self._derive(make, self._cardinality)

    def repeat(self, count: int | None = None, name: str | None = None) -> Dataset:
        src = self
        count = -1 if count is None else int(count)
        infinite = count < 0

        def make(ctx: IterContext) -> Iterator:
            n = 0
            while infinite or n < count:
                empty = True
                for el in src._iter(ctx):
                    empty = False
                    yield el
                if empty:
                    return
                n += 1

        c = self._cardinality
        if c == 0 or count == 0:
            card = 0
        elif infinite or c == INFINITE:
            card = INFINITE if c != UNKNOWN else UNKNOWN
        else:
            card = c * count if c >= 0 else UNKNOWN
        return self._derive(make, card)

    def take(self, count: int, name: str | None = None) -> Dataset:
        src = self
        count = int(count)
        c = self._cardinality
        if count < 0:
            card = c
        elif c == INFINITE:
            card = count
        else:
            card = min(c, count) if c >= 0 else UNKNOWN

        def make(ctx: IterContext) -> Iterator:
            it = src._iter(ctx)
            try:
                yield from itertools.islice(it, count if count >= 0 else None)
            finally:
                close_iterator(it)

        return self._derive(make, card)

    def skip(self, count: int, name: str | None = None) -> Dataset:
        src = self
        count = int(count)
        c = self._cardinality
        if count < 0:
            card = 0 if c >= 0 else (UNKNOWN if c == UNKNOWN else 0)
        else:
            card = c if c < 0 else max(c - count, 0)
        return self._derive(lambda ctx: itertools.islice(src._iter(ctx),
                                                         count if count >= 0 else None, None)
                            if count >= 0 else iter(()), card)

    def shard(self, num_shards: int, index: int, name: str | None = None) -> Dataset:
        """Every `num_shards`-th element starting at `index` (one worker's share)."""
        num_shards = _positive("Dataset.shard", "num_shards", num_shards)
        index = int(index)
        if not 0 <= index < num_shards:
            raise InvalidArgumentError(f"Dataset.shard: expected 0 <= index < num_shards "
                                       f"({num_shards}), got index={index}")
        src = self
        c = self._cardinality
        card = c if c < 0 else c // num_shards + (1 if index < c % num_shards else 0)
        return self._derive(lambda ctx: itertools.islice(src._iter(ctx), index, None,
                                                         num_shards), card)

    def concatenate(self, dataset: Dataset, name: str | None = None) -> Dataset:
        a, b = self, dataset
        ca, cb = a._cardinality, b._cardinality
        if INFINITE in (ca, cb):
            card = INFINITE
        elif UNKNOWN in (ca, cb):
            card = UNKNOWN
        else:
            card = ca + cb

        def make(ctx: IterContext) -> Iterator:
            first = None
            for el in a._iter(ctx):
                if first is None:
                    first = _kinds(el)
                yield el
            checked = False
            for el in b._iter(ctx):
                if not checked and first is not None and _kinds(el) != first:
                    raise InvalidArgumentError(
                        f"Dataset.concatenate: expected elements like the first dataset's "
                        f"{_describe(first_el(a, ctx))}, got {_describe(el)} from the second")
                checked = True
                yield el

        return self._derive(make, card, (b,))

    # --- nesting ---------------------------------------------------------------------------------
    def interleave(self, map_func: Callable, cycle_length: int | None = None,
                   block_length: int | None = None, num_parallel_calls: Any = None,
                   deterministic: Any = None, name: str | None = None) -> Dataset:
        """Map each element to a dataset and mix them: `cycle_length` open at once, taking
        `block_length` consecutive elements from each in turn (TF's order)."""
        from ndflow.data.combine import interleave

        return interleave(self, map_func, cycle_length, block_length, num_parallel_calls,
                          deterministic)

    def flat_map(self, map_func: Callable, name: str | None = None) -> Dataset:
        """Map each element to a dataset and concatenate them."""
        from ndflow.data.combine import interleave

        return interleave(self, map_func, 1, 1, None, None, stage="Dataset.flat_map")

    # --- performance ---------------------------------------------------------------------------
    def prefetch(self, buffer_size: int, name: str | None = None) -> Dataset:
        """Produce elements ahead on a background thread into a buffer of `buffer_size`
        (`tf.data.AUTOTUNE` grows it while the consumer has to wait)."""
        buffer_size = int(buffer_size)
        if buffer_size == 0:
            return self
        if buffer_size < 0 and buffer_size != AUTOTUNE:
            raise InvalidArgumentError(f"Dataset.prefetch: expected buffer_size >= 0 or "
                                       f"tf.data.AUTOTUNE, got {buffer_size}")
        src = self

        def make(ctx: IterContext) -> Iterator:
            size = buffer_size
            if size == AUTOTUNE and not ctx.options.autotune.enabled:
                size = 1  # autotuning off: a fixed one-element buffer
            return prefetch_iter(lambda: src._iter(ctx), size)

        return self._derive(make, self._cardinality)

    def cache(self, filename: str = "", name: str | None = None) -> Dataset:
        """Keep the elements of the first complete iteration (in memory, or in `filename` on
        disk) and replay them afterwards."""
        if filename:
            from ndflow.data.persist import file_cache

            return file_cache(self, os.fspath(filename))
        src = self
        store: list = []
        done = [False]

        def make(ctx: IterContext) -> Iterator:
            if done[0]:
                yield from store
                return
            fresh: list = []
            for el in src._iter(ctx):
                fresh.append(el)
                yield el
            store[:] = fresh
            done[0] = True

        return self._derive(make, self._cardinality)

    def save(self, path: str, compression: str | None = None, shard_func: Callable | None = None,
             checkpoint_args: Any = None) -> None:
        """Write the elements to the directory `path` (read back with `Dataset.load`); one
        shard (a `shard_func` is refused, since ndflow writes a single shard)."""
        from ndflow.data.persist import save

        if shard_func is not None:
            raise InvalidArgumentError("Dataset.save: expected shard_func=None (ndflow writes "
                                       "one shard), got a function")
        save(self, os.fspath(path), compression)

    def snapshot(self, path: str, compression: str | None = "AUTO",
                 reader_func: Callable | None = None, shard_func: Callable | None = None,
                 name: str | None = None) -> Dataset:
        """Write the elements to `path` on the first full iteration; read them from there on
        later iterations (and in later programs)."""
        from ndflow.data.persist import snapshot

        return snapshot(self, os.fspath(path), compression)

    # --- misc -------------------------------------------------------------------------------------
    def apply(self, transformation_func: Callable) -> Dataset:
        return transformation_func(self)

    def reduce(self, initial_state: Any, reduce_func: Callable) -> Any:
        state = initial_state
        for el in self:
            state = reduce_func(state, el)
        return state

    def __repr__(self) -> str:
        return f"<Dataset cardinality={self._cardinality}>"


def _sequential(up: Iterator, call: Callable) -> Iterator:
    try:
        for el in up:
            out = call(el)
            if not isinstance(out, _Dropped):
                yield out
    finally:
        close_iterator(up)


def _kinds(el: Any) -> Any:
    """Structure and dtype kinds of an element (what concatenate requires to agree)."""
    return (st.signature(el), tuple("O" if isinstance(v, bytes) else
                                    getattr(np.asarray(v), "dtype", np.dtype("O")).kind
                                    if not hasattr(v, "_make_iter") else "D"
                                    for v in st.flatten(el)))


def first_el(ds: Dataset, ctx: IterContext) -> Any:
    it = ds._iter(ctx)
    try:
        return next(it, None)
    finally:
        close_iterator(it)


_describe = st.describe
